import { authFor } from "@lucid/core";
import { platform } from "../../../../../lib/platform.ts";

export const dynamic = "force-dynamic";

/**
 * The provider sends the browser back here with a code. better-auth checks the
 * state and PKCE verifier, exchanges the code, finds or creates the user, sets
 * the session cookie and redirects (to /studio, or /signin?error=<code>).
 * Only this better-auth path is mounted; sign-in with a password goes through
 * Lucid's own actions and their brute-force limits.
 */
export async function GET(req: Request) {
  return authFor(platform()).handler(req);
}
