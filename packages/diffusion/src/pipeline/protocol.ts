// Messages between DiffusionEngine (main thread) and its worker.
import type { SerializedError } from "./errors.ts";
import type { RawResult } from "./text-to-image.ts";
import type { ExecutionProvider, GenerateRequest, ModelInfo } from "./types.ts";

export interface WorkerInit {
  entry: string;
  executionProvider: ExecutionProvider;
  batchGuidance: boolean;
}

export type ToWorker =
  | { type: "load"; id: number; modelDir: string }
  /**
   * abortFlag: a shared Int32Array[1] the main thread sets to 1; polled between steps.
   * preview: present only when the caller wants previews, so none are made otherwise.
   */
  | { type: "generate"; id: number; request: GenerateRequest; abortFlag: SharedArrayBuffer; preview?: { every: number } }
  | { type: "close"; id: number };

export type FromWorker =
  | { type: "ready" }
  | { type: "warning"; message: string }
  | { type: "progress"; id: number; step: number; total: number }
  /** webp's buffer is transferred, not copied. */
  | { type: "preview"; id: number; step: number; total: number; imageIndex: number; webp: Uint8Array; width: number; height: number }
  | { type: "result"; id: number; value: ModelInfo | RawResult | null }
  | { type: "error"; id: number; error: SerializedError };
