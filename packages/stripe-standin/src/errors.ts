/**
 * Errors in Stripe's v1 wire shape: `{ error: { type, code, message, param } }`.
 * The real client picks its error class from the HTTP status (400/404 → StripeInvalidRequestError,
 * 401 → StripeAuthenticationError, 409 idempotency_error → StripeIdempotencyError), so statuses matter.
 */
export type StripeErrorType = "invalid_request_error" | "api_error" | "idempotency_error";

export class StripeApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly type: StripeErrorType,
    message: string,
    readonly code?: string,
    readonly param?: string,
  ) {
    super(message);
    this.name = "StripeApiError";
  }

  toBody(requestId: string): { error: Record<string, string> } {
    const error: Record<string, string> = { type: this.type, message: this.message };
    if (this.code) error.code = this.code;
    if (this.param) error.param = this.param;
    error.request_log_url = `https://dashboard.stripe.com/test/logs/${requestId}`;
    return { error };
  }
}

export const missingParam = (param: string) =>
  new StripeApiError(400, "invalid_request_error", `Missing required param: ${param}.`, "parameter_missing", param);

export const unknownParam = (param: string) =>
  new StripeApiError(
    400,
    "invalid_request_error",
    `Received unknown parameter: ${param} (the Lucid Stripe stand-in does not implement it)`,
    "parameter_unknown",
    param,
  );

export const invalidParam = (param: string, message: string, code?: string) =>
  new StripeApiError(400, "invalid_request_error", message, code, param);

export const noSuchResource = (kind: string, id: string, param?: string) =>
  new StripeApiError(404, "invalid_request_error", `No such ${kind}: '${id}'`, "resource_missing", param);

export const authenticationFailed = (message: string, code: string) =>
  new StripeApiError(401, "invalid_request_error", message, code);
