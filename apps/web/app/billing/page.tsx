import Link from "next/link";
import { can, creditPacks, listPurchases, spendSummary } from "@lucid/core";
import { platform } from "../../lib/platform.ts";
import { requireViewer } from "../../lib/session.ts";
import { checkoutAction } from "../actions.ts";
import { setSpendLimitAction } from "./actions.ts";
import { DebtNotice } from "./debt-notice.tsx";

const money = (cents: number, currency: string) => new Intl.NumberFormat("en", { style: "currency", currency }).format(cents / 100);
const when = (d: Date) => d.toISOString().replace("T", " ").slice(0, 16) + " UTC";

export default async function BillingPage({ searchParams }: { searchParams: Promise<{ canceled?: string; limit?: string; limitError?: string }> }) {
  const viewer = await requireViewer();
  const p = platform();
  const { canceled, limit, limitError } = await searchParams;
  const [summary, purchases] = await Promise.all([spendSummary(p, viewer.workspace.id), listPurchases(p, viewer.workspace.id)]);
  return (
    <div>
      <h1>Credits</h1>
      <p>Balance: <strong data-testid="billing-balance">{summary.balance}</strong> credits in {viewer.workspace.name}. <Link href="/usage">Usage and ledger</Link></p>
      <DebtNotice debt={summary.debt} />
      {canceled && <p className="notice">Checkout was canceled; nothing was charged.</p>}
      {!p.stripe ? (
        <p className="notice" data-testid="billing-not-configured">
          Billing is not configured on this server. An operator can grant credits with <code>npm run lucid -- credits:grant</code>.
        </p>
      ) : !can(viewer.role, "buy_credits") ? (
        <p className="notice" data-testid="billing-role-notice">Only owners and admins buy credits for {viewer.workspace.name}; you are a {viewer.role} here.</p>
      ) : (
        <div className="grid">
          {creditPacks(p).map((pack) => (
            <form key={pack.id} action={checkoutAction} className="card">
              <h3>{pack.name}</h3>
              <p>{money(pack.unitAmount, pack.currency)}</p>
              <input type="hidden" name="pack" value={pack.id} />
              <button type="submit" data-testid={`buy-${pack.id}`}>Buy {pack.credits} credits</button>
            </form>
          ))}
        </div>
      )}

      <h2>Monthly spend limit</h2>
      <p className="muted">
        Spent this month (UTC): <strong data-testid="spent-this-month">{summary.spentThisMonth}</strong> credits
        {summary.monthlySpendLimit === null ? " — no limit." : <> of a <strong data-testid="spend-limit">{summary.monthlySpendLimit}</strong>-credit limit.</>}{" "}
        New generations that would pass the limit are refused.
      </p>
      {limit === "saved" && <p className="notice" data-testid="spend-limit-saved">Spend limit saved.</p>}
      {limitError && <p className="error" role="alert">{limitError}</p>}
      {viewer.role === "owner" ? (
        <form action={setSpendLimitAction} className="row" style={{ maxWidth: 480 }}>
          <div>
            <label htmlFor="monthlySpendLimit">Credits per month (empty = unlimited)</label>
            <input id="monthlySpendLimit" name="monthlySpendLimit" type="number" min={0} step={1} defaultValue={summary.monthlySpendLimit ?? ""} />
          </div>
          <div style={{ flex: "0 0 auto", alignSelf: "flex-end" }}>
            <button type="submit">Save limit</button>
          </div>
        </form>
      ) : (
        <p className="muted">Only an owner of this workspace can change the limit.</p>
      )}

      <h2>Purchases</h2>
      {purchases.length === 0 ? (
        <p className="muted">No purchases yet.</p>
      ) : (
        <table data-testid="purchases">
          <thead><tr><th>Date</th><th>Credits</th><th>Amount</th><th>Status</th><th>Receipt</th></tr></thead>
          <tbody>
            {purchases.map((pu) => (
              <tr key={pu.id} data-testid="purchase" data-status={pu.status}>
                <td>{when(pu.createdAt)}</td>
                <td>{pu.credits}{pu.creditsRefunded > 0 && <span className="muted"> ({pu.creditsRefunded} refunded)</span>}</td>
                <td>{money(pu.amountTotal, pu.currency)}</td>
                <td>
                  {pu.status === "paid" ? "Paid" : pu.status === "processing" ? "Processing — credits are added when the payment clears" : "Failed"}
                  {pu.failureMessage && <div className="error">{pu.failureMessage}</div>}
                </td>
                <td>{pu.receiptUrl ? <a href={pu.receiptUrl} target="_blank" rel="noreferrer">Receipt</a> : "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
