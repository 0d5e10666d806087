import { AppError, ledgerCsv, parseLedgerFilter } from "@lucid/core";
import { errorResponse } from "../../../lib/http.ts";
import { platform } from "../../../lib/platform.ts";
import { currentViewer } from "../../../lib/session.ts";

export const dynamic = "force-dynamic";

// The signed-in workspace's ledger as CSV, with the usage page's filters (kind, from, to).
export async function GET(req: Request) {
  try {
    const viewer = await currentViewer();
    if (!viewer) throw new AppError("unauthenticated", "Sign in to download the ledger.");
    const url = new URL(req.url);
    const filter = parseLedgerFilter({ kind: url.searchParams.get("kind"), from: url.searchParams.get("from"), to: url.searchParams.get("to") });
    const rows = ledgerCsv(platform(), viewer.workspace.id, filter);
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const next = await rows.next();
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(next.value));
      },
      async cancel() {
        await rows.return(undefined);
      },
    });
    const day = new Date().toISOString().slice(0, 10);
    return new Response(body, {
      headers: {
        "content-type": "text/csv; charset=utf-8",
        "content-disposition": `attachment; filename="lucid-ledger-${day}.csv"`,
        "cache-control": "no-store",
      },
    });
  } catch (err) {
    return errorResponse(err);
  }
}
