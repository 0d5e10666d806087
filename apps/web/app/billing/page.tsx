import { can, creditPacks } from "@lucid/core";
import { platform } from "../../lib/platform.ts";
import { requireViewer } from "../../lib/session.ts";
import { checkoutAction } from "../actions.ts";

const money = (cents: number, currency: string) => new Intl.NumberFormat("en", { style: "currency", currency }).format(cents / 100);

export default async function BillingPage({ searchParams }: { searchParams: Promise<{ canceled?: string }> }) {
  const viewer = await requireViewer();
  const p = platform();
  const { canceled } = await searchParams;
  return (
    <div>
      <h1>Credits</h1>
      <p>Balance: <strong data-testid="billing-balance">{viewer.workspace.creditBalance}</strong> credits in {viewer.workspace.name}.</p>
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
    </div>
  );
}
