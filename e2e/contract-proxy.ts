// Every API answer the end-to-end suite sees is checked against the OpenAPI
// document the server publishes. The browser, Playwright's request fixture,
// the SDK and the official OpenAI client all talk to the platform through this
// loopback proxy, which records each /api/v1 response on its way back; after
// the run, each one must be documented (path, method, status, content type)
// and its JSON body must validate against the documented schema.
import { createServer, request as httpRequest, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

export interface RecordedResponse {
  method: string;
  path: string;
  status: number;
  contentType: string;
  body?: unknown;
}

type OpenApi = {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }> }>>;
};

const RECORD_BODY_LIMIT = 2 * 1024 * 1024;

export async function startContractProxy(target: URL): Promise<{ url: string; recorded: RecordedResponse[]; stop(): Promise<void> }> {
  const recorded: RecordedResponse[] = [];
  const server = createServer((req, res) => {
    // API answers come back uncompressed so they can be read here; everything else passes as is.
    if ((req.url ?? "").startsWith("/api/v1/")) delete req.headers["accept-encoding"];
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers as IncomingHttpHeaders },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.rawHeaders);
        const path = (req.url ?? "").split("?")[0]!;
        const contentType = String(up.headers["content-type"] ?? "").split(";")[0]!.trim();
        const record = path.startsWith("/api/v1/");
        const chunks: Buffer[] = [];
        let size = 0;
        up.on("data", (chunk: Buffer) => {
          if (record && contentType.endsWith("json") && size < RECORD_BODY_LIMIT) chunks.push(chunk);
          size += chunk.length;
          res.write(chunk);
        });
        up.on("end", () => {
          res.end();
          if (!record) return;
          let body: unknown;
          if (contentType.endsWith("json") && size <= RECORD_BODY_LIMIT) {
            try {
              body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
            } catch {
              body = Symbol.for("invalid json");
            }
          }
          recorded.push({ method: req.method ?? "GET", path, status: up.statusCode ?? 0, contentType, body });
        });
        up.on("error", () => res.destroy());
      },
    );
    // A client that goes away (an SSE reader, a canceled request) ends the upstream exchange too.
    res.on("close", () => upstream.destroy());
    upstream.on("error", () => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://localhost:${port}`,
    recorded,
    stop: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

/** Problems found, one line each; empty when every recorded answer matches the document. */
export function checkAgainstDocument(document: OpenApi, recorded: RecordedResponse[]): string[] {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addFormat("binary", true);
  ajv.addSchema(document as object, "doc");
  const compiled = new Map<string, ValidateFunction>();
  const esc = (s: string) => s.replaceAll("~", "~0").replaceAll("/", "~1");
  // Literal paths win over templated ones (/images/generations before /images/{id}).
  const byParams = (t: string) => (t.match(/\{/g) ?? []).length;
  const templates = Object.keys(document.paths).sort((a, b) => byParams(a) - byParams(b)).map((t) => ({
    template: t,
    pattern: new RegExp(`^${t.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}]+\}/g, "[^/]+")}$`),
  }));
  const problems: string[] = [];
  for (const r of recorded) {
    const where = `${r.method} ${r.path} → ${r.status}`;
    const template = templates.find((t) => t.pattern.test(r.path))?.template;
    const op = template ? document.paths[template]?.[r.method.toLowerCase()] : undefined;
    if (!template || !op) {
      problems.push(`${where}: not in the document`);
      continue;
    }
    const response = op.responses[String(r.status)];
    if (!response) {
      problems.push(`${where}: status not documented for ${r.method} ${template}`);
      continue;
    }
    const content = response.content ?? {};
    if (r.contentType && !(r.contentType in content) && Object.keys(content).length > 0) {
      problems.push(`${where}: content type ${r.contentType} not documented (${Object.keys(content).join(", ")})`);
      continue;
    }
    if (r.body === undefined || !(r.contentType in content)) continue;
    if (typeof r.body === "symbol") {
      problems.push(`${where}: body is not valid JSON`);
      continue;
    }
    const pointer = `/paths/${esc(template)}/${r.method.toLowerCase()}/responses/${r.status}/content/${esc(r.contentType)}/schema`;
    let validate = compiled.get(pointer);
    if (!validate) compiled.set(pointer, (validate = ajv.compile({ $ref: `doc#${pointer}` })));
    if (!validate(r.body)) {
      const errors = validate.errors!.slice(0, 3).map((e) => `${e.instancePath || "/"} ${e.message}`).join("; ");
      problems.push(`${where}: body does not match the schema (${errors})`);
    }
  }
  return problems;
}
