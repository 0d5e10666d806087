import { Worker } from "node:worker_threads";
import { abortError, deserializeError, PipelineInputError } from "./errors.ts";
import type { FromWorker, ToWorker, WorkerInit } from "./protocol.ts";
import { DEFAULT_PREVIEW_EVERY } from "./preview.ts";
import type { RawResult } from "./text-to-image.ts";
import type { EngineOptions, GenerateOptions, GenerateProgress, GenerateRequest, GenerateResult, ModelInfo } from "./types.ts";

type Callbacks = Pick<GenerateOptions, "onProgress" | "onPreview">;

interface Pending extends Callbacks {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

const toBuffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** postMessage clones a view's whole ArrayBuffer (a pooled or sliced Buffer's too): send just the image. */
function exactInitImage(request: GenerateRequest): GenerateRequest {
  const image = request.initImage;
  if (!(image instanceof Uint8Array) || image.byteLength === image.buffer.byteLength) return request;
  return { ...request, initImage: new Uint8Array(image) }; // a copy (Buffer#slice would not be)
}

const WORKER_ENTRY = new URL("./worker-entry.mjs", import.meta.url);
const WORKER_MODULE = new URL("./worker.ts", import.meta.url).href;

/**
 * Stable Diffusion on onnxruntime-node, off the main thread. One worker thread
 * holds the ONNX sessions of the last model folder used and runs requests one
 * after another; the calling thread only exchanges messages with it.
 */
export class DiffusionEngine {
  private worker: Worker | null = null;
  private starting: Promise<Worker> | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;

  private constructor(private readonly options: Required<Pick<EngineOptions, "executionProvider" | "batchGuidance">> & Pick<EngineOptions, "onWarning">) {}

  /** Starts the worker (and fails here if it cannot start). */
  static async create(options: EngineOptions = {}): Promise<DiffusionEngine> {
    const engine = new DiffusionEngine({
      executionProvider: options.executionProvider ?? "cpu",
      batchGuidance: options.batchGuidance ?? true,
      onWarning: options.onWarning,
    });
    await engine.ensureWorker();
    return engine;
  }

  /** Loads (or reuses) a model folder's sessions; useful to fail fast at start-up. */
  async load(modelDir: string): Promise<ModelInfo> {
    return (await this.call({ type: "load", id: 0, modelDir })) as ModelInfo;
  }

  async generate(request: GenerateRequest, options: GenerateOptions = {}): Promise<GenerateResult> {
    const { signal, onProgress, onPreview } = options;
    const previewEvery = options.previewEvery ?? DEFAULT_PREVIEW_EVERY;
    if (!Number.isInteger(previewEvery) || previewEvery < 1) {
      throw new PipelineInputError(`previewEvery must be a positive integer (got ${previewEvery})`);
    }
    if (signal?.aborted) throw abortError(signal.reason);
    const abortFlag = new SharedArrayBuffer(4);
    const onAbort = () => Atomics.store(new Int32Array(abortFlag), 0, 1);
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const message: ToWorker = { type: "generate", id: 0, request: exactInitImage(request), abortFlag, ...(onPreview ? { preview: { every: previewEvery } } : {}) };
      const raw = (await this.call(message, { onProgress, onPreview })) as RawResult;
      return {
        promptTruncated: raw.promptTruncated,
        negativePromptTruncated: raw.negativePromptTruncated,
        images: raw.images.map((img) => ({
          ...img,
          png: toBuffer(img.png),
          thumbnail: { ...img.thumbnail, webp: toBuffer(img.thumbnail.webp) },
        })),
      };
    } catch (err) {
      if ((err as Error).name === "AbortError") throw abortError(signal?.reason);
      throw err;
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
  }

  /** Releases the sessions and stops the worker. Pending requests reject. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const worker = this.worker ?? (await this.starting?.catch(() => null));
    if (!worker) return;
    await this.send(worker, { type: "close", id: 0 }).catch(() => undefined);
    await worker.terminate();
  }

  private async call(message: ToWorker, callbacks: Callbacks = {}): Promise<unknown> {
    if (this.closed) throw new Error("DiffusionEngine is closed");
    return this.send(await this.ensureWorker(), message, callbacks);
  }

  private send(worker: Worker, message: ToWorker, callbacks: Callbacks = {}): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, ...callbacks });
      // Keep the process alive only while work is outstanding.
      worker.ref();
      worker.postMessage({ ...message, id });
    });
  }

  private ensureWorker(): Promise<Worker> {
    if (this.worker) return Promise.resolve(this.worker);
    this.starting ??= this.spawn().finally(() => {
      this.starting = null;
    });
    return this.starting;
  }

  private spawn(): Promise<Worker> {
    const init: WorkerInit = { entry: WORKER_MODULE, executionProvider: this.options.executionProvider, batchGuidance: this.options.batchGuidance };
    // execArgv: [] so the parent's flags (--test, loaders given by relative path) stay out of the worker.
    const worker = new Worker(WORKER_ENTRY, { workerData: init, execArgv: [] });
    return new Promise((resolve, reject) => {
      let ready = false;
      worker.on("message", (message: FromWorker) => {
        if (message.type === "ready") {
          ready = true;
          this.worker = worker;
          worker.unref();
          resolve(worker);
        } else this.onMessage(worker, message);
      });
      worker.on("error", (err) => {
        if (!ready) reject(err);
        this.failAll(worker, err);
      });
      worker.on("exit", (code) => {
        if (!ready) reject(new Error(`diffusion worker exited during start-up (code ${code})`));
        this.failAll(worker, new Error(`diffusion worker exited (code ${code})`));
      });
    });
  }

  private onMessage(worker: Worker, message: FromWorker): void {
    switch (message.type) {
      case "warning":
        if (this.options.onWarning) this.options.onWarning(message.message);
        else process.emitWarning(message.message, "DiffusionEngineWarning");
        return;
      case "progress":
        try {
          this.pending.get(message.id)?.onProgress?.({ step: message.step, total: message.total });
        } catch (err) {
          // A failing progress callback must not kill the generation.
          process.emitWarning(`onProgress threw: ${(err as Error).message}`, "DiffusionEngineWarning");
        }
        return;
      case "preview": {
        const { id, type: _, webp, ...rest } = message;
        try {
          this.pending.get(id)?.onPreview?.({ ...rest, webp: toBuffer(webp) });
        } catch (err) {
          process.emitWarning(`onPreview threw: ${(err as Error).message}`, "DiffusionEngineWarning");
        }
        return;
      }
      case "result":
      case "error": {
        const pending = this.pending.get(message.id);
        if (!pending) return;
        this.pending.delete(message.id);
        if (this.pending.size === 0) worker.unref();
        if (message.type === "result") pending.resolve(message.value);
        else pending.reject(deserializeError(message.error));
        return;
      }
      case "ready":
        return;
    }
  }

  /** The worker died: reject what it held; the next call starts a fresh one. */
  private failAll(worker: Worker, err: Error): void {
    if (this.worker === worker) this.worker = null;
    for (const [id, pending] of this.pending) {
      this.pending.delete(id);
      pending.reject(err);
    }
  }
}
