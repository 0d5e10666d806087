import { NextResponse } from "next/server";
import { AppError, authenticateApiKey, resolveSession } from "@lucid/core";
import type { Problem } from "@lucid/contracts";
import { platform } from "./platform.ts";
import { SESSION_COOKIE } from "./session.ts";

const TITLES: Record<string, string> = {
  validation_failed: "Invalid request",
  invalid_json: "Invalid JSON",
  unauthenticated: "Authentication required",
  invalid_api_key: "Invalid API key",
  insufficient_credits: "Not enough credits",
  not_found: "Not found",
  internal: "Internal error",
};

export function problem(code: string, status: number, detail: string, errors?: Problem["errors"]): NextResponse {
  const body: Problem = {
    type: `https://lucid.dev/errors/${code}`,
    title: TITLES[code] ?? code.replace(/_/g, " "),
    status,
    detail,
    code,
    ...(errors?.length ? { errors } : {}),
  };
  return NextResponse.json(body, { status, headers: { "content-type": "application/problem+json" } });
}

/** Maps any thrown error to problem JSON; unknown errors become a 500 that hides internals. */
export function errorResponse(err: unknown): NextResponse {
  if (err instanceof AppError) return problem(err.code, err.status, err.message, err.fields);
  console.error(err);
  return problem("internal", 500, "Something went wrong on our side. Nothing was charged.");
}

export async function readJson(req: Request): Promise<unknown> {
  try {
    return await req.json();
  } catch {
    throw new AppError("invalid_json", "The request body must be valid JSON.", [{ field: "body", message: "is not valid JSON" }]);
  }
}

export interface Caller {
  workspaceId: string;
  userId?: string;
  apiKeyId?: string;
  source: "web" | "api";
}

/** An API caller: a bearer API key, or the studio's session cookie. */
export async function authenticate(req: Request): Promise<Caller> {
  const p = platform();
  const auth = req.headers.get("authorization");
  if (auth) {
    const m = /^Bearer\s+(\S+)$/i.exec(auth);
    if (!m) throw new AppError("invalid_api_key", "Authorization must be 'Bearer <api key>'.");
    const key = await authenticateApiKey(p, m[1]!);
    return { workspaceId: key.workspaceId, apiKeyId: key.apiKeyId, source: "api" };
  }
  const cookie = req.headers.get("cookie") ?? "";
  const token = cookie.split(/;\s*/).find((c) => c.startsWith(`${SESSION_COOKIE}=`))?.slice(SESSION_COOKIE.length + 1);
  const viewer = await resolveSession(p, token ? decodeURIComponent(token) : undefined);
  if (!viewer) throw new AppError("unauthenticated", "Send an API key as 'Authorization: Bearer <key>'.");
  return { workspaceId: viewer.workspace.id, userId: viewer.user.id, source: "web" };
}

/** Wraps a route handler: auth, then the handler, with errors mapped once. */
export function apiRoute<C>(handler: (req: Request, caller: Caller, ctx: C) => Promise<Response>) {
  return async (req: Request, ctx: C): Promise<Response> => {
    try {
      const caller = await authenticate(req);
      return await handler(req, caller, ctx);
    } catch (err) {
      return errorResponse(err);
    }
  };
}
