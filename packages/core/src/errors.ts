import { PROBLEM_CODE_STATUS, type FieldError } from "@lucid/contracts";

/**
 * Stable, machine-readable error codes and the HTTP status of each. They are
 * part of the public API (problem JSON `code`, listed in the OpenAPI document),
 * so the table lives in the contracts package; a new code goes there.
 */
export const ERROR_STATUS = PROBLEM_CODE_STATUS;
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
