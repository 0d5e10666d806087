// The UNet calls of one request. Their input tensors are made once per request and
// refilled in place every step (the latent rows; the prompt embeddings never change),
// so a denoising step allocates no input copies: at 20–50 steps per image the
// per-step garbage (and the scavenges it triggers) was most of the pipeline's cost.
import ort from "onnxruntime-node";
import { ModelError } from "./errors.ts";
import { toHalfBits } from "./half.ts";
import type { LoadedModel, TensorMetadata } from "./sessions.ts";
import { floatStorage, modelFloats, writeFloats, type FloatStorage, type ModelFloats } from "./tensors.ts";

/** One row of a UNet batch: image `image`'s latents with one prompt embedding. */
export interface UnetRow {
  image: number;
  context: Float64Array;
}

/** Writes image `image`'s scaled latents (the scheduler's scale_model_input) into `out`. */
export type ScaleInto = (image: number, out: Float32Array | Float64Array) => void;

interface UnetCall {
  /** Rows in batch order, padded to a fixed batch with copies of the last row. */
  rows: UnetRow[];
  /** Per row: an earlier row of this call with the same image (its latents are copied), or -1. */
  sameAs: number[];
  /** Leading rows whose outputs are kept. */
  real: number;
  sample: FloatStorage;
  feeds: Record<string, ort.Tensor>;
}

export class UnetBatches {
  private readonly calls: UnetCall[] = [];
  /** float16 inputs are scaled in float64 first, then rounded to half. */
  private readonly scratch: Float64Array | null;

  /**
   * `groups`: rows that may share a call, in the order their outputs are wanted;
   * a group larger than the UNet's fixed batch is split into several calls.
   * `perImage`: latent values per row; `sampleDims` / `contextDims`: one row's shape.
   */
  constructor(
    private readonly model: LoadedModel,
    groups: UnetRow[][],
    private readonly perImage: number,
    sampleDims: readonly number[],
    contextDims: readonly number[],
  ) {
    const { sample, context } = model.io;
    this.scratch = sample.type === "float16" ? new Float64Array(perImage) : null;
    const limit = batchLimit(sample);
    const contextSize = contextDims.reduce((a, b) => a * b, 1);
    for (const group of groups) {
      for (let start = 0; start < group.length; start += Math.min(limit, group.length)) {
        const rows = group.slice(start, start + limit);
        const real = rows.length;
        if (Number.isFinite(limit)) while (rows.length < limit) rows.push(rows[rows.length - 1]!);
        const b = rows.length;
        const sampleData = floatStorage(sample.type, b * perImage);
        const contextData = floatStorage(context.type, b * contextSize);
        rows.forEach((row, r) => writeFloats(contextData, r * contextSize, row.context));
        this.calls.push({
          rows,
          sameAs: rows.map((row, r) => rows.findIndex((other, k) => k < r && other.image === row.image)),
          real,
          sample: sampleData,
          feeds: {
            [sample.name]: new ort.Tensor(tensorType(sample), sampleData, [b, ...sampleDims]),
            [context.name]: new ort.Tensor(tensorType(context), contextData, [b, ...contextDims]),
          },
        });
      }
    }
  }

  /**
   * Runs every call at timestep t, each row's latents written by `scaleInto`:
   * the noise prediction of each kept row, in group order.
   */
  async run(t: number, scaleInto: ScaleInto): Promise<ModelFloats[]> {
    const { unet, io } = this.model;
    const outputs: ModelFloats[] = [];
    for (const call of this.calls) {
      this.fill(call, scaleInto);
      call.feeds[io.timestep.name] = timestepTensor(io.timestep, t);
      const result = await unet.run(call.feeds);
      const data = modelFloats(result[io.noiseOutput.name]!);
      const size = data.length / call.rows.length;
      for (let r = 0; r < call.real; r++) outputs.push(data.subarray(r * size, (r + 1) * size));
    }
    return outputs;
  }

  private fill(call: UnetCall, scaleInto: ScaleInto): void {
    const perImage = this.perImage;
    const storage = call.sample;
    call.rows.forEach((row, r) => {
      const start = r * perImage;
      const same = call.sameAs[r]!;
      if (same >= 0) storage.copyWithin(start, same * perImage, (same + 1) * perImage);
      else if (storage instanceof Float32Array) scaleInto(row.image, storage.subarray(start, start + perImage));
      else {
        scaleInto(row.image, this.scratch!);
        writeFloats(storage, start, this.scratch!);
      }
    });
  }
}

/** A fixed batch axis (a number in the declared shape) caps each call; a named axis is dynamic. */
export function batchLimit(meta: TensorMetadata): number {
  const first = meta.shape[0];
  return typeof first === "number" && first > 0 ? first : Infinity;
}

const tensorType = (meta: TensorMetadata) => (meta.type === "float16" ? "float16" : "float32");

function timestepTensor(meta: TensorMetadata, t: number): ort.Tensor {
  // As diffusers' ONNX pipeline: np.array([t], dtype) whatever the batch (integer types: rounded); a scalar input gets [].
  const dims = meta.shape.length === 0 ? [] : [1];
  switch (meta.type) {
    case "int64":
      return new ort.Tensor("int64", BigInt64Array.of(BigInt(Math.round(t))), dims);
    case "int32":
      return new ort.Tensor("int32", Int32Array.of(Math.round(t)), dims);
    case "float32":
      return new ort.Tensor("float32", Float32Array.of(t), dims);
    case "float16":
      return new ort.Tensor("float16", Uint16Array.of(toHalfBits(t)), dims);
    case "float64":
      return new ort.Tensor("float64", Float64Array.of(t), dims);
    default:
      throw new ModelError(`unet timestep has unsupported element type ${meta.type}`);
  }
}
