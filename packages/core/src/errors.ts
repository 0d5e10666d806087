import type { FieldError } from "@lucid/contracts";

/** Stable, machine-readable error codes. Each maps to one HTTP status, in one place. */
export const ERROR_STATUS = {
  validation_failed: 400,
  invalid_json: 400,
  unknown_model: 400,
  invalid_signature: 400,
  unauthenticated: 401,
  invalid_credentials: 401,
  invalid_api_key: 401,
  // developer API: key verification, scopes, caps, idempotency, limits
  api_key_revoked: 401,
  api_key_expired: 401,
  insufficient_scope: 403,
  key_credit_cap_exceeded: 403,
  api_key_limit_reached: 409,
  idempotency_request_in_progress: 409,
  idempotency_key_reused: 422,
  rate_limited: 429,
  too_many_in_flight_jobs: 429,
  insufficient_credits: 402,
  spend_limit_reached: 402,
  forbidden: 403,
  not_found: 404,
  email_taken: 409,
  // accounts: email links, sign-in protection, OAuth
  invalid_token: 400,
  email_not_verified: 403,
  too_many_attempts: 429,
  oauth_failed: 400,
  last_owner: 409,
  invite_used: 409,
  invite_expired: 410,
  payment_incomplete: 409,
  unknown_pack: 400,
  billing_not_configured: 503,
  service_unavailable: 503,
  internal: 500,
} as const;
export type ErrorCode = keyof typeof ERROR_STATUS;

/** The one error type of the domain. Route handlers turn it into problem JSON. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly fields?: FieldError[],
  ) {
    super(message);
    this.name = "AppError";
  }
  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

export const notFound = (what: string) => new AppError("not_found", `${what} was not found`);
