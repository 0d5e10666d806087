import Link from "next/link";
import { AppError, verifyEmail } from "@lucid/core";
import { platform } from "../../lib/platform.ts";

export const dynamic = "force-dynamic";

export default async function VerifyEmailPage({ searchParams }: { searchParams: Promise<{ token?: string }> }) {
  const { token } = await searchParams;
  let result: { ok: true; email: string } | { ok: false; message: string };
  try {
    const v = await verifyEmail(platform(), token ?? "");
    result = { ok: true, email: v.email };
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    result = { ok: false, message: err.message };
  }
  return (
    <div className="narrow card">
      <h1>{result.ok ? "Email verified" : "Verification failed"}</h1>
      {result.ok ? (
        <p role="status" data-testid="verified">Thanks! <strong>{result.email}</strong> is verified.</p>
      ) : (
        <p className="error" role="alert">{result.message}</p>
      )}
      <p><Link href="/studio">Go to the studio</Link></p>
    </div>
  );
}
