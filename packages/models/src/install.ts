// Installing, checking and listing the registry's models in the models folder.
import { access, mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { ensureFixtureModel, fixtureFiles, readModelLayout, type ModelLayout } from "@lucid/diffusion";
import { hubConnectionFromEnv, pullHubRepo, type HubConnection, type PullProgress } from "./hub.ts";
import { hashFile, MANIFEST_FILE, readManifest, verifyModelDir, writeManifest, type ManifestFile, type VerifyReport } from "./manifest.ts";
import { resolveModelDir, type ModelEntry } from "./registry.ts";

export interface PullModelOptions extends HubConnection {
  /** `$LUCID_DATA_DIR/models`; see defaultModelsDir(). */
  modelsDir: string;
  onProgress?: (progress: PullProgress) => void;
  onRetry?: (file: string, attempt: number, error: Error) => void;
  /** Tries per file (hub models). Default 5. */
  attempts?: number;
  retryDelayMs?: number;
}

export interface PulledModel {
  dir: string;
  layout: ModelLayout;
  files: ManifestFile[];
}

/**
 * Makes `entry` runnable in its folder: downloads a hub model (resuming earlier
 * partial downloads, checking every checksum), writes a fixture model, or checks
 * a local folder. Ends with the layout check and, for hub and fixture models, the
 * manifest that `verifyModel` re-hashes against.
 */
export async function pullModel(entry: ModelEntry, options: PullModelOptions): Promise<PulledModel> {
  const dir = resolveModelDir(entry, options.modelsDir);
  const { source } = entry;
  if ("local" in source) {
    return { dir, layout: await readModelLayout(dir), files: [] };
  }
  await mkdir(dir, { recursive: true });
  // Until the new manifest is written the folder does not count as installed.
  await rm(join(dir, MANIFEST_FILE), { force: true });
  let files: ManifestFile[];
  if ("hub" in source) {
    const env = hubConnectionFromEnv();
    files = await pullHubRepo({
      repo: source.hub.repo,
      revision: source.hub.revision,
      dir,
      hubUrl: options.hubUrl ?? env.hubUrl,
      accessToken: options.accessToken ?? env.accessToken,
      attempts: options.attempts,
      retryDelayMs: options.retryDelayMs,
      onProgress: options.onProgress,
      onRetry: options.onRetry,
    });
  } else {
    await ensureFixtureModel(dir, { size: source.fixture });
    files = [];
    for (const path of fixtureFiles()) {
      const { size, sha256 } = await hashFile(join(dir, path));
      files.push({ path, size, sha256 });
    }
  }
  const layout = await readModelLayout(dir);
  await writeManifest(dir, { version: 1, id: entry.id, source, installedAt: new Date().toISOString(), files });
  return { dir, layout, files };
}

/** Re-hashes the model's files against its manifest and checks its layout. */
export async function verifyModel(entry: ModelEntry, modelsDir: string, onFile?: (path: string, index: number, count: number) => void): Promise<VerifyReport> {
  const dir = resolveModelDir(entry, modelsDir);
  if ("local" in entry.source && !(await exists(join(dir, MANIFEST_FILE)))) {
    // A folder the operator manages: nothing to hash against, only the layout to check.
    try {
      await readModelLayout(dir);
      return { ok: true, dir, files: 0, bytes: 0, problems: [] };
    } catch (err) {
      return { ok: false, dir, files: 0, bytes: 0, problems: [(err as Error).message] };
    }
  }
  return verifyModelDir(dir, onFile);
}

export interface ModelStatus {
  entry: ModelEntry;
  dir: string;
  installed: boolean;
  /** Why it does not count as installed. */
  reason?: string;
}

/**
 * Cheap (no hashing): a hub model is installed once its manifest is written and its
 * layout is whole; a fixture or local model once its layout is whole.
 */
export async function modelStatus(entry: ModelEntry, modelsDir: string): Promise<ModelStatus> {
  const dir = resolveModelDir(entry, modelsDir);
  if ("hub" in entry.source) {
    const manifest = await readManifest(dir).catch(() => null);
    if (!manifest) return { entry, dir, installed: false, reason: "not pulled" };
  }
  try {
    await readModelLayout(dir);
    return { entry, dir, installed: true };
  } catch (err) {
    return { entry, dir, installed: false, reason: (err as Error).message };
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
