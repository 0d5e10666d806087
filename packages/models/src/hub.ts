// Downloading an ONNX Stable Diffusion pipeline from the Hugging Face hub (or any
// server speaking its API, e.g. a mirror named by HF_ENDPOINT) with
// @huggingface/hub: list the repo's tree, fetch the pipeline's files into
// `<file>.part`, resume with a Range request after a dropped connection, check
// each file against the checksum the hub lists, then rename it into place.
import { createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat, truncate, writeFile } from "node:fs/promises";
import { dirname, join, posix, relative, resolve, sep } from "node:path";
import { Readable } from "node:stream";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { pipeline } from "node:stream/promises";
import { setTimeout as delay } from "node:timers/promises";
import { downloadFile, HubApiError, listFiles, type ListFileEntry } from "@huggingface/hub";
import { hashFile, type FileDigests, type ManifestFile } from "./manifest.ts";

export const DEFAULT_HUB_URL = "https://huggingface.co";

/** The parts of a diffusers repo a txt2img/img2img pipeline needs; README, PyTorch weights etc. stay behind. */
export const PIPELINE_FOLDERS = ["text_encoder", "unet", "vae_decoder", "vae_encoder", "tokenizer", "scheduler"] as const;

export class ModelPullError extends Error {
  override name = "ModelPullError";
}

/** A downloaded file did not hash to what the hub lists; it was deleted, not moved into place. */
export class ChecksumMismatchError extends ModelPullError {
  override name = "ChecksumMismatchError";
}

export interface HubConnection {
  /** Default `HF_ENDPOINT` or https://huggingface.co. */
  hubUrl?: string;
  /** Default `HF_TOKEN`; needed for gated or private repos. */
  accessToken?: string;
}

export interface PullProgress {
  /** The file being downloaded, relative to the repo root. */
  file: string;
  fileIndex: number;
  fileCount: number;
  /** Bytes on disk across all files (including resumed `.part` bytes and skipped files). */
  bytesDone: number;
  bytesTotal: number;
}

export interface HubPullOptions extends HubConnection {
  repo: string;
  revision: string;
  dir: string;
  /** Tries per file; each retry resumes from the bytes already in `<file>.part`. Default 5. */
  attempts?: number;
  /** First retry delay; doubles each time. Default 500 ms. */
  retryDelayMs?: number;
  onProgress?: (progress: PullProgress) => void;
  /** A file failed mid-way and is being resumed. */
  onRetry?: (file: string, attempt: number, error: Error) => void;
}

export function hubConnectionFromEnv(env: NodeJS.ProcessEnv = process.env): Required<Pick<HubConnection, "hubUrl">> & HubConnection {
  return {
    hubUrl: (env.HF_ENDPOINT || DEFAULT_HUB_URL).replace(/\/+$/, ""),
    accessToken: env.HF_TOKEN || undefined,
  };
}

interface WantedFile {
  path: string;
  size: number;
  /** Null only for a xet-only entry without LFS metadata: then the size is all the listing vouches for. */
  checksum: ManifestFile["hubChecksum"] | null;
}

/** The pipeline files of `repo@revision`, with the checksum the hub gives for each. */
export async function listPipelineFiles(options: HubPullOptions): Promise<WantedFile[]> {
  const entries: ListFileEntry[] = [];
  try {
    for await (const entry of listFiles({
      repo: { type: "model", name: options.repo },
      revision: options.revision,
      recursive: true,
      hubUrl: options.hubUrl,
      accessToken: options.accessToken,
    })) {
      entries.push(entry);
    }
  } catch (err) {
    throw new ModelPullError(`cannot list ${options.repo}@${options.revision}: ${describeHubError(err)}`);
  }
  const wanted = entries
    .filter((e) => e.type === "file" && isPipelineFile(e.path))
    .map((e): WantedFile => ({
      path: e.path,
      size: e.lfs?.size ?? e.size,
      // LFS (and xet-backed) files: the listing's lfs.oid is the content's sha256. Others: git's blob id.
      checksum: e.lfs
        ? { kind: "lfs-sha256", value: e.lfs.oid }
        : e.oid && !e.xetHash
          ? { kind: "git-blob-sha1", value: e.oid }
          : null,
    }))
    .sort((a, b) => a.path.localeCompare(b.path));
  if (!wanted.some((f) => f.path === "model_index.json")) {
    throw new ModelPullError(`${options.repo}@${options.revision} has no model_index.json at its root: not a diffusers pipeline repo`);
  }
  return wanted;
}

/** Framework weights some repos keep beside the ONNX files; the ONNX pipeline never reads them. */
const NON_ONNX_WEIGHTS = /\.(safetensors|ckpt|pt|pth|msgpack|h5)$/;

function isPipelineFile(path: string): boolean {
  const [head, ...rest] = path.split("/");
  if (path === "model_index.json") return true;
  return rest.length > 0 && (PIPELINE_FOLDERS as readonly string[]).includes(head!) && !NON_ONNX_WEIGHTS.test(path);
}

/**
 * Downloads the pipeline files of `repo@revision` into `dir`. Files already
 * there with the right checksum are kept. Returns the manifest entries.
 */
export async function pullHubRepo(options: HubPullOptions): Promise<ManifestFile[]> {
  const files = await listPipelineFiles(options);
  const bytesTotal = files.reduce((sum, f) => sum + f.size, 0);
  let bytesBefore = 0;
  const result: ManifestFile[] = [];
  for (const [fileIndex, file] of files.entries()) {
    const report = (bytesInFile: number) =>
      options.onProgress?.({ file: file.path, fileIndex, fileCount: files.length, bytesDone: bytesBefore + bytesInFile, bytesTotal });
    const dest = safeJoin(options.dir, file.path);
    let digests = await existingMatch(dest, file);
    if (digests) report(file.size);
    else digests = await downloadVerified(options, file, dest, report);
    result.push({ path: file.path, size: digests.size, sha256: digests.sha256, ...(file.checksum ? { hubChecksum: file.checksum } : {}) });
    bytesBefore += file.size;
  }
  return result;
}

async function existingMatch(dest: string, file: WantedFile): Promise<FileDigests | null> {
  const info = await stat(dest).catch(() => null);
  if (!info?.isFile() || info.size !== file.size) return null;
  const digests = await hashFile(dest);
  return checksumMatches(digests, file) ? digests : null;
}

function checksumMatches(digests: FileDigests, file: WantedFile): boolean {
  if (digests.size !== file.size) return false;
  if (!file.checksum) return true;
  return file.checksum.kind === "lfs-sha256" ? digests.sha256 === file.checksum.value : digests.gitBlobSha1 === file.checksum.value;
}

async function downloadVerified(options: HubPullOptions, file: WantedFile, dest: string, report: (bytes: number) => void): Promise<FileDigests> {
  const attempts = options.attempts ?? 5;
  const part = `${dest}.part`;
  await mkdir(dirname(part), { recursive: true });
  await writeFile(part, "", { flag: "a" });
  let blob: Blob | null = null;
  // A `.part` left by an earlier run may belong to other bytes (the branch moved on):
  // when a resumed file fails its checksum, start it once more from zero.
  let resumedFromEarlierRun = (await stat(part)).size > 0;

  for (let attempt = 1; ; attempt++) {
    let have = (await stat(part)).size;
    if (have > file.size) {
      await truncate(part, 0);
      have = 0;
    }
    if (have < file.size) {
      try {
        blob ??= await downloadFile({
          repo: { type: "model", name: options.repo },
          path: file.path,
          revision: options.revision,
          hubUrl: options.hubUrl,
          accessToken: options.accessToken,
        });
        if (!blob) throw new ModelPullError(`${file.path} is listed in ${options.repo}@${options.revision} but cannot be downloaded (404)`);
        if (blob.size !== file.size) throw new ModelPullError(`${file.path}: the hub serves ${blob.size} bytes but lists ${file.size}`);
        let written = have;
        report(written);
        // The library's blob turns slice(n) into an HTTP Range request from byte n (or the xet equivalent).
        const body = Readable.fromWeb(blob.slice(have).stream() as unknown as NodeReadableStream<Uint8Array>);
        await pipeline(
          body,
          async function* (source: AsyncIterable<Uint8Array>) {
            for await (const chunk of source) {
              written += chunk.length;
              report(written);
              yield chunk;
            }
          },
          createWriteStream(part, { flags: "a" }),
        );
      } catch (err) {
        if (attempt >= attempts || isPermanent(err)) {
          throw err instanceof ModelPullError ? err : new ModelPullError(`${file.path}: ${describeHubError(err)}`);
        }
        options.onRetry?.(file.path, attempt, new Error(describeHubError(err), { cause: err }));
        await delay((options.retryDelayMs ?? 500) * 2 ** (attempt - 1));
        continue;
      }
    }
    const digests = await hashFile(part);
    if (!checksumMatches(digests, file)) {
      await rm(part, { force: true });
      if (resumedFromEarlierRun && attempt < attempts) {
        resumedFromEarlierRun = false;
        await writeFile(part, "");
        continue;
      }
      const { checksum } = file;
      const got = checksum ? ` with ${checksum.kind} ${checksum.kind === "lfs-sha256" ? digests.sha256 : digests.gitBlobSha1}` : "";
      const listed = checksum ? ` with ${checksum.value}` : "";
      throw new ChecksumMismatchError(
        `${file.path}: downloaded ${digests.size} bytes${got}, but the hub lists ${file.size} bytes${listed}; the download was discarded`,
      );
    }
    await rename(part, dest);
    return digests;
  }
}

function isPermanent(err: unknown): boolean {
  if (err instanceof HubApiError) return err.statusCode >= 400 && err.statusCode < 500 && err.statusCode !== 408 && err.statusCode !== 429;
  return err instanceof ModelPullError;
}

function describeHubError(err: unknown): string {
  if (err instanceof HubApiError) {
    if (err.statusCode === 401 || err.statusCode === 403) {
      return `${err.message} (a gated or private repo: accept its licence on the hub and set HF_TOKEN)`;
    }
    return err.message;
  }
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    return cause instanceof Error ? `${err.message} (${cause.message})` : err.message;
  }
  return String(err);
}

/** Joins a path from the hub's listing under `dir`, refusing anything that would escape it. */
function safeJoin(dir: string, path: string): string {
  const normal = posix.normalize(path);
  const full = resolve(dir, ...normal.split("/"));
  const rel = relative(resolve(dir), full);
  if (normal.startsWith("/") || rel === "" || rel.startsWith("..") || rel.split(sep).includes("..")) {
    throw new ModelPullError(`refusing the hub path "${path}": it leaves the model folder`);
  }
  return join(resolve(dir), rel);
}
