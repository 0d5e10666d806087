import type { components } from "./schema.ts";

export type Problem = components["schemas"]["Problem"];
export type ProblemCode = Problem["code"];
export type FieldError = NonNullable<Problem["errors"]>[number];

/**
 * An error answer of the Lucid API: its RFC 9457 problem JSON, with the
 * stable `code` to branch on (`insufficient_credits`, `validation_failed`, …),
 * the HTTP `status`, and for bad input the offending fields in `errors`.
 */
export class LucidError extends Error {
  readonly status: number;
  /** A stable problem code; `http_error` when the answer was not problem JSON (a proxy's 502 page, say). */
  readonly code: ProblemCode | "http_error";
  readonly errors: FieldError[];
  /** The problem JSON as received, when there was one. */
  readonly problem: Problem | undefined;

  /** For 429 (and 503): seconds the server asked to wait (`Retry-After`) before retrying. */
  readonly retryAfterSeconds: number | undefined;

  constructor(status: number, body: unknown, headers?: Headers) {
    const problem = isProblem(body) ? body : undefined;
    super(problem ? `${problem.title}: ${problem.detail}` : `HTTP ${status}${typeof body === "string" && body ? `: ${body.slice(0, 200)}` : ""}`);
    this.name = "LucidError";
    this.status = status;
    this.code = problem?.code ?? "http_error";
    this.errors = problem?.errors ?? [];
    this.problem = problem;
    const retryAfter = Number(headers?.get("retry-after") ?? Number.NaN);
    this.retryAfterSeconds = Number.isFinite(retryAfter) ? retryAfter : undefined;
  }
}

/** `wait()` gave up before the generation reached a terminal state; it keeps running. */
export class LucidTimeoutError extends Error {
  constructor(readonly generationId: string, readonly timeoutMs: number) {
    super(`generation ${generationId} did not finish within ${timeoutMs} ms`);
    this.name = "LucidTimeoutError";
  }
}

function isProblem(body: unknown): body is Problem {
  return typeof body === "object" && body !== null && typeof (body as Problem).code === "string" && typeof (body as Problem).status === "number";
}
