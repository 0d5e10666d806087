import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { access, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import sharp from "sharp";
import { DiffusionEngine, ensureFixtureModel, fixtureFiles, readModelLayout } from "@lucid/diffusion";
import {
  ChecksumMismatchError,
  findModel,
  loadModelRegistry,
  MANIFEST_FILE,
  modelStatus,
  ModelPullError,
  pullModel,
  readManifest,
  UnknownModelError,
  verifyModel,
  type ModelEntry,
} from "../src/index.ts";
import { startLoopbackHub, type LoopbackHub } from "./hub-server.ts";

const run = promisify(execFile);
const CLI = fileURLToPath(new URL("../src/cli.ts", import.meta.url));
const REPO = "lucid/tiny-onnx";
const GATED = "lucid/gated-onnx";
const TOKEN = "hf_loopbacktoken";

let root: string;
let fixtureDir: string;
let hub: LoopbackHub;
let registryPath: string;
let registry: ModelEntry[];

const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");
const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );
/** A fresh models folder per test, so tests do not see each other's downloads. */
const freshModelsDir = async (name: string) => {
  const dir = join(root, "models", name);
  await mkdir(dir, { recursive: true });
  return dir;
};
const pull = (id: string, modelsDir: string, extra: Partial<Parameters<typeof pullModel>[1]> = {}) =>
  pullModel(findModel(registry, id), { modelsDir, hubUrl: hub.url, retryDelayMs: 10, ...extra });
const contentRequests = (path: string) =>
  hub.requests.filter((r) => r.path.includes(`/resolve/`) && r.path.endsWith(`/${path}`) && r.range !== "bytes=0-0");

async function cli(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, ["--import", "tsx", CLI, "--registry", registryPath, ...args], {
      env: { ...process.env, HF_ENDPOINT: hub.url, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), "lucid-models-"));
  fixtureDir = join(root, "hub", "tiny");
  // External data, so the hub serves a model.onnx_data beside each model.onnx like large real exports.
  await ensureFixtureModel(fixtureDir, { externalData: true });
  // Files a pipeline does not need: they must stay on the hub.
  await writeFile(join(fixtureDir, "README.md"), "# tiny\n");
  await writeFile(join(fixtureDir, "unet", "diffusion_pytorch_model.safetensors"), Buffer.alloc(64, 1));
  hub = await startLoopbackHub([
    { repo: REPO, dir: fixtureDir },
    { repo: GATED, dir: fixtureDir, token: TOKEN },
  ]);
  registryPath = join(root, "models.json");
  const defaults = { defaultScheduler: "euler", steps: 2, guidance: 7.5, width: 64, height: 64, description: "test" };
  await writeFile(
    registryPath,
    JSON.stringify([
      { id: "tiny-hub", source: { hub: { repo: REPO, revision: "main" } }, ...defaults },
      { id: "gated-hub", source: { hub: { repo: GATED, revision: "main" } }, ...defaults },
      { id: "lucid-tiny", source: { fixture: "tiny" }, ...defaults },
      { id: "on-disk", source: { local: "hub/tiny" }, ...defaults },
    ]),
  );
  registry = await loadModelRegistry(registryPath);
});

after(async () => {
  await hub?.close();
  await rm(root, { recursive: true, force: true });
});

describe("pull from a hub", () => {
  test("pulls the pipeline files into a folder the engine generates an image from", async () => {
    const modelsDir = await freshModelsDir("pull");
    const pulled = await pull("tiny-hub", modelsDir);

    assert.equal(pulled.dir, join(modelsDir, "tiny-hub"));
    const expected = ["model_index.json", ...fixtureFiles({ externalData: true }).filter((f) => f !== "model_index.json")].sort();
    assert.deepEqual(pulled.files.map((f) => f.path).sort(), expected);
    for (const file of expected) {
      assert.ok((await readFile(join(pulled.dir, file))).equals(await readFile(join(fixtureDir, file))), `${file} has the hub's bytes`);
    }
    assert.equal(await exists(join(pulled.dir, "README.md")), false, "README.md is not part of the pipeline");
    assert.equal(await exists(join(pulled.dir, "unet", "diffusion_pytorch_model.safetensors")), false, "PyTorch weights stay on the hub");
    // The listing is paginated (Link: rel="next"), and every page was read.
    assert.ok(hub.requests.some((r) => r.path.includes("/tree/main") && r.path.includes("cursor=")));

    const manifest = await readManifest(pulled.dir);
    assert.equal(manifest?.id, "tiny-hub");
    const onnxData = manifest!.files.find((f) => f.path === "unet/model.onnx_data")!;
    assert.equal(onnxData.sha256, sha256(await readFile(join(fixtureDir, "unet", "model.onnx_data"))));
    assert.deepEqual(onnxData.hubChecksum, { kind: "lfs-sha256", value: onnxData.sha256 });
    assert.equal(manifest!.files.find((f) => f.path === "model_index.json")!.hubChecksum?.kind, "git-blob-sha1");

    const layout = await readModelLayout(pulled.dir);
    assert.equal(layout.unetPath, join(pulled.dir, "unet", "model.onnx"));
    const engine = await DiffusionEngine.create();
    try {
      const { images } = await engine.generate({ modelDir: pulled.dir, prompt: "a lighthouse", width: 64, height: 64, steps: 2, guidance: 7.5, seed: 1 });
      const meta = await sharp(images[0]!.png).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height], ["png", 64, 64]);
    } finally {
      await engine.close();
    }
  });

  test("verify passes on a pulled model, fails naming a file with one flipped byte, and pull repairs only that file", async () => {
    const modelsDir = await freshModelsDir("verify");
    const entry = findModel(registry, "tiny-hub");
    const { dir } = await pull("tiny-hub", modelsDir);
    const good = await verifyModel(entry, modelsDir);
    assert.deepEqual(good.problems, []);
    assert.equal(good.ok, true);
    assert.equal(good.files, fixtureFiles({ externalData: true }).length);

    const damaged = join(dir, "unet", "model.onnx_data");
    const bytes = await readFile(damaged);
    bytes[100] = bytes[100]! ^ 0x01;
    await writeFile(damaged, bytes);
    const bad = await verifyModel(entry, modelsDir);
    assert.equal(bad.ok, false);
    assert.equal(bad.problems.length, 1);
    assert.match(bad.problems[0]!, /^unet\/model\.onnx_data: sha256 [0-9a-f]{64}, expected [0-9a-f]{64}$/);

    const before = hub.requests.length;
    await pull("tiny-hub", modelsDir);
    const downloaded = hub.requests.slice(before).filter((r) => r.path.includes("/resolve/") && r.range !== "bytes=0-0");
    assert.deepEqual(
      downloaded.map((r) => r.path.split("/resolve/main/")[1]),
      ["unet/model.onnx_data"],
    );
    assert.equal((await verifyModel(entry, modelsDir)).ok, true);
  });

  test("verify fails when a file is missing", async () => {
    const modelsDir = await freshModelsDir("missing");
    const { dir } = await pull("tiny-hub", modelsDir);
    await rm(join(dir, "tokenizer", "merges.txt"));
    const report = await verifyModel(findModel(registry, "tiny-hub"), modelsDir);
    assert.equal(report.ok, false);
    assert.ok(report.problems.includes("tokenizer/merges.txt: missing"), report.problems.join("\n"));
    assert.ok(report.problems.some((p) => p.includes("missing tokenizer/merges.txt")), "the layout check names it too");
  });

  test("a connection dropped mid-file is resumed with a Range request and ends with the right checksum", async () => {
    const modelsDir = await freshModelsDir("resume");
    const file = "unet/model.onnx_data";
    const original = await readFile(join(fixtureDir, file));
    const cut = Math.floor(original.length / 2);
    hub.faults.set(`${REPO}:${file}`, { kind: "drop-once", afterBytes: cut });
    const retries: string[] = [];
    const before = hub.requests.length;

    const { dir, files } = await pull("tiny-hub", modelsDir, { onRetry: (path) => retries.push(path) });

    assert.deepEqual(retries, [file]);
    const ranges = hub.requests
      .slice(before)
      .filter((r) => r.path.endsWith(`/${file}`) && r.range !== "bytes=0-0")
      .map((r) => r.range);
    assert.equal(ranges.length, 2, `requests: ${JSON.stringify(ranges)}`);
    const resumedFrom = Number(/^bytes=(\d+)-(\d+)$/.exec(ranges[1] ?? "")?.[1]);
    assert.ok(resumedFrom > 0 && resumedFrom <= cut, `second request resumes past byte 0: ${ranges[1]}`);
    assert.equal(ranges[1], `bytes=${resumedFrom}-${original.length - 1}`);
    assert.ok((await readFile(join(dir, file))).equals(original));
    assert.equal(files.find((f) => f.path === file)?.sha256, sha256(original));
    assert.equal(await exists(join(dir, `${file}.part`)), false);
  });

  test("a .part left by an earlier, interrupted run is continued, not restarted", async () => {
    const modelsDir = await freshModelsDir("resume-run");
    const file = "text_encoder/model.onnx_data";
    const original = await readFile(join(fixtureDir, file));
    const have = 1000;
    await mkdir(join(modelsDir, "tiny-hub", "text_encoder"), { recursive: true });
    await writeFile(join(modelsDir, "tiny-hub", `${file}.part`), original.subarray(0, have));
    const before = hub.requests.length;

    const { dir } = await pull("tiny-hub", modelsDir);

    const ranges = hub.requests
      .slice(before)
      .filter((r) => r.path.endsWith(`/${file}`) && r.range !== "bytes=0-0")
      .map((r) => r.range);
    assert.deepEqual(ranges, [`bytes=${have}-${original.length - 1}`]);
    assert.ok((await readFile(join(dir, file))).equals(original));
  });

  test("a download with wrong bytes is rejected and never moved into place", async () => {
    const modelsDir = await freshModelsDir("corrupt");
    const file = "unet/model.onnx";
    hub.faults.set(`${REPO}:${file}`, { kind: "corrupt" });
    try {
      await assert.rejects(pull("tiny-hub", modelsDir), (err: Error) => {
        assert.ok(err instanceof ChecksumMismatchError, `${err.name}: ${err.message}`);
        assert.match(err.message, /^unet\/model\.onnx: downloaded \d+ bytes with lfs-sha256 [0-9a-f]{64}, but the hub lists/);
        return true;
      });
    } finally {
      hub.faults.delete(`${REPO}:${file}`);
    }
    const dir = join(modelsDir, "tiny-hub");
    assert.equal(await exists(join(dir, file)), false);
    assert.equal(await exists(join(dir, `${file}.part`)), false);
    assert.equal(await exists(join(dir, MANIFEST_FILE)), false);
    assert.equal((await modelStatus(findModel(registry, "tiny-hub"), modelsDir)).installed, false);
  });

  test("a gated repo needs the token, and says so without it", async () => {
    const modelsDir = await freshModelsDir("gated");
    await assert.rejects(pull("gated-hub", modelsDir), (err: Error) => {
      assert.ok(err instanceof ModelPullError);
      assert.match(err.message, /cannot list lucid\/gated-onnx@main: .*restricted.*set HF_TOKEN/);
      return true;
    });
    const { files } = await pull("gated-hub", modelsDir, { accessToken: TOKEN });
    assert.equal(files.length, fixtureFiles({ externalData: true }).length);
    assert.ok(hub.requests.filter((r) => r.path.includes(GATED)).some((r) => r.authorization === `Bearer ${TOKEN}`));
  });
});

describe("registry and CLI", () => {
  test("the repository's models.json is valid and lists the fixture and real hub models", async () => {
    const models = await loadModelRegistry();
    assert.deepEqual(findModel(models, "lucid-tiny").source, { fixture: "tiny" });
    const turbo = findModel(models, "sd-turbo");
    assert.ok("hub" in turbo.source);
    assert.deepEqual([turbo.guidance, turbo.width, turbo.height, turbo.defaultScheduler], [0, 512, 512, "euler_ancestral"]);
    const sd15 = findModel(models, "sd15");
    assert.deepEqual([sd15.steps, sd15.guidance, sd15.defaultScheduler], [25, 7.5, "euler"]);
  });

  test("a registry with a duplicate id or an unknown scheduler is rejected with the offending field", async () => {
    const path = join(root, "bad-models.json");
    const entry = { id: "a", source: { fixture: "tiny" }, defaultScheduler: "euler", steps: 2, guidance: 1, width: 64, height: 64, description: "" };
    await writeFile(path, JSON.stringify([entry, { ...entry, defaultScheduler: "warp-drive" }]));
    await assert.rejects(loadModelRegistry(path), (err: Error) => {
      assert.equal(err.name, "ModelRegistryError");
      assert.match(err.message, /expected one of euler, .*\n.*at \[1\]\.defaultScheduler/);
      return true;
    });
    await writeFile(path, JSON.stringify([entry, { ...entry, description: "again" }]));
    await assert.rejects(loadModelRegistry(path), (err: Error) => {
      assert.equal(err.name, "ModelRegistryError");
      assert.match(err.message, /duplicate model id "a"\n.*at \[1\]\.id/);
      return true;
    });
  });

  test("an unknown id is a clear error, from the API and the CLI", async () => {
    assert.throws(() => findModel(registry, "sd-99"), (err: Error) => err instanceof UnknownModelError && /unknown model "sd-99".*tiny-hub, gated-hub, lucid-tiny, on-disk/.test(err.message));
    const { code, stderr } = await cli(["pull", "sd-99", "--models-dir", await freshModelsDir("cli-unknown")]);
    assert.equal(code, 1);
    assert.match(stderr, /models: unknown model "sd-99"; the registry lists: tiny-hub, gated-hub, lucid-tiny, on-disk/);
  });

  test("CLI: pull (from HF_ENDPOINT), list shows installed status, verify exits 0 then 1 after damage", async () => {
    const modelsDir = await freshModelsDir("cli");
    const listBefore = await cli(["list", "--models-dir", modelsDir]);
    assert.equal(listBefore.code, 0, listBefore.stderr);
    assert.match(listBefore.stdout, /^tiny-hub\s+hub:lucid\/tiny-onnx@main\s+not installed$/m);

    const pulled = await cli(["pull", "tiny-hub", "--models-dir", modelsDir]);
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.match(pulled.stdout, /tiny-hub: ready in .*\(\d+ files, .*checksums verified\)/);
    const fixture = await cli(["pull", "lucid-tiny", "--models-dir", modelsDir]);
    assert.equal(fixture.code, 0, fixture.stderr);

    const list = await cli(["list", "--models-dir", modelsDir]);
    assert.match(list.stdout, /^tiny-hub\s+hub:lucid\/tiny-onnx@main\s+installed$/m);
    assert.match(list.stdout, /^gated-hub\s+hub:lucid\/gated-onnx@main\s+not installed$/m);
    assert.match(list.stdout, /^lucid-tiny\s+fixture:tiny\s+installed$/m);
    assert.match(list.stdout, /^on-disk\s+local:.*hub\/tiny\s+installed$/m);

    assert.equal((await cli(["verify", "tiny-hub", "--models-dir", modelsDir])).code, 0);
    assert.equal((await cli(["verify", "lucid-tiny", "--models-dir", modelsDir])).code, 0);
    await copyFile(join(modelsDir, "tiny-hub", "vae_decoder", "model.onnx"), join(modelsDir, "tiny-hub", "unet", "model.onnx"));
    const failed = await cli(["verify", "tiny-hub", "--models-dir", modelsDir]);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /tiny-hub: verification FAILED/);
    assert.match(failed.stderr, /- unet\/model\.onnx: (size|sha256) /);
  });
});
