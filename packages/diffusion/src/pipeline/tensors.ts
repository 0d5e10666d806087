// Float tensors to and from ONNX Runtime: the pipeline computes in float64 and
// feeds each model the element type it declares (fp16 as Uint16Array half bits).
import ort from "onnxruntime-node";
import { ModelError } from "./errors.ts";
import { fromHalfArray, toHalfArray } from "./half.ts";

export function floatTensor(type: string, data: Float64Array, dims: number[]): ort.Tensor {
  if (type === "float16") return new ort.Tensor("float16", toHalfArray(data), dims);
  return new ort.Tensor("float32", new Float32Array(data), dims);
}

export function readFloats(tensor: ort.Tensor): Float64Array {
  if (tensor.type === "float16") return fromHalfArray(tensor.data as Uint16Array);
  if (tensor.type === "float32") return new Float64Array(tensor.data as Float32Array);
  throw new ModelError(`model output has element type ${tensor.type}; expected float32 or float16`);
}
