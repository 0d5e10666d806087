// `npm run models -- list | pull <id> | verify <id>`
//   --registry <file>   default: models.json at the repository root
//   --models-dir <dir>  default: $LUCID_DATA_DIR/models (.lucid/models)
// Environment: HF_ENDPOINT (hub URL or mirror), HF_TOKEN (gated/private repos).
import { parseArgs } from "node:util";
import cliProgress from "cli-progress";
import { ModelError } from "@lucid/diffusion";
import { ModelPullError } from "./hub.ts";
import { modelStatus, pullModel, verifyModel } from "./install.ts";
import { defaultModelsDir, describeSource, findModel, loadModelRegistry, ModelRegistryError, UnknownModelError, type ModelEntry } from "./registry.ts";

const USAGE = `usage: npm run models -- <command> [options]

commands:
  list           the registry's models, their source and whether they are installed
  pull <id>      download (hub), generate (fixture) or check (local) a model, then validate it
  verify <id>    re-hash the model's files against the listing saved at pull time

options:
  --registry <file>    model registry (default: models.json at the repository root)
  --models-dir <dir>   where models live (default: $LUCID_DATA_DIR/models, i.e. .lucid/models)

environment: HF_ENDPOINT (hub URL, default https://huggingface.co), HF_TOKEN (gated or private repos)`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { registry: { type: "string" }, "models-dir": { type: "string" }, help: { type: "boolean", short: "h" } },
  });
  const [command, id, ...extra] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const registry = await loadModelRegistry(values.registry);
  const modelsDir = values["models-dir"] ?? defaultModelsDir();
  const needId = (): ModelEntry => {
    if (!id || extra.length > 0) throw new UsageError(`${command} takes exactly one model id`);
    return findModel(registry, id);
  };

  switch (command) {
    case "list": {
      const statuses = await Promise.all(registry.map((entry) => modelStatus(entry, modelsDir)));
      const rows = statuses.map((s) => [s.entry.id, describeSource(s.entry.source), s.installed ? "installed" : "not installed"]);
      printTable(["ID", "SOURCE", "STATUS"], rows);
      console.log(`\nmodels folder: ${modelsDir}`);
      return 0;
    }
    case "pull": {
      const entry = needId();
      const bar = process.stderr.isTTY
        ? new cliProgress.SingleBar(
            {
              format: "{bar} {percentage}% | {done} / {size} | {file}",
              hideCursor: true,
              stream: process.stderr,
              formatValue: (value, _options, type) => (type === "value" || type === "total" ? formatBytes(value) : String(value)),
            },
            cliProgress.Presets.shades_classic,
          )
        : null;
      let lastFile = "";
      const pulled = await pullModel(entry, {
        modelsDir,
        onProgress: (p) => {
          if (bar) {
            if (!bar.isActive) bar.start(p.bytesTotal, p.bytesDone, { file: p.file, done: formatBytes(p.bytesDone), size: formatBytes(p.bytesTotal) });
            bar.update(p.bytesDone, { file: p.file, done: formatBytes(p.bytesDone), size: formatBytes(p.bytesTotal) });
          } else if (p.file !== lastFile) {
            lastFile = p.file;
            console.error(`[${p.fileIndex + 1}/${p.fileCount}] ${p.file}`);
          }
        },
        onRetry: (file, attempt, error) => {
          bar?.stop();
          console.error(`${file}: ${error.message}; resuming (retry ${attempt})`);
        },
      }).finally(() => bar?.stop());
      const bytes = pulled.files.reduce((sum, f) => sum + f.size, 0);
      console.log(
        `${entry.id}: ready in ${pulled.dir}` +
          (pulled.files.length ? ` (${pulled.files.length} files, ${formatBytes(bytes)}, checksums verified)` : "") +
          `\nrun it: LUCID_MODEL_ID=${entry.id} npm start`,
      );
      return 0;
    }
    case "verify": {
      const entry = needId();
      const report = await verifyModel(entry, modelsDir, (path, i, n) => {
        if (process.stderr.isTTY) process.stderr.write(`\rhashing [${i + 1}/${n}] ${path}\x1b[K`);
      });
      if (process.stderr.isTTY) process.stderr.write("\r\x1b[K");
      if (report.ok) {
        console.log(`${entry.id}: OK (${report.files} files, ${formatBytes(report.bytes)}) in ${report.dir}`);
        return 0;
      }
      console.error(`${entry.id}: verification FAILED in ${report.dir}`);
      for (const problem of report.problems) console.error(`  - ${problem}`);
      return 1;
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

class UsageError extends Error {}

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const row of [header, ...rows]) console.log(row.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd());
}

function formatBytes(n: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const expected = [UsageError, UnknownModelError, ModelRegistryError, ModelPullError, ModelError].some((type) => err instanceof type);
    console.error(`models: ${expected ? (err as Error).message : ((err as Error).stack ?? String(err))}`);
    if (err instanceof UsageError) console.error(`\n${USAGE}`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  },
);
