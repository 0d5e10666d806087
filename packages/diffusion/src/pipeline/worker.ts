// The engine's worker thread: owns the ONNX Runtime sessions (loaded once per model
// folder) and runs generations one at a time, so session.run never blocks the app.
import { parentPort, workerData } from "node:worker_threads";
import { resolve } from "node:path";
import { serializeError } from "./errors.ts";
import { loadModel, releaseModel, SessionFactory, type LoadedModel } from "./sessions.ts";
import { textToImage } from "./text-to-image.ts";
import type { ToWorker, FromWorker, WorkerInit } from "./protocol.ts";

const port = parentPort!;
const init = workerData as WorkerInit;
const post = (message: FromWorker) => port.postMessage(message);
const factory = new SessionFactory(init.executionProvider, (message) => post({ type: "warning", message }));

// One model resident at a time: a real SD model is gigabytes of weights.
let current: { dir: string; model: Promise<LoadedModel> } | null = null;

async function modelFor(dir: string): Promise<LoadedModel> {
  const key = resolve(dir);
  if (current?.dir === key) {
    try {
      return await current.model;
    } catch {
      current = null; // a failed load is retried on the next request
    }
  }
  if (current) {
    const previous = current.model;
    current = null;
    await previous.then(releaseModel, () => undefined);
  }
  const model = loadModel(key, factory);
  current = { dir: key, model };
  try {
    return await model;
  } catch (err) {
    current = null;
    throw err;
  }
}

async function handle(message: ToWorker): Promise<void> {
  switch (message.type) {
    case "load": {
      const model = await modelFor(message.modelDir);
      post({ type: "result", id: message.id, value: model.info });
      return;
    }
    case "generate": {
      const aborted = new Int32Array(message.abortFlag);
      const model = await modelFor(message.request.modelDir);
      const result = await textToImage(model, message.request, {
        batchGuidance: init.batchGuidance,
        isAborted: () => Atomics.load(aborted, 0) !== 0,
        onProgress: (step, total) => post({ type: "progress", id: message.id, step, total }),
        preview: message.preview && {
          every: message.preview.every,
          onPreview: ({ webp, ...rest }) => port.postMessage({ type: "preview", id: message.id, webp, ...rest } satisfies FromWorker, [webp.buffer as ArrayBuffer]),
        },
      });
      post({ type: "result", id: message.id, value: result });
      return;
    }
    case "close": {
      if (current) await current.model.then(releaseModel, () => undefined);
      current = null;
      post({ type: "result", id: message.id, value: null });
      return;
    }
  }
}

// Serial queue: ORT sessions are shared and one generation saturates the cores anyway.
let queue = Promise.resolve();
port.on("message", (message: ToWorker) => {
  queue = queue.then(() =>
    handle(message).catch((err: unknown) => post({ type: "error", id: message.id, error: serializeError(err) })),
  );
});
post({ type: "ready" });
