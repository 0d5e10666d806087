import Link from "next/link";
import { ResetPasswordForm } from "./reset-form.tsx";

export const dynamic = "force-dynamic";

// Opening the link only shows the form: the token is spent when the form is sent,
// so mail scanners that fetch links cannot use it up.
export default async function ResetPasswordPage({ searchParams }: { searchParams: Promise<{ token?: string }> }) {
  const { token } = await searchParams;
  return (
    <div className="narrow card">
      <h1>Choose a new password</h1>
      {token ? <ResetPasswordForm token={token} /> : <p className="error" role="alert">This link is incomplete. <Link href="/forgot-password">Ask for a new one</Link>.</p>}
    </div>
  );
}
