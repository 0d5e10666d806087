import createClient from "openapi-fetch";
import { EventSourceParserStream } from "eventsource-parser/stream";
import type { components, paths } from "./schema.ts";
import { LucidError, LucidTimeoutError } from "./errors.ts";

export type Generation = components["schemas"]["Generation"];
export type GenerationRequest = components["schemas"]["GenerationRequest"];
export type GenerationList = components["schemas"]["GenerationList"];
export type GenerationStatus = components["schemas"]["JobStatus"];
export type CancelResult = components["schemas"]["CancelResult"];
export type ListOptions = NonNullable<paths["/api/v1/generations"]["get"]["parameters"]["query"]>;

export interface LucidOptions {
  /** A workspace API key, `lucid_sk_…`. */
  apiKey: string;
  /** Origin of the Lucid server, e.g. `https://lucid.example.com`. */
  baseUrl: string;
  /** Another fetch (tests, proxies); defaults to the global one. */
  fetch?: (request: Request) => Promise<Response>;
}

export interface GenerateOptions {
  /** Seconds (≤ 60) the server may hold the answer until the generation ends (`Prefer: wait=N`). */
  wait?: number;
  /**
   * Makes retries safe: the server stores the first answer (24 h) and replays
   * it to a retry with the same key and body instead of generating (and
   * charging) again. Use one key per intended generation, e.g. a UUID.
   */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

export interface WaitOptions {
  /** Give up (LucidTimeoutError) after this long; the generation keeps running. Default 5 minutes. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

const TERMINAL: ReadonlySet<GenerationStatus> = new Set(["succeeded", "failed", "canceled"]);
export const isTerminal = (g: Pick<Generation, "status">) => TERMINAL.has(g.status);

// Polling backoff of wait(): quick at first (small jobs finish in a second),
// then easing off so long jobs cost few requests.
const FIRST_POLL_MS = 250;
const MAX_POLL_MS = 2_000;
const POLL_GROWTH = 1.5;

/** The Lucid API client. Every method throws LucidError with the problem JSON on an error answer. */
export class Lucid {
  private readonly client;

  constructor({ apiKey, baseUrl, fetch }: LucidOptions) {
    if (!apiKey) throw new TypeError("Lucid: apiKey is required");
    this.client = createClient<paths>({
      baseUrl: baseUrl.replace(/\/+$/, ""),
      headers: { authorization: `Bearer ${apiKey}` },
      ...(fetch ? { fetch } : {}),
    });
  }

  /**
   * Submits a generation (credits are reserved now). With `wait` (seconds, at
   * most 60) the server holds the answer until the generation ends or the wait
   * runs out (`Prefer: wait=N`); otherwise it answers at once, queued.
   */
  async generate(request: GenerationRequest, options: GenerateOptions = {}): Promise<Generation> {
    const { data, error, response } = await this.client.POST("/api/v1/generations", {
      body: request,
      params: {
        header: {
          ...(options.wait === undefined ? {} : { prefer: `wait=${options.wait}` }),
          ...(options.idempotencyKey === undefined ? {} : { "idempotency-key": options.idempotencyKey }),
        },
      },
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return ok(data, error, response);
  }

  async get(id: string, options: { signal?: AbortSignal } = {}): Promise<Generation> {
    const { data, error, response } = await this.client.GET("/api/v1/generations/{id}", {
      params: { path: { id } },
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return ok(data, error, response);
  }

  /** A page of the workspace's generations, newest first; pass `next_cursor` back as `cursor`. */
  async list(query: ListOptions = {}): Promise<GenerationList> {
    const { data, error, response } = await this.client.GET("/api/v1/generations", { params: { query } });
    return ok(data, error, response);
  }

  /** Cancels: `canceled` (was queued), `cancellation_requested` (running; stops at its next step) or `already_finished`. */
  async cancel(id: string, options: { idempotencyKey?: string } = {}): Promise<CancelResult> {
    const { data, error, response } = await this.client.POST("/api/v1/generations/{id}/cancel", {
      params: { path: { id }, header: options.idempotencyKey === undefined ? {} : { "idempotency-key": options.idempotencyKey } },
    });
    return ok(data, error, response);
  }

  /**
   * Polls until the generation is succeeded, failed or canceled, and returns
   * it (a failed generation is returned, not thrown: read `error`). Backs off
   * from 250 ms to 2 s between polls.
   */
  async wait(id: string, { timeoutMs = 300_000, signal }: WaitOptions = {}): Promise<Generation> {
    const deadline = Date.now() + timeoutMs;
    let delay = FIRST_POLL_MS;
    for (;;) {
      const generation = await this.get(id, signal ? { signal } : {});
      if (isTerminal(generation)) return generation;
      const left = deadline - Date.now();
      if (left <= 0) throw new LucidTimeoutError(id, timeoutMs);
      await sleep(Math.min(delay, left), signal);
      delay = Math.min(MAX_POLL_MS, delay * POLL_GROWTH);
    }
  }

  /**
   * The generation's server-sent events: the generation object at every
   * status change and progress step, ending after its terminal state.
   * Breaking out of the loop (or aborting `signal`) closes the connection.
   */
  async *stream(id: string, options: { signal?: AbortSignal } = {}): AsyncGenerator<Generation> {
    const { data, error, response } = await this.client.GET("/api/v1/generations/{id}/events", {
      params: { path: { id } },
      parseAs: "stream",
      headers: { accept: "text/event-stream" },
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (error !== undefined || !data) throw new LucidError(response.status, error, response.headers);
    const reader = data.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream()).getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        if (value.event === "generation") yield JSON.parse(value.data) as Generation;
      }
    } finally {
      await reader.cancel().catch(() => {});
    }
  }
}

function ok<T>(data: T | undefined, error: unknown, response: Response): T {
  if (error !== undefined || data === undefined) throw new LucidError(response.status, error, response.headers);
  return data;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
