// A loopback OAuth 2.0 provider speaking GitHub's and Google's endpoints
// (authorization redirect, token exchange with PKCE, profile), for tests.
// Whoever "approves" next is set in-process (`state.nextUser`) or, from another
// process such as a browser test, with `POST /__standin/next-user` and a JSON user.
import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";

export interface StandinUser {
  id: string;
  email: string;
  verified: boolean;
}

interface Grant {
  user: StandinUser;
  challenge: string | null;
  redirectUri: string | null;
  clientId: string;
}

const body = (req: IncomingMessage) =>
  new Promise<string>((resolve) => {
    let s = "";
    req.on("data", (c) => (s += c));
    req.on("end", () => resolve(s));
  });

export async function startOAuthStandin(opts: { clientId: string; clientSecret: string }) {
  const grants = new Map<string, Grant>();
  const tokens = new Map<string, StandinUser>();
  const state = { nextUser: null as StandinUser | null, tokenRequests: 0 };

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(value));
    };
    if (req.method === "POST" && url.pathname === "/__standin/next-user") {
      state.nextUser = JSON.parse(await body(req)) as StandinUser;
      return json(200, { ok: true });
    }
    // Authorization: the person "approves" at once as state.nextUser.
    if (req.method === "GET" && (url.pathname === "/login/oauth/authorize" || url.pathname === "/o/oauth2/v2/auth")) {
      if (url.searchParams.get("client_id") !== opts.clientId || !state.nextUser) return json(400, { error: "invalid_request" });
      const code = randomBytes(12).toString("hex");
      grants.set(code, {
        user: state.nextUser,
        challenge: url.searchParams.get("code_challenge_method") === "S256" ? url.searchParams.get("code_challenge") : null,
        redirectUri: url.searchParams.get("redirect_uri"),
        clientId: opts.clientId,
      });
      const back = new URL(url.searchParams.get("redirect_uri")!);
      back.searchParams.set("code", code);
      back.searchParams.set("state", url.searchParams.get("state") ?? "");
      res.writeHead(302, { location: back.toString() });
      return res.end();
    }
    if (req.method === "POST" && (url.pathname === "/login/oauth/access_token" || url.pathname === "/token")) {
      state.tokenRequests++;
      const form = new URLSearchParams(await body(req));
      // Client authentication either way real providers accept it: HTTP Basic or client_id/client_secret in the body.
      const basic = Buffer.from((req.headers.authorization ?? "").replace(/^Basic /, ""), "base64").toString();
      const posted = `${form.get("client_id")}:${form.get("client_secret")}`;
      if (basic !== `${opts.clientId}:${opts.clientSecret}` && posted !== `${opts.clientId}:${opts.clientSecret}`) return json(401, { error: "invalid_client" });
      const grant = grants.get(form.get("code") ?? "");
      grants.delete(form.get("code") ?? "");
      if (!grant || grant.redirectUri !== form.get("redirect_uri")) return json(400, { error: "invalid_grant" });
      const verifier = form.get("code_verifier") ?? "";
      if (!grant.challenge || createHash("sha256").update(verifier).digest("base64url") !== grant.challenge) {
        return json(400, { error: "invalid_grant", error_description: "PKCE verification failed" });
      }
      const token = randomBytes(16).toString("hex");
      tokens.set(token, grant.user);
      return json(200, { access_token: token, token_type: "bearer", scope: "read:user,user:email" });
    }
    const user = tokens.get((req.headers.authorization ?? "").replace(/^Bearer /, ""));
    if (!user) return json(401, { message: "Bad credentials" });
    if (url.pathname === "/user") return json(200, { id: Number(user.id), login: user.email.split("@")[0], email: null });
    if (url.pathname === "/user/emails") return json(200, [{ email: user.email, primary: true, verified: user.verified, visibility: null }]);
    if (url.pathname === "/v1/userinfo") return json(200, { sub: user.id, email: user.email, email_verified: user.verified });
    json(404, { message: "Not Found" });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    state,
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}
