import { z } from "zod";

/** RFC 9457 problem details, with a stable machine-readable `code`. */
export const Problem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  code: z.string(),
  errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
});
export type Problem = z.infer<typeof Problem>;

export type FieldError = { field: string; message: string };

/** Turns a zod error into field errors named the way the client sent them ("width", "n"). */
export function fieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => {
    const field = issue.path.length ? issue.path.join(".") : (issue.code === "unrecognized_keys" ? issue.keys.join(", ") : "body");
    const message = issue.code === "unrecognized_keys" ? "is not a known field" : issue.message;
    return { field, message };
  });
}

export function describeFieldErrors(errors: FieldError[]): string {
  return errors.map((e) => `${e.field} ${e.message}`).join("; ");
}
