// The model registry (models.json at the repository root): which models Lucid
// knows, where each comes from and the generation defaults that suit it.
import { readFile } from "node:fs/promises";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { isSchedulerName, SCHEDULER_NAMES, type SchedulerName } from "@lucid/diffusion";
import { z } from "zod";

/** models.json at the repository root. */
export const DEFAULT_REGISTRY_PATH = fileURLToPath(new URL("../../../models.json", import.meta.url));

const hubSource = z.strictObject({
  hub: z.strictObject({
    /** "owner/name" on the Hugging Face hub. */
    repo: z.string().regex(/^[\w.-]+\/[\w.-]+$/, "expected owner/name"),
    /** Branch, tag or (better: reproducible) commit sha. */
    revision: z.string().min(1).default("main"),
  }),
});
const localSource = z.strictObject({ local: z.string().min(1) });
const fixtureSource = z.strictObject({ fixture: z.enum(["tiny", "bench"]) });

export const modelEntrySchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, "lower-case letters, digits, '.', '_' and '-'"),
  source: z.union([hubSource, localSource, fixtureSource]),
  defaultScheduler: z.custom<SchedulerName>((v) => typeof v === "string" && isSchedulerName(v), {
    message: `expected one of ${SCHEDULER_NAMES.join(", ")}`,
  }),
  steps: z.number().int().min(1).max(200),
  guidance: z.number().min(0).max(30),
  width: z.number().int().positive().multipleOf(8),
  height: z.number().int().positive().multipleOf(8),
  description: z.string(),
});

export const modelRegistrySchema = z
  .array(modelEntrySchema)
  .superRefine((entries, ctx) => {
    const seen = new Set<string>();
    for (const [index, entry] of entries.entries()) {
      if (seen.has(entry.id)) ctx.addIssue({ code: "custom", message: `duplicate model id "${entry.id}"`, path: [index, "id"] });
      seen.add(entry.id);
    }
  });

export type ModelEntry = z.infer<typeof modelEntrySchema>;
export type ModelSource = ModelEntry["source"];
export type HubSource = z.infer<typeof hubSource>["hub"];

export class ModelRegistryError extends Error {
  override name = "ModelRegistryError";
}

/** Asked for an id the registry does not list. */
export class UnknownModelError extends Error {
  override name = "UnknownModelError";
  constructor(
    readonly id: string,
    readonly known: readonly string[],
  ) {
    super(`unknown model "${id}"; the registry lists: ${known.join(", ") || "(none)"}`);
  }
}

/**
 * Reads and validates the registry. Local sources are resolved against the
 * registry file's folder, so entries can name paths relative to it.
 */
export async function loadModelRegistry(path: string = DEFAULT_REGISTRY_PATH): Promise<ModelEntry[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new ModelRegistryError(`cannot read the model registry ${path}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ModelRegistryError(`${path} is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = modelRegistrySchema.safeParse(json);
  if (!parsed.success) throw new ModelRegistryError(`${path} is not a valid model registry:\n${z.prettifyError(parsed.error)}`);
  const base = dirname(resolve(path));
  return parsed.data.map((entry) =>
    "local" in entry.source && !isAbsolute(entry.source.local) ? { ...entry, source: { local: resolve(base, entry.source.local) } } : entry,
  );
}

export function findModel(registry: readonly ModelEntry[], id: string): ModelEntry {
  const entry = registry.find((e) => e.id === id);
  if (!entry) throw new UnknownModelError(id, registry.map((e) => e.id));
  return entry;
}

/** Where a model's files live: its own path for local models, `<modelsDir>/<id>` otherwise. */
export function resolveModelDir(entry: ModelEntry, modelsDir: string): string {
  return "local" in entry.source ? resolve(entry.source.local) : resolve(join(modelsDir, entry.id));
}

/** `$LUCID_DATA_DIR/models` (default `.lucid/models`), the folder the worker reads models from. */
export function defaultModelsDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.LUCID_DATA_DIR ?? ".lucid", "models");
}

/** One line saying where a model comes from, e.g. "hub:owner/name@rev". */
export function describeSource(source: ModelSource): string {
  if ("hub" in source) return `hub:${source.hub.repo}@${source.hub.revision.slice(0, 12)}`;
  if ("local" in source) return `local:${source.local}`;
  return `fixture:${source.fixture}`;
}
