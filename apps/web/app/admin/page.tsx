import Link from "next/link";
import { notFound } from "next/navigation";
import { findWorkspaces, isOperator, listAuditLog, listLedger } from "@lucid/core";
import { platform } from "../../lib/platform.ts";
import { currentViewer } from "../../lib/session.ts";
import { adjustCreditsAction } from "./actions.ts";

export const metadata = { title: "Admin · Lucid", robots: { index: false } };
const when = (d: Date) => d.toISOString().replace("T", " ").slice(0, 19);

// Operators only; everyone else gets the ordinary 404, so the page does not admit it exists.
export default async function AdminPage({ searchParams }: { searchParams: Promise<{ q?: string; workspace?: string; done?: string; error?: string }> }) {
  const viewer = await currentViewer();
  const p = platform();
  if (!viewer || !(await isOperator(p, viewer.user.id))) notFound();
  const { q, workspace: workspaceId, done, error } = await searchParams;
  const results = q ? await findWorkspaces(p, viewer.user.id, q) : [];
  const selected = workspaceId ? (await findWorkspaces(p, viewer.user.id, workspaceId))[0] : undefined;
  const [ledger, audit] = await Promise.all([
    selected ? listLedger(p, selected.id, {}, { pageSize: 50 }) : null,
    listAuditLog(p, viewer.user.id, { workspaceId: selected?.id, limit: 50 }),
  ]);
  return (
    <div>
      <h1>Admin</h1>
      <form method="get" action="/admin" className="row" style={{ alignItems: "flex-end", maxWidth: 640 }}>
        <div>
          <label htmlFor="q">Find a workspace (member email or workspace id)</label>
          <input id="q" name="q" defaultValue={q ?? ""} placeholder="ada@example.com" />
        </div>
        <div style={{ flex: "0 0 auto" }}><button type="submit">Find</button></div>
      </form>
      {q && (
        <table data-testid="admin-results" style={{ marginTop: 12 }}>
          <thead><tr><th>Workspace</th><th>Members</th><th>Balance</th><th /></tr></thead>
          <tbody>
            {results.length === 0 && <tr><td colSpan={4} className="muted">No workspace matches “{q}”.</td></tr>}
            {results.map((w) => (
              <tr key={w.id}>
                <td>{w.name} <span className="muted">({w.kind}, {w.id})</span></td>
                <td>{w.members.map((m) => `${m.email} (${m.role})`).join(", ")}</td>
                <td>{w.creditBalance}</td>
                <td><Link href={`/admin?workspace=${w.id}`}>Open</Link></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      {workspaceId && !selected && <p className="error">Workspace {workspaceId} was not found.</p>}
      {selected && (
        <section data-testid="admin-workspace">
          <h2>{selected.name}</h2>
          <p>
            <span className="muted">{selected.id} · {selected.members.map((m) => m.email).join(", ")}</span><br />
            Balance: <strong data-testid="admin-balance">{selected.creditBalance}</strong> credits
            {selected.monthlySpendLimit !== null && <> · monthly limit {selected.monthlySpendLimit}</>}
          </p>
          {done !== undefined && <p className="notice" data-testid="admin-done">Saved. New balance: {done} credits.</p>}
          {error && <p className="error" role="alert">{error}</p>}
          <form action={adjustCreditsAction} className="card" style={{ maxWidth: 640 }}>
            <h3>Grant or adjust credits</h3>
            <input type="hidden" name="workspaceId" value={selected.id} />
            <div className="row">
              <div>
                <label htmlFor="action">Action</label>
                <select id="action" name="action" defaultValue="adjustment">
                  <option value="grant">Grant (positive)</option>
                  <option value="adjustment">Adjust (+ or −)</option>
                </select>
              </div>
              <div>
                <label htmlFor="amount">Credits</label>
                <input id="amount" name="amount" type="number" step={1} required />
              </div>
            </div>
            <label htmlFor="reason">Reason (recorded in the audit log)</label>
            <input id="reason" name="reason" required minLength={3} />
            <p><button type="submit">Apply</button></p>
          </form>

          <h3>Ledger (latest 50 of {ledger!.total})</h3>
          <table data-testid="admin-ledger">
            <thead><tr><th>When (UTC)</th><th>Kind</th><th>Credits</th><th>Balance after</th><th>Reason</th></tr></thead>
            <tbody>
              {ledger!.rows.map((r) => (
                <tr key={r.id}><td>{when(r.createdAt)}</td><td>{r.kind}</td><td>{r.amount}</td><td>{r.balanceAfter}</td><td>{r.reason}</td></tr>
              ))}
            </tbody>
          </table>
        </section>
      )}

      <h2>Audit log{selected ? ` for ${selected.name}` : ""}</h2>
      <table data-testid="audit-log">
        <thead><tr><th>When (UTC)</th><th>Operator</th><th>Workspace</th><th>Action</th><th>Credits</th><th>Reason</th></tr></thead>
        <tbody>
          {audit.length === 0 && <tr><td colSpan={6} className="muted">Nothing yet.</td></tr>}
          {audit.map((a) => (
            <tr key={a.id} data-testid="audit-row">
              <td>{when(a.createdAt)}</td><td>{a.actorEmail}</td><td><Link href={`/admin?workspace=${a.workspaceId}`}>{a.workspaceId.slice(0, 8)}</Link></td>
              <td>{a.action}</td><td>{a.amount}</td><td>{a.reason}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
