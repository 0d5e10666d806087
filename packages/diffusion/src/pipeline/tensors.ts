// Float tensors to and from ONNX Runtime: the pipeline computes in float64 and
// feeds each model the element type it declares (fp16 as Uint16Array half bits).
import ort from "onnxruntime-node";
import { ModelError } from "./errors.ts";
import { fromHalfArray, toHalfArray, toHalfBits } from "./half.ts";

/** A model's float values as ONNX Runtime holds them: float32, or float16 half bits. */
export type FloatStorage = Float32Array | Uint16Array;

/** Float values read back from a model: float32 as they came, float16 widened. Both widen to float64 exactly. */
export type ModelFloats = Float32Array | Float64Array;

export function floatTensor(type: string, data: Float64Array, dims: number[]): ort.Tensor {
  if (type === "float16") return new ort.Tensor("float16", toHalfArray(data), dims);
  return new ort.Tensor("float32", new Float32Array(data), dims);
}

export function readFloats(tensor: ort.Tensor): Float64Array {
  if (tensor.type === "float16") return fromHalfArray(tensor.data as Uint16Array);
  if (tensor.type === "float32") return new Float64Array(tensor.data as Float32Array);
  throw new ModelError(`model output has element type ${tensor.type}; expected float32 or float16`);
}

/** A model output's values without the float64 copy: float32 data is used as is. */
export function modelFloats(tensor: ort.Tensor): ModelFloats {
  if (tensor.type === "float32") return tensor.data as Float32Array;
  return readFloats(tensor);
}

/** Zeroed storage for `length` values of a float input of element type `type`. */
export function floatStorage(type: string, length: number): FloatStorage {
  return type === "float16" ? new Uint16Array(length) : new Float32Array(length);
}

/** Writes float64 values into storage at `offset`, rounded as floatTensor rounds them. */
export function writeFloats(target: FloatStorage, offset: number, values: Float64Array): void {
  if (target instanceof Float32Array) target.set(values, offset);
  else for (let i = 0; i < values.length; i++) target[offset + i] = toHalfBits(values[i]!);
}
