import { z } from "zod";
import { Generation, JobStatus } from "./generation.ts";

export const GENERATION_LIST_DEFAULT_LIMIT = 20;
export const GENERATION_LIST_MAX_LIMIT = 100;

/** Query of GET /api/v1/generations: newest first, keyset-paginated by an opaque cursor. */
export const GenerationListQuery = z
  .object({
    limit: z.coerce
      .number({ error: "must be a number" })
      .int("must be an integer")
      .min(1, "must be at least 1")
      .max(GENERATION_LIST_MAX_LIMIT, `must be at most ${GENERATION_LIST_MAX_LIMIT}`)
      .default(GENERATION_LIST_DEFAULT_LIMIT),
    /** `next_cursor` of the previous page. */
    cursor: z.string().min(1, "must not be empty").max(200, "is not a valid cursor").optional(),
    status: z.enum(JobStatus.options, { error: `must be one of: ${JobStatus.options.join(", ")}` }).optional(),
  });
export type GenerationListQueryInput = z.input<typeof GenerationListQuery>;
export type GenerationListQuery = z.output<typeof GenerationListQuery>;

/** A page of the workspace's generations, newest first; `next_cursor` is null on the last page. */
export const GenerationList = z.object({
  object: z.literal("list"),
  data: z.array(Generation),
  next_cursor: z.string().nullable(),
});
export type GenerationList = z.infer<typeof GenerationList>;

/**
 * Server-sent events of GET /api/v1/generations/{id}/events: every status
 * change and progress step is an `event: generation` whose `data` is the full
 * Generation object and whose `id` counts up from 1; `: keep-alive` comments
 * keep idle connections open; the stream ends after the terminal state.
 */
export const GENERATION_EVENT = "generation";
export const GenerationEvent = Generation;

/** The longest `Prefer: wait=N` that POST /api/v1/generations honours, in seconds. */
export const MAX_PREFER_WAIT_SECONDS = 60;

export type PreferWait = { ok: true; wait: number | null } | { ok: false; message: string };

/**
 * Reads `wait=N` (RFC 7240) from a Prefer header; other preferences
 * (`respond-async`, …) are ignored and the first `wait` wins. `wait: null`
 * when the client asked for no wait.
 */
export function parsePreferWait(header: string | null | undefined): PreferWait {
  if (!header) return { ok: true, wait: null };
  for (const pref of header.split(",")) {
    const [token, ...rest] = pref.split(";")[0]!.split("=");
    if (token!.trim().toLowerCase() !== "wait") continue;
    const raw = rest.join("=").trim().replace(/^"(.*)"$/, "$1");
    if (!/^\d{1,6}$/.test(raw)) return { ok: false, message: "wait must be a whole number of seconds" };
    const wait = Number(raw);
    if (wait > MAX_PREFER_WAIT_SECONDS) return { ok: false, message: `wait must be at most ${MAX_PREFER_WAIT_SECONDS} seconds` };
    return { ok: true, wait };
  }
  return { ok: true, wait: null };
}
