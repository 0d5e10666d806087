// Reading a Hugging Face ONNX Stable Diffusion folder (as optimum exports it):
// model_index.json plus one sub-folder per component.
import { access, readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { SchedulerConfig, SchedulerName } from "../schedulers/types.ts";
import { ModelError } from "./errors.ts";

export interface ModelIndex {
  /** Pipeline class, e.g. "OnnxStableDiffusionPipeline" or "StableDiffusionPipeline". */
  className: string | null;
  /** Component entries: name → [library, class] (null pairs for absent components). */
  components: Record<string, [string | null, string | null]>;
  /** The whole parsed model_index.json. */
  raw: Record<string, unknown>;
}

export interface ModelLayout {
  dir: string;
  index: ModelIndex;
  textEncoderPath: string;
  unetPath: string;
  vaeDecoderPath: string;
  /** Present when the folder ships one (img2img); txt2img does not load it. */
  vaeEncoderPath: string | null;
  tokenizerDir: string;
  schedulerConfig: SchedulerConfig;
  /** The scheduler scheduler_config.json names, as a SchedulerName. */
  defaultScheduler: SchedulerName;
  /** Latents are divided by this before the VAE decoder (SD 1.x: 0.18215). */
  vaeScalingFactor: number;
  /** Pixels per latent cell along each side (8 for every SD VAE). */
  vaeScaleFactor: number;
  /** UNet config.json when the folder has one (diffusers' UNet2DConditionModel config). */
  unetConfig: Record<string, unknown>;
}

const DEFAULT_SCALING_FACTOR = 0.18215;

/** diffusers scheduler classes → our scheduler names. */
const SCHEDULER_CLASSES: Record<string, (config: SchedulerConfig) => SchedulerName> = {
  EulerDiscreteScheduler: () => "euler",
  EulerAncestralDiscreteScheduler: () => "euler_ancestral",
  DDIMScheduler: () => "ddim",
  LCMScheduler: () => "lcm",
  PNDMScheduler: () => "pndm",
  DPMSolverMultistepScheduler: (c) => (c.use_karras_sigmas === true ? "dpmpp_2m_karras" : "dpmpp_2m"),
};

/** The scheduler a `scheduler_config.json` describes; Euler for classes we do not implement. */
export function schedulerNameFromConfig(config: SchedulerConfig): SchedulerName {
  const className = typeof config._class_name === "string" ? config._class_name : "";
  return SCHEDULER_CLASSES[className]?.(config) ?? "euler";
}

/** Reads and checks `<dir>/model_index.json`. Throws ModelError saying what is wrong. */
export async function readModelIndex(dir: string): Promise<ModelIndex> {
  const folder = resolve(dir);
  const info = await stat(folder).catch(() => null);
  if (!info) throw new ModelError(`model folder ${folder} does not exist`);
  if (!info.isDirectory()) throw new ModelError(`model path ${folder} is not a folder`);
  const raw = await readJson(join(folder, "model_index.json"), `${folder} is not a diffusers model folder: model_index.json is missing`);
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ModelError(`${join(folder, "model_index.json")} is not a JSON object`);
  }
  const record = raw as Record<string, unknown>;
  const components: ModelIndex["components"] = {};
  for (const [key, value] of Object.entries(record)) {
    if (key.startsWith("_") || !Array.isArray(value) || value.length !== 2) continue;
    components[key] = [typeof value[0] === "string" ? value[0] : null, typeof value[1] === "string" ? value[1] : null];
  }
  return { className: typeof record._class_name === "string" ? record._class_name : null, components, raw: record };
}

/**
 * Checks that `dir` is a runnable ONNX Stable Diffusion folder and resolves its
 * parts. Every problem is a ModelError naming the missing or broken file.
 */
export async function readModelLayout(dir: string): Promise<ModelLayout> {
  const folder = resolve(dir);
  const index = await readModelIndex(folder);
  const required = {
    textEncoderPath: "text_encoder/model.onnx",
    unetPath: "unet/model.onnx",
    vaeDecoderPath: "vae_decoder/model.onnx",
    vocab: "tokenizer/vocab.json",
    merges: "tokenizer/merges.txt",
    scheduler: "scheduler/scheduler_config.json",
  };
  const missing: string[] = [];
  await Promise.all(
    Object.values(required).map((file) =>
      access(join(folder, file)).catch(() => {
        missing.push(file);
      }),
    ),
  );
  if (missing.length > 0) {
    const hint = (await exists(join(folder, "unet", "diffusion_pytorch_model.safetensors")))
      ? " (this looks like a PyTorch diffusers folder: export it to ONNX, e.g. with `optimum-cli export onnx`)"
      : "";
    throw new ModelError(`${folder} is not an ONNX Stable Diffusion folder: missing ${missing.sort().join(", ")}${hint}`);
  }
  const schedulerConfig = (await readJson(join(folder, required.scheduler), "")) as SchedulerConfig;
  const vaeConfig =
    ((await readOptionalJson(join(folder, "vae_decoder", "config.json"))) ??
      (await readOptionalJson(join(folder, "vae", "config.json"))) ??
      {}) as Record<string, unknown>;
  const scaling = vaeConfig.scaling_factor ?? index.raw.vae_scaling_factor;
  const blocks = vaeConfig.block_out_channels;
  const vaeEncoderPath = join(folder, "vae_encoder", "model.onnx");
  return {
    dir: folder,
    index,
    textEncoderPath: join(folder, required.textEncoderPath),
    unetPath: join(folder, required.unetPath),
    vaeDecoderPath: join(folder, required.vaeDecoderPath),
    vaeEncoderPath: (await exists(vaeEncoderPath)) ? vaeEncoderPath : null,
    tokenizerDir: join(folder, "tokenizer"),
    schedulerConfig,
    defaultScheduler: schedulerNameFromConfig(schedulerConfig),
    vaeScalingFactor: typeof scaling === "number" && scaling > 0 ? scaling : DEFAULT_SCALING_FACTOR,
    vaeScaleFactor: Array.isArray(blocks) && blocks.length > 0 ? 2 ** (blocks.length - 1) : 8,
    unetConfig: ((await readOptionalJson(join(folder, "unet", "config.json"))) ?? {}) as Record<string, unknown>,
  };
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

async function readJson(path: string, missingMessage: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    throw new ModelError(missingMessage || `${path} cannot be read`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ModelError(`${path} is not valid JSON: ${(err as Error).message}`);
  }
}

async function readOptionalJson(path: string): Promise<unknown> {
  return (await exists(path)) ? readJson(path, "") : null;
}
