"use server";

import { revalidatePath } from "next/cache";
import {
  AppError,
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  revealWebhookSecret,
  setWebhookEndpointEnabled,
  workspaceWebhookSecret,
} from "@lucid/core";
import { platform } from "../../../lib/platform.ts";
import { requireViewer } from "../../../lib/session.ts";

export type CreateEndpointState = { secret?: string; url?: string; error?: string } | null;

export async function createEndpointAction(_prev: CreateEndpointState, form: FormData): Promise<CreateEndpointState> {
  const viewer = await requireViewer();
  try {
    const input = { url: String(form.get("url") ?? ""), events: form.getAll("events").map(String) };
    const { endpoint, secret } = await createWebhookEndpoint(platform(), viewer.workspace.id, viewer.user.id, input);
    revalidatePath("/settings/webhooks");
    return { secret, url: endpoint.url };
  } catch (err) {
    if (err instanceof AppError) return { error: err.message };
    throw err;
  }
}

export async function setEndpointEnabledAction(form: FormData): Promise<void> {
  const viewer = await requireViewer();
  await setWebhookEndpointEnabled(platform(), viewer.workspace.id, String(form.get("endpointId") ?? ""), form.get("enabled") === "1");
  revalidatePath("/settings/webhooks");
}

export async function deleteEndpointAction(form: FormData): Promise<void> {
  const viewer = await requireViewer();
  await deleteWebhookEndpoint(platform(), viewer.workspace.id, String(form.get("endpointId") ?? ""));
  revalidatePath("/settings/webhooks");
}

export type RevealState = { secret?: string; error?: string } | null;

/** An endpoint's secret, or (no endpointId) the workspace secret that signs generations' own webhook_url: owners only. */
export async function revealSecretAction(_prev: RevealState, form: FormData): Promise<RevealState> {
  const viewer = await requireViewer();
  try {
    const endpointId = String(form.get("endpointId") ?? "");
    if (endpointId) return { secret: await revealWebhookSecret(platform(), { workspaceId: viewer.workspace.id, role: viewer.role }, endpointId) };
    if (viewer.role !== "owner") throw new AppError("forbidden", "Only workspace owners can see webhook signing secrets.");
    return { secret: workspaceWebhookSecret(platform(), viewer.workspace.id) };
  } catch (err) {
    if (err instanceof AppError) return { error: err.message };
    throw err;
  }
}
