/** The model folder is missing, malformed or not what the pipeline can run. Retrying does not help. */
export class ModelError extends Error {
  override readonly name = "ModelError";
}

/** The generation request itself is invalid (size, steps, seed...). Retrying does not help. */
export class PipelineInputError extends Error {
  override readonly name = "PipelineInputError";
}

/** What an aborted generation rejects with: the platform's own AbortError, like fetch. */
export function abortError(reason?: unknown): DOMException {
  const error = new DOMException("The generation was aborted", "AbortError");
  if (reason !== undefined) Object.defineProperty(error, "cause", { value: reason, configurable: true });
  return error;
}

/** Structured-clone-safe form of an error, for crossing the worker boundary. */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
}

export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error || error instanceof DOMException) {
    return { name: error.name, message: error.message, stack: error.stack };
  }
  return { name: "Error", message: String(error) };
}

export function deserializeError(data: SerializedError): Error {
  let error: Error;
  if (data.name === "AbortError") return abortError();
  if (data.name === "ModelError") error = new ModelError(data.message);
  else if (data.name === "PipelineInputError") error = new PipelineInputError(data.message);
  else {
    error = new Error(data.message);
    error.name = data.name;
  }
  // Keep the worker-side stack: it says where in the pipeline it failed.
  if (data.stack) error.stack = data.stack;
  return error;
}
