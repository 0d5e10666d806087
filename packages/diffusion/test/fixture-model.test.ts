import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import ort from "onnxruntime-node";
import { ensureFixtureModel, fixtureFiles, readModelLayout } from "../src/index.ts";

const signature = (list: readonly ort.InferenceSession.ValueMetadata[]) =>
  list.map((m) => (m.isTensor ? `${m.name}:${m.type}[${m.shape.join(",")}]` : m.name));

async function folderBytes(dir: string, files: string[]): Promise<number> {
  const sizes = await Promise.all(files.map(async (f) => (await stat(join(dir, f))).size));
  return sizes.reduce((a, b) => a + b, 0);
}

describe("fixture model", () => {
  let root: string;
  let dir: string;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), "lucid-fixture-"));
    dir = join(root, "tiny");
    await ensureFixtureModel(dir);
  });
  after(() => rm(root, { recursive: true, force: true }));

  test("has the Hugging Face ONNX Stable Diffusion folder layout", async () => {
    for (const file of fixtureFiles()) await stat(join(dir, file));
    const index = JSON.parse(await readFile(join(dir, "model_index.json"), "utf8"));
    assert.deepEqual(index.unet, ["diffusers", "OnnxRuntimeModel"]);
    assert.deepEqual(index.tokenizer, ["transformers", "CLIPTokenizer"]);
    const vocab = JSON.parse(await readFile(join(dir, "tokenizer", "vocab.json"), "utf8"));
    assert.equal(Object.keys(vocab).length, 49408);
    assert.equal(vocab["<|endoftext|>"], 49407);
    const scheduler = JSON.parse(await readFile(join(dir, "scheduler", "scheduler_config.json"), "utf8"));
    assert.equal(scheduler._class_name, "EulerDiscreteScheduler");
    assert.equal(scheduler.num_train_timesteps, 1000);
    assert.equal(scheduler.beta_start, 0.00085);
    assert.equal(scheduler.beta_end, 0.012);
    assert.equal(scheduler.beta_schedule, "scaled_linear");
    assert.equal(scheduler.steps_offset, 1);
    assert.equal(scheduler.prediction_type, "epsilon");
    assert.equal(scheduler.timestep_spacing, "leading");
    const layout = await readModelLayout(dir);
    assert.equal(layout.defaultScheduler, "euler");
    assert.equal(layout.vaeScalingFactor, 0.18215);
  });

  test("declares optimum's input/output names, element types and dynamic axes", async () => {
    const expected: Record<string, [string[], string[]]> = {
      text_encoder: [["input_ids:int32[batch_size,sequence_length]"], ["last_hidden_state:float32[batch_size,sequence_length,32]", "pooler_output:float32[batch_size,32]"]],
      unet: [
        ["sample:float32[batch_size,4,height,width]", "timestep:int64[1]", "encoder_hidden_states:float32[batch_size,sequence_length,32]"],
        ["out_sample:float32[batch_size,4,height,width]"],
      ],
      vae_decoder: [["latent_sample:float32[batch_size,4,latent_height,latent_width]"], ["sample:float32[batch_size,3,image_height,image_width]"]],
      vae_encoder: [["sample:float32[batch_size,3,height,width]"], ["latent_sample:float32[batch_size,4,latent_height,latent_width]"]],
    };
    for (const [component, [inputs, outputs]] of Object.entries(expected)) {
      const session = await ort.InferenceSession.create(join(dir, component, "model.onnx"));
      assert.deepEqual(signature(session.inputMetadata), inputs, component);
      assert.deepEqual(signature(session.outputMetadata), outputs, component);
      await session.release();
    }
  });

  test("VAE round trip keeps the ×8 geometry", async () => {
    const encoder = await ort.InferenceSession.create(join(dir, "vae_encoder", "model.onnx"));
    const decoder = await ort.InferenceSession.create(join(dir, "vae_decoder", "model.onnx"));
    const image = new ort.Tensor("float32", new Float32Array(3 * 64 * 96).fill(0.25), [1, 3, 64, 96]);
    const { latent_sample } = await encoder.run({ sample: image });
    assert.deepEqual(latent_sample!.dims, [1, 4, 8, 12]);
    const { sample } = await decoder.run({ latent_sample: latent_sample! });
    assert.deepEqual(sample!.dims, [1, 3, 64, 96]);
    await Promise.all([encoder.release(), decoder.release()]);
  });

  test("is byte-identical on every run and stays well under 5 MB", async () => {
    const again = join(root, "again");
    await ensureFixtureModel(again);
    for (const file of fixtureFiles()) {
      assert.ok((await readFile(join(dir, file))).equals(await readFile(join(again, file))), file);
    }
    assert.ok((await folderBytes(dir, fixtureFiles())) < 5_000_000);
  });

  test("is not rewritten when already complete, and is completed when a file is missing", async () => {
    const unet = join(dir, "unet", "model.onnx");
    const before = (await stat(unet)).mtimeMs;
    await ensureFixtureModel(dir);
    assert.equal((await stat(unet)).mtimeMs, before);
    await rm(join(dir, "vae_decoder", "model.onnx"));
    await ensureFixtureModel(dir);
    await stat(join(dir, "vae_decoder", "model.onnx"));
  });

  test("refuses to overwrite a folder holding some other model", async () => {
    const other = join(root, "other");
    await mkdir(other);
    await writeFile(join(other, "model_index.json"), JSON.stringify({ _class_name: "StableDiffusionPipeline" }));
    await assert.rejects(ensureFixtureModel(other), /not a Lucid fixture/);
  });

  test("fp16 variant has half-precision I/O; external-data variant keeps weights in model.onnx_data", async () => {
    const half = join(root, "fp16");
    await ensureFixtureModel(half, { precision: "fp16" });
    const unet = await ort.InferenceSession.create(join(half, "unet", "model.onnx"));
    assert.deepEqual(
      unet.inputMetadata.map((m) => (m.isTensor ? m.type : "")),
      ["float16", "int64", "float16"],
    );
    await unet.release();

    const external = join(root, "external");
    await ensureFixtureModel(external, { externalData: true });
    for (const file of fixtureFiles({ externalData: true })) await stat(join(external, file));
    const inline = (await stat(join(dir, "unet", "model.onnx"))).size;
    const slim = (await stat(join(external, "unet", "model.onnx"))).size;
    const data = (await stat(join(external, "unet", "model.onnx_data"))).size;
    assert.ok(slim < inline / 4 && data > inline / 2, `model.onnx ${slim} B, model.onnx_data ${data} B, inline ${inline} B`);
  });
});

