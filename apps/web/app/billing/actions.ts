"use server";

import { redirect } from "next/navigation";
import { AppError, setMonthlySpendLimit } from "@lucid/core";
import { platform } from "../../lib/platform.ts";
import { requireViewer } from "../../lib/session.ts";

/** Owner-only: the monthly spend limit (empty = unlimited). The outcome comes back in the query string. */
export async function setSpendLimitAction(form: FormData): Promise<void> {
  const viewer = await requireViewer();
  let target = "/billing?limit=saved";
  try {
    await setMonthlySpendLimit(platform(), { workspaceId: viewer.workspace.id, role: viewer.role }, String(form.get("monthlySpendLimit") ?? ""));
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    target = `/billing?limitError=${encodeURIComponent(err.message)}`;
  }
  redirect(target);
}
