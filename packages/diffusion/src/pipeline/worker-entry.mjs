// Worker bootstrap in plain JS: a worker does not inherit the parent's tsx loader
// on Node 20, so it registers tsx itself before importing the TypeScript worker.
import { workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
await import(workerData.entry);
