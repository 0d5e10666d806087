import Link from "next/link";

/** Shown while a refund has left the workspace owing credits: new generations are refused until it is cleared. */
export function DebtNotice({ debt }: { debt: number }) {
  if (debt <= 0) return null;
  return (
    <p className="notice" role="alert" data-testid="credit-debt">
      This workspace owes <strong>{debt}</strong> credits because a payment was refunded. New generations are refused until a
      purchase clears the debt. <Link href="/billing">Buy credits</Link>
    </p>
  );
}
