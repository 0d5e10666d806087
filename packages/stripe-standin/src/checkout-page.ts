import type { CheckoutSession, Charge, LineItem } from "./objects.ts";

/** Amounts are in the currency's minor unit; Intl knows how many decimals each currency has. */
export function formatAmount(amount: number, currency: string): string {
  const format = new Intl.NumberFormat("en-US", { style: "currency", currency: currency.toUpperCase() });
  return format.format(amount / 10 ** (format.resolvedOptions().maximumFractionDigits ?? 2));
}

/** Stripe fills the `{CHECKOUT_SESSION_ID}` template in success_url with the session id. */
export function successRedirectUrl(session: CheckoutSession): string {
  return (session.success_url ?? "").replaceAll("{CHECKOUT_SESSION_ID}", session.id);
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c);

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
  body { font-family: system-ui, sans-serif; background: #f6f9fc; color: #1a1f36; margin: 0; }
  main { max-width: 28rem; margin: 3rem auto; background: #fff; padding: 2rem; border-radius: 8px; box-shadow: 0 2px 8px #0001; }
  .test-mode { display: inline-block; background: #ffde92; color: #6b4300; font-size: .75rem; font-weight: 600; padding: .1rem .5rem; border-radius: 4px; }
  h1 { font-size: 2rem; margin: .5rem 0 1rem; }
  ul { list-style: none; padding: 0; } li { display: flex; justify-content: space-between; padding: .25rem 0; }
  label { display: block; margin: 1rem 0; } input { display: block; width: 100%; box-sizing: border-box; padding: .5rem; margin-top: .25rem; }
  button { width: 100%; padding: .75rem; background: #635bff; color: #fff; border: 0; border-radius: 6px; font-size: 1rem; cursor: pointer; }
  .cancel { display: block; text-align: center; margin-top: 1rem; color: #635bff; }
</style>
</head>
<body><main>
<span class="test-mode">TEST MODE · Stripe stand-in</span>
${body}
</main></body>
</html>
`;
}

export function checkoutPage(session: CheckoutSession, lineItems: LineItem[], prefillEmail: string | null): string {
  const total = formatAmount(session.amount_total, session.currency);
  const items = lineItems
    .map(
      (item) =>
        `<li><span data-testid="checkout-product">${escapeHtml(item.description)}${item.quantity > 1 ? ` × ${item.quantity}` : ""}</span><span>${formatAmount(item.amount_total, item.currency)}</span></li>`,
    )
    .join("\n");
  const cancel = session.cancel_url
    ? `<a class="cancel" href="${escapeHtml(session.cancel_url)}" data-testid="checkout-cancel">Cancel</a>`
    : "";
  return page(
    `Pay ${total}`,
    `<h1 data-testid="checkout-amount">${total}</h1>
<ul>
${items}
</ul>
<form method="post" action="/c/pay/${encodeURIComponent(session.id)}" data-testid="checkout-form">
<label>Email <input type="email" name="email" value="${escapeHtml(prefillEmail ?? "")}" autocomplete="email"></label>
<button type="submit" name="action" value="pay" data-testid="checkout-pay">Pay ${total}</button>
</form>
${cancel}`,
  );
}

export function sessionClosedPage(session: CheckoutSession): string {
  if (session.status === "complete") {
    return page(
      "Payment complete",
      `<h1>Payment complete</h1><p>This Checkout Session has already been paid.</p>
<a class="cancel" href="${escapeHtml(successRedirectUrl(session))}">Continue</a>`,
    );
  }
  const back = session.cancel_url ? `<a class="cancel" href="${escapeHtml(session.cancel_url)}">Go back</a>` : "";
  return page("Session expired", `<h1>Session expired</h1><p>This Checkout Session is no longer available.</p>${back}`);
}

export function notFoundPage(): string {
  return page("Not found", "<h1>Not found</h1><p>Something went wrong: this page does not exist.</p>");
}

export function receiptPage(charge: Charge): string {
  const amount = formatAmount(charge.amount, charge.currency);
  return page(
    `Receipt ${charge.id}`,
    `<h1 data-testid="receipt-amount">${amount}</h1>
<p>Receipt for charge <code>${escapeHtml(charge.id)}</code>, paid ${new Date(charge.created * 1000).toISOString()}${
      charge.receipt_email ? ` by ${escapeHtml(charge.receipt_email)}` : ""
    }.</p>${charge.amount_refunded > 0 ? `<p>Refunded: ${formatAmount(charge.amount_refunded, charge.currency)}</p>` : ""}`,
  );
}
