// ONNX Runtime sessions of one model folder. Runs inside the engine's worker thread.
import ort from "onnxruntime-node";
import { loadClipTokenizer, type ClipTokenizer } from "../tokenizer/index.ts";
import { ModelError } from "./errors.ts";
import { readModelLayout, type ModelLayout } from "./model.ts";
import type { ExecutionProvider, ModelInfo } from "./types.ts";

export type TensorMetadata = { name: string; type: string; shape: readonly (number | string)[] };

/** The VAE encoder (img2img only) and the names it uses for its input and output. */
export interface VaeEncoder {
  session: ort.InferenceSession;
  imageInput: TensorMetadata;
  latentOutput: TensorMetadata;
}

export interface LoadedModel {
  layout: ModelLayout;
  tokenizer: ClipTokenizer;
  textEncoder: ort.InferenceSession;
  unet: ort.InferenceSession;
  vaeDecoder: ort.InferenceSession;
  /**
   * Loads vae_encoder/ on first use, so text-to-image never pays for it. Null when
   * the folder has none; rejects with a ModelError when it is there but broken.
   */
  vaeEncoder(): Promise<VaeEncoder> | null;
  /** Releases the VAE encoder session if it was loaded. */
  releaseEncoder(): Promise<void>;
  executionProvider: ExecutionProvider;
  info: ModelInfo;
  io: {
    inputIds: TensorMetadata;
    textOutput: TensorMetadata;
    sample: TensorMetadata;
    timestep: TensorMetadata;
    context: TensorMetadata;
    noiseOutput: TensorMetadata;
    latentInput: TensorMetadata;
    imageOutput: TensorMetadata;
  };
}

export class SessionFactory {
  private cudaFailed = false;

  constructor(
    private readonly provider: ExecutionProvider,
    private readonly warn: (message: string) => void,
  ) {}

  /** Creates a session on the requested provider, falling back to CPU once CUDA fails to load. */
  async create(path: string): Promise<{ session: ort.InferenceSession; provider: ExecutionProvider }> {
    const base: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: "all", logSeverityLevel: 3 };
    if (this.provider === "cuda" && !this.cudaFailed) {
      try {
        const session = await ort.InferenceSession.create(path, { ...base, executionProviders: [{ name: "cuda", deviceId: 0 }, "cpu"] });
        return { session, provider: "cuda" };
      } catch (err) {
        this.cudaFailed = true;
        this.warn(`CUDA execution provider unavailable, running on CPU: ${(err as Error).message}`);
      }
    }
    try {
      return { session: await ort.InferenceSession.create(path, { ...base, executionProviders: ["cpu"] }), provider: "cpu" };
    } catch (err) {
      throw new ModelError(`cannot load ${path}: ${(err as Error).message}`);
    }
  }
}

export async function loadModel(dir: string, factory: SessionFactory): Promise<LoadedModel> {
  const layout = await readModelLayout(dir);
  const tokenizer = await loadClipTokenizer(layout.tokenizerDir).catch((err: Error) => {
    throw new ModelError(`cannot load the tokenizer in ${layout.tokenizerDir}: ${err.message}`);
  });
  const text = await factory.create(layout.textEncoderPath);
  const unet = await factory.create(layout.unetPath);
  const vae = await factory.create(layout.vaeDecoderPath);
  const sessions = [text, unet, vae];

  try {
    const io = {
      inputIds: findInput(text.session, "text_encoder", ["input_ids"]),
      textOutput: findOutput(text.session, "text_encoder", ["last_hidden_state"]),
      sample: findInput(unet.session, "unet", ["sample"]),
      timestep: findInput(unet.session, "unet", ["timestep"]),
      context: findInput(unet.session, "unet", ["encoder_hidden_states"]),
      noiseOutput: findOutput(unet.session, "unet", ["out_sample"]),
      latentInput: findInput(vae.session, "vae_decoder", ["latent_sample"]),
      imageOutput: findOutput(vae.session, "vae_decoder", ["sample"]),
    };
    for (const meta of [io.sample, io.context, io.latentInput]) {
      if (meta.type !== "float32" && meta.type !== "float16") {
        throw new ModelError(`${meta.name} has element type ${meta.type}; expected float32 or float16`);
      }
    }
    if (io.inputIds.type !== "int32" && io.inputIds.type !== "int64") {
      throw new ModelError(`text_encoder input_ids has element type ${io.inputIds.type}; expected int32 or int64`);
    }
    const hidden = io.textOutput.shape[2];
    const channels = io.sample.shape[1];
    const configChannels = layout.unetConfig.in_channels;
    const provider = sessions.every((s) => s.provider === "cuda") ? "cuda" : "cpu";
    let encoder: Promise<VaeEncoder> | null = null;
    const vaeEncoder = () => {
      if (!layout.vaeEncoderPath) return null;
      encoder ??= loadVaeEncoder(layout.vaeEncoderPath, factory).catch((err: unknown) => {
        encoder = null; // retried on the next img2img request
        throw err;
      });
      return encoder;
    };
    return {
      layout,
      tokenizer,
      textEncoder: text.session,
      unet: unet.session,
      vaeDecoder: vae.session,
      vaeEncoder,
      releaseEncoder: async () => {
        const loaded = await encoder?.catch(() => null);
        encoder = null;
        await loaded?.session.release();
      },
      executionProvider: provider,
      io,
      info: {
        dir: layout.dir,
        executionProvider: provider,
        defaultScheduler: layout.defaultScheduler,
        hiddenSize: typeof hidden === "number" ? hidden : null,
        latentChannels: typeof channels === "number" ? channels : typeof configChannels === "number" ? configChannels : 4,
        timestepType: io.timestep.type,
        sampleType: io.sample.type,
        vaeScalingFactor: layout.vaeScalingFactor,
      },
    };
  } catch (err) {
    await Promise.all(sessions.map((s) => s.session.release()));
    throw err;
  }
}

export async function releaseModel(model: LoadedModel): Promise<void> {
  await Promise.all([model.textEncoder.release(), model.unet.release(), model.vaeDecoder.release(), model.releaseEncoder()]);
}

async function loadVaeEncoder(path: string, factory: SessionFactory): Promise<VaeEncoder> {
  const { session } = await factory.create(path);
  try {
    // optimum names the output latent_sample (older exports: a sampled latent) or
    // latent_parameters (newer: mean and logvar stacked on the channel axis).
    const encoder = {
      session,
      imageInput: findInput(session, "vae_encoder", ["sample"]),
      latentOutput: findOutput(session, "vae_encoder", ["latent_sample", "latent_parameters"]),
    };
    if (encoder.imageInput.type !== "float32" && encoder.imageInput.type !== "float16") {
      throw new ModelError(`vae_encoder ${encoder.imageInput.name} has element type ${encoder.imageInput.type}; expected float32 or float16`);
    }
    return encoder;
  } catch (err) {
    await session.release();
    throw err;
  }
}

function tensorMeta(list: readonly ort.InferenceSession.ValueMetadata[], names: string[], what: string): TensorMetadata {
  // Named value first; a single-output model's only output is accepted whatever its name.
  const found = list.find((m) => names.includes(m.name)) ?? (what.endsWith("output") && list.length === 1 ? list[0] : undefined);
  if (!found) {
    throw new ModelError(`the ${what} ${names.join("/")} is missing (has: ${list.map((m) => m.name).join(", ")})`);
  }
  if (!found.isTensor) throw new ModelError(`the ${what} ${found.name} is not a tensor`);
  return { name: found.name, type: found.type, shape: found.shape };
}

function findInput(session: ort.InferenceSession, component: string, names: string[]): TensorMetadata {
  return tensorMeta(session.inputMetadata, names, `${component} input`);
}

function findOutput(session: ort.InferenceSession, component: string, names: string[]): TensorMetadata {
  return tensorMeta(session.outputMetadata, names, `${component} output`);
}
