"use server";

import { notFound, redirect } from "next/navigation";
import { AppError, isOperator, operatorAdjustCredits } from "@lucid/core";
import { platform } from "../../lib/platform.ts";
import { currentViewer } from "../../lib/session.ts";

/** Operator-only: a grant or adjustment with a reason (ledger entry + audit row in one transaction). */
export async function adjustCreditsAction(form: FormData): Promise<void> {
  const viewer = await currentViewer();
  const p = platform();
  if (!viewer || !(await isOperator(p, viewer.user.id))) notFound();
  const workspaceId = String(form.get("workspaceId") ?? "");
  const back = new URLSearchParams({ workspace: workspaceId });
  try {
    const r = await operatorAdjustCredits(p, viewer.user.id, {
      workspaceId,
      action: form.get("action") === "grant" ? "grant" : "adjustment",
      amount: String(form.get("amount") ?? ""),
      reason: String(form.get("reason") ?? ""),
    });
    back.set("done", String(r.balance));
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    back.set("error", err.message);
  }
  redirect(`/admin?${back}`);
}
