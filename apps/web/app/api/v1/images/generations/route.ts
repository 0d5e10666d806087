import { NextResponse } from "next/server";
import { AppError, LimitExceededError, requestCancel, requireScope, submitGeneration, waitForJobEnd, type RateLimitState } from "@lucid/core";
import {
  OpenAIImageGenerationRequest,
  fieldErrors,
  openAIImageRequestToGeneration,
  toOpenAIError,
  type OpenAIImagesResponse,
} from "@lucid/contracts";
import { authenticate, idempotently, readJson, withRateLimitHeaders, type Caller } from "../../../../../lib/http.ts";
import { platform } from "../../../../../lib/platform.ts";

export const dynamic = "force-dynamic";

/** How long the OpenAI-compatible endpoint waits for the images. */
const WAIT_MS = 60_000;

class GenerationEnded extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * OpenAI Images API compatibility (`POST /v1/images/generations`): submits a
 * Lucid generation, waits for it (up to 60 s) and answers OpenAI's shape, with
 * errors in OpenAI's shape too. A generation that does not finish in time, or
 * whose caller hangs up, is canceled: nobody will receive its images.
 */
export async function POST(req: Request): Promise<Response> {
  let rate: RateLimitState | undefined;
  try {
    const caller = await authenticate(req);
    rate = caller.rate;
    requireScope(caller.scopes, "generations:write");
    return withRateLimitHeaders(await idempotently(req, caller, () => generateImages(req, caller)), rate);
  } catch (err) {
    return withRateLimitHeaders(openAIErrorResponse(err), rate);
  }
}

async function generateImages(req: Request, caller: Caller): Promise<Response> {
  const p = platform();
  const parsed = OpenAIImageGenerationRequest.safeParse(await readJson(req));
  if (!parsed.success) {
    const fields = fieldErrors(parsed.error);
    throw new AppError("validation_failed", fields.map((f) => `${f.field} ${f.message}`).join("; "), fields);
  }
  const job = await submitGeneration(p, caller, openAIImageRequestToGeneration(parsed.data));
  const done = await waitForJobEnd(p, caller.workspaceId, job.id, { timeoutMs: WAIT_MS, signal: req.signal });
  if (!done || done.status === "queued" || done.status === "running") {
    await requestCancel(p, caller.workspaceId, job.id);
    throw new GenerationEnded(504, "timeout", `The image was not ready within ${WAIT_MS / 1000} seconds; generation ${job.id} was canceled and its credits released.`);
  }
  if (done.status !== "succeeded") {
    throw new GenerationEnded(500, done.errorCode ?? done.status, `Generation ${job.id} ${done.status}: ${done.errorMessage ?? "no details"}. You were not charged.`);
  }
  const asBase64 = parsed.data.response_format === "b64_json";
  const data = await Promise.all(
    done.images.map(async (img) => {
      if (!asBase64) return { url: await p.images.signedUrl(img.storageKey, 3600) };
      const object = await p.images.get(img.storageKey);
      if (!object) throw new GenerationEnded(500, "image_missing", `An image of generation ${job.id} is missing from storage.`);
      return { b64_json: Buffer.from(object.body).toString("base64") };
    }),
  );
  const body: OpenAIImagesResponse = { created: Math.floor(done.createdAt.getTime() / 1000), data };
  return NextResponse.json(body);
}

function openAIErrorResponse(err: unknown): Response {
  let e: Parameters<typeof toOpenAIError>[0];
  if (err instanceof AppError) e = { code: err.code, status: err.status, message: err.message, fields: err.fields };
  else if (err instanceof GenerationEnded) e = { code: err.code, status: err.status, message: err.message };
  else {
    console.error(err);
    e = { code: "internal", status: 500, message: "Something went wrong on our side." };
  }
  const { status, body, retry } = toOpenAIError(e);
  // Limits are worth retrying, after Retry-After.
  if (err instanceof LimitExceededError) return NextResponse.json(body, { status, headers: { "retry-after": String(err.retryAfterSeconds) } });
  return NextResponse.json(body, { status, headers: retry ? {} : { "x-should-retry": "false" } });
}
