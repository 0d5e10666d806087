import Link from "next/link";
import { OAUTH_PROVIDERS, configuredOAuthProviders, oauthErrorMessage } from "@lucid/core";
import { signInAction } from "../actions.ts";
import { AuthForm } from "../components/auth-form.tsx";
import { platform } from "../../lib/platform.ts";

export const dynamic = "force-dynamic";

export default async function SignInPage({ searchParams }: { searchParams: Promise<{ error?: string; provider?: string }> }) {
  const q = await searchParams;
  // OAuth failures arrive as better-auth's error codes; the page words them (never echoes the query).
  const error = q.error === "unavailable" ? "This sign-in method is not available." : q.error ? oauthErrorMessage(q.error, q.provider) : undefined;
  const providers = configuredOAuthProviders(platform());
  return (
    <div className="narrow card">
      <h1>Sign in</h1>
      {error && <p className="error" role="alert">{error}</p>}
      <AuthForm action={signInAction} submitLabel="Sign in" />
      <p className="muted"><Link href="/forgot-password">Forgot password?</Link></p>
      {providers.length > 0 && (
        <p>
          {providers.map((id) => (
            // A plain link: the route answers with a redirect to the provider.
            <a key={id} href={`/auth/${id}`} className="button secondary" style={{ marginRight: 8 }}>
              Continue with {OAUTH_PROVIDERS[id].name}
            </a>
          ))}
        </p>
      )}
      <p className="muted">New here? <Link href="/signup">Create an account</Link></p>
    </div>
  );
}
