"use server";

import { revalidatePath } from "next/cache";
import { AppError, actorOf, createApiKey, requirePermission } from "@lucid/core";
import { API_KEY_SCOPES } from "@lucid/contracts";
import { platform } from "../../../lib/platform.ts";
import { requireViewer } from "../../../lib/session.ts";

export type CreateKeyState = { key?: string; name?: string; error?: string; fields?: Record<string, string> } | null;

/** Creates a key from the settings form: name, scopes, optional expiry date (end of that day, UTC) and monthly credit cap. */
export async function createScopedKeyAction(_prev: CreateKeyState, form: FormData): Promise<CreateKeyState> {
  const viewer = await requireViewer();
  const expires = String(form.get("expiresOn") ?? "").trim();
  const cap = String(form.get("monthlyCreditCap") ?? "").trim();
  const input = {
    name: String(form.get("name") ?? ""),
    scopes: API_KEY_SCOPES.filter((s) => form.get(`scope:${s}`) === "on"),
    ...(expires ? { expiresAt: /^\d{4}-\d{2}-\d{2}$/.test(expires) ? `${expires}T23:59:59.999Z` : expires } : {}),
    ...(cap ? { monthlyCreditCap: Number(cap) } : {}),
  };
  try {
    await requirePermission(platform(), actorOf(viewer), "manage_keys");
    const created = await createApiKey(platform(), viewer.workspace.id, viewer.user.id, input);
    revalidatePath("/settings/keys");
    return { key: created.key, name: created.name };
  } catch (err) {
    if (err instanceof AppError) return { error: err.message, fields: Object.fromEntries((err.fields ?? []).map((f) => [f.field, f.message])) };
    throw err;
  }
}
