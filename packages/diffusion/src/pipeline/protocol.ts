// Messages between DiffusionEngine (main thread) and its worker.
import type { SerializedError } from "./errors.ts";
import type { RawImage } from "./text-to-image.ts";
import type { ExecutionProvider, GenerateRequest, ModelInfo } from "./types.ts";

export interface WorkerInit {
  entry: string;
  executionProvider: ExecutionProvider;
  batchGuidance: boolean;
}

export type ToWorker =
  | { type: "load"; id: number; modelDir: string }
  /** abortFlag: a shared Int32Array[1] the main thread sets to 1; polled between steps. */
  | { type: "generate"; id: number; request: GenerateRequest; abortFlag: SharedArrayBuffer }
  | { type: "close"; id: number };

export type FromWorker =
  | { type: "ready" }
  | { type: "warning"; message: string }
  | { type: "progress"; id: number; step: number; total: number }
  | { type: "result"; id: number; value: ModelInfo | { images: RawImage[]; promptTruncated: boolean } | null }
  | { type: "error"; id: number; error: SerializedError };
