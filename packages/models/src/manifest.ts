// `.lucid-manifest.json`: what a model folder held when it was installed (each
// file's size and sha256), written last, so its presence means "installed", and
// re-hashed by `verify`.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile, rename, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { readModelLayout } from "@lucid/diffusion";
import { z } from "zod";

export const MANIFEST_FILE = ".lucid-manifest.json";

const manifestFileSchema = z.object({
  path: z.string(),
  size: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** The hub's own checksum the download was checked against (LFS sha256 or git blob sha1). */
  hubChecksum: z.object({ kind: z.enum(["lfs-sha256", "git-blob-sha1"]), value: z.string() }).optional(),
});

const manifestSchema = z.object({
  version: z.literal(1),
  id: z.string(),
  source: z.record(z.string(), z.unknown()),
  installedAt: z.string(),
  files: z.array(manifestFileSchema),
});

export type ManifestFile = z.infer<typeof manifestFileSchema>;
export type ModelManifest = z.infer<typeof manifestSchema>;

export interface FileDigests {
  size: number;
  sha256: string;
  /** sha1 of "blob <size>\0<content>": git's object id, which the hub lists for non-LFS files. */
  gitBlobSha1: string;
}

/** One pass over the file computing both the sha256 and git's blob sha1. */
export async function hashFile(path: string): Promise<FileDigests> {
  const { size } = await stat(path);
  const sha256 = createHash("sha256");
  const sha1 = createHash("sha1").update(`blob ${size}\0`);
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    sha256.update(chunk as Buffer);
    sha1.update(chunk as Buffer);
  }
  return { size, sha256: sha256.digest("hex"), gitBlobSha1: sha1.digest("hex") };
}

export async function readManifest(dir: string): Promise<ModelManifest | null> {
  let text: string;
  try {
    text = await readFile(join(dir, MANIFEST_FILE), "utf8");
  } catch {
    return null;
  }
  return manifestSchema.parse(JSON.parse(text));
}

export async function writeManifest(dir: string, manifest: ModelManifest): Promise<void> {
  const path = join(dir, MANIFEST_FILE);
  await writeFile(`${path}.tmp`, `${JSON.stringify(manifest, null, 2)}\n`);
  await rename(`${path}.tmp`, path);
}

export interface VerifyReport {
  ok: boolean;
  dir: string;
  files: number;
  bytes: number;
  /** One line per problem, naming the file ("unet/model.onnx: sha256 mismatch ..."). */
  problems: string[];
}

/**
 * Re-hashes every file the manifest lists and checks the folder is a runnable
 * ONNX Stable Diffusion layout. Never throws for a damaged folder: the report says what is wrong.
 */
export async function verifyModelDir(dir: string, onFile?: (path: string, index: number, count: number) => void): Promise<VerifyReport> {
  const report: VerifyReport = { ok: false, dir, files: 0, bytes: 0, problems: [] };
  let manifest: ModelManifest | null;
  try {
    manifest = await readManifest(dir);
  } catch (err) {
    report.problems.push(`${MANIFEST_FILE} is unreadable: ${(err as Error).message}`);
    return report;
  }
  if (!manifest) {
    report.problems.push(`${MANIFEST_FILE} is missing: the model was never pulled completely (run \`npm run models -- pull <id>\`)`);
    return report;
  }
  for (const [index, file] of manifest.files.entries()) {
    onFile?.(file.path, index, manifest.files.length);
    let digests: FileDigests;
    try {
      digests = await hashFile(join(dir, file.path));
    } catch {
      report.problems.push(`${file.path}: missing`);
      continue;
    }
    report.files += 1;
    report.bytes += digests.size;
    if (digests.size !== file.size) report.problems.push(`${file.path}: size ${digests.size}, expected ${file.size}`);
    else if (digests.sha256 !== file.sha256) report.problems.push(`${file.path}: sha256 ${digests.sha256}, expected ${file.sha256}`);
  }
  try {
    await readModelLayout(dir);
  } catch (err) {
    report.problems.push((err as Error).message);
  }
  report.ok = report.problems.length === 0;
  return report;
}
