import { buildOpenApiDocument, PROBLEM_CODE_STATUS } from "@lucid/contracts";
import { platform } from "../../../lib/platform.ts";
import { ApiReference } from "./api-reference.tsx";
import { operationSamples, quickstartSamples } from "./samples.ts";
import styles from "./docs.module.css";

export const metadata = { title: "API reference · Lucid" };

type Operation = { operationId?: string; "x-codeSamples"?: unknown };

const FENCE: Record<string, string> = { Shell: "shell", TypeScript: "typescript", Python: "python" };

/**
 * The generated OpenAPI document as the reader sees it: the quickstart and the
 * error codes in its introduction, code samples on each operation.
 */
function documentForReaders(baseUrl: string) {
  const document = buildOpenApiDocument({ serverUrl: baseUrl });
  const samples = operationSamples(baseUrl);
  for (const item of [...Object.values(document.paths ?? {}), ...Object.values(document.webhooks ?? {})]) {
    for (const op of Object.values(item as Record<string, Operation>)) {
      const forOp = op.operationId ? samples[op.operationId] : undefined;
      if (forOp) op["x-codeSamples"] = forOp;
    }
  }
  const quickstart = quickstartSamples(baseUrl).map((s) => `### ${s.label}\n\n\`\`\`${FENCE[s.lang]}\n${s.source}\n\`\`\``);
  const codes = Object.entries(PROBLEM_CODE_STATUS).map(([code, status]) => `| \`${code}\` | ${status} |`);
  document.info.description = [
    document.info.description,
    "## Quickstart: submit, get, wait",
    ...quickstart,
    "## Error codes",
    "Branch on `code`; `detail` is for people. Bad input also lists the offending fields in `errors: [{ field, message }]`.",
    ["| code | status |", "| --- | --- |", ...codes].join("\n"),
  ].join("\n\n");
  return document;
}

/** /docs/api: the interactive reference (Redoc) of the document served at /api/v1/openapi.json. */
export default function ApiReferencePage() {
  const baseUrl = platform().config.publicUrl;
  return (
    <div className={styles.docs}>
      <h1>Lucid API reference</h1>
      <p>
        Every endpoint under <code>/api/v1</code>, generated from the contracts the server validates with. Machine-readable:{" "}
        <a href="/api/v1/openapi.json">/api/v1/openapi.json</a> (OpenAPI 3.1). Authenticate with a key from the{" "}
        <a href="/settings/keys">API keys</a> page: <code>Authorization: Bearer lucid_sk_…</code>. TypeScript: <code>@lucid/sdk</code>.
      </p>
      <div className={styles.reference}>
        <ApiReference spec={documentForReaders(baseUrl)} />
      </div>
    </div>
  );
}
