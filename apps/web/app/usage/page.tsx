import Link from "next/link";
import { AppError, LEDGER_KINDS, dailySpend, listLedger, parseLedgerFilter, spendSummary, type LedgerFilter } from "@lucid/core";
import { platform } from "../../lib/platform.ts";
import { requireViewer } from "../../lib/session.ts";
import { DebtNotice } from "../billing/debt-notice.tsx";
import { SpendChart } from "./spend-chart.tsx";

type Query = { kind?: string; from?: string; to?: string; page?: string };

export default async function UsagePage({ searchParams }: { searchParams: Promise<Query> }) {
  const viewer = await requireViewer();
  const p = platform();
  const q = await searchParams;
  let filter: LedgerFilter = {};
  let filterError: string | null = null;
  try {
    filter = parseLedgerFilter(q);
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    filterError = err.message;
  }
  const page = Math.max(1, Number.parseInt(q.page ?? "1", 10) || 1);
  const [summary, days, ledger] = await Promise.all([
    spendSummary(p, viewer.workspace.id),
    dailySpend(p, viewer.workspace.id, 30),
    listLedger(p, viewer.workspace.id, filter, { page, pageSize: 25 }),
  ]);
  const params = (extra: Record<string, string | number>) => {
    const s = new URLSearchParams();
    for (const [k, v] of Object.entries({ kind: q.kind ?? "", from: q.from ?? "", to: q.to ?? "", ...extra })) if (v !== "") s.set(k, String(v));
    const str = s.toString();
    return str ? `?${str}` : "";
  };
  return (
    <div>
      <h1>Usage</h1>
      <p>
        Balance: <strong data-testid="usage-balance">{summary.balance}</strong> credits in {viewer.workspace.name}. Spent this month (UTC):{" "}
        <strong>{summary.spentThisMonth}</strong>
        {summary.monthlySpendLimit !== null && <> of {summary.monthlySpendLimit}</>} credits. <Link href="/billing">Billing</Link>
      </p>
      <DebtNotice debt={summary.debt} />

      <h2>Credits spent per day (last 30 days, UTC)</h2>
      <SpendChart days={days} />

      <h2>Ledger</h2>
      <form method="get" action="/usage" className="row" style={{ alignItems: "flex-end" }}>
        <div>
          <label htmlFor="kind">Kind</label>
          <select id="kind" name="kind" defaultValue={q.kind ?? ""}>
            <option value="">All</option>
            {LEDGER_KINDS.map((k) => <option key={k} value={k}>{k}</option>)}
          </select>
        </div>
        <div>
          <label htmlFor="from">From</label>
          <input id="from" name="from" type="date" defaultValue={q.from ?? ""} />
        </div>
        <div>
          <label htmlFor="to">To</label>
          <input id="to" name="to" type="date" defaultValue={q.to ?? ""} />
        </div>
        <div style={{ flex: "0 0 auto" }}><button type="submit">Filter</button></div>
        <div style={{ flex: "0 0 auto" }}>
          <a className="button" href={`/usage/ledger.csv${params({})}`} download data-testid="ledger-csv">Download CSV</a>
        </div>
      </form>
      {filterError && <p className="error" role="alert">{filterError}</p>}
      <p className="muted">{ledger.total} entries</p>
      <table data-testid="ledger">
        <thead><tr><th>When (UTC)</th><th>Kind</th><th>Credits</th><th>Balance after</th><th>Reason</th></tr></thead>
        <tbody>
          {ledger.rows.map((r) => (
            <tr key={r.id} data-testid="ledger-row" data-kind={r.kind}>
              <td>{r.createdAt.toISOString().replace("T", " ").slice(0, 19)}</td>
              <td>{r.kind}</td>
              <td>{r.amount > 0 ? `+${r.amount}` : r.amount}</td>
              <td>{r.balanceAfter}</td>
              <td>{r.reason}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="row" style={{ justifyContent: "space-between" }}>
        <span>{ledger.page > 1 && <Link href={`/usage${params({ page: ledger.page - 1 })}`}>← Newer</Link>}</span>
        <span className="muted">Page {ledger.page} of {ledger.pageCount}</span>
        <span style={{ textAlign: "right" }}>{ledger.page < ledger.pageCount && <Link href={`/usage${params({ page: ledger.page + 1 })}`}>Older →</Link>}</span>
      </p>
    </div>
  );
}
