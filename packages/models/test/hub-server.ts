// A loopback Hugging Face hub for tests: serves folders as model repos through the
// endpoints @huggingface/hub calls to download —
//   GET /api/models/{owner}/{name}/tree/{revision}[/{path}]?recursive=…  (paginated with a Link header)
//   GET|HEAD /{owner}/{name}/resolve/{revision}/{path}                   (Range requests, ETag, X-Repo-Commit)
// — with the hub's metadata: git blob ids for small files, LFS pointers (sha256
// oid, size) for .onnx / .onnx_data ones, and faults to inject per file.
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join, relative, sep } from "node:path";

export interface HubFile {
  path: string;
  content: Buffer;
  /** sha1 of "blob <size>\0<content>" (or of the LFS pointer file for LFS files). */
  oid: string;
  lfs?: { oid: string; size: number; pointerSize: number };
}

export type Fault =
  /** The next content response stops after this many bytes and the connection is dropped. */
  | { kind: "drop-once"; afterBytes: number }
  /** Every content response has its first byte flipped. */
  | { kind: "corrupt" };

export interface HubRequest {
  method: string;
  path: string;
  range: string | null;
  authorization: string | null;
}

export interface LoopbackHub {
  url: string;
  /** Requests seen, in order. */
  requests: HubRequest[];
  /** Faults to apply to a repo file, keyed by "owner/name:path". */
  faults: Map<string, Fault>;
  close(): Promise<void>;
}

export interface RepoSpec {
  /** "owner/name" */
  repo: string;
  /** Folder whose files make up the repo. */
  dir: string;
  /** Requests must carry `Authorization: Bearer <token>` (a gated repo). */
  token?: string;
}

const COMMIT = "0123456789abcdef0123456789abcdef01234567";
const LFS_EXTENSIONS = [".onnx", ".onnx_data", ".pb", ".bin", ".safetensors"];

export async function startLoopbackHub(repos: RepoSpec[], options: { pageSize?: number } = {}): Promise<LoopbackHub> {
  const served = new Map<string, { spec: RepoSpec; files: HubFile[] }>();
  for (const spec of repos) served.set(spec.repo, { spec, files: await loadRepo(spec.dir) });
  const requests: HubRequest[] = [];
  const faults = new Map<string, Fault>();
  const pageSize = options.pageSize ?? 8;

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      if (!res.headersSent) sendJson(res, 500, { error: err.message });
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://loopback");
    const path = decodeURIComponent(url.pathname);
    requests.push({ method: req.method ?? "GET", path: url.pathname + url.search, range: req.headers.range ?? null, authorization: req.headers.authorization ?? null });

    const tree = /^\/api\/models\/([^/]+\/[^/]+)\/tree\/([^/]+)(?:\/(.*))?$/.exec(path);
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    const repoName = tree?.[1] ?? resolve?.[1];
    const repo = repoName ? served.get(repoName) : undefined;
    if (!repo) return sendJson(res, 404, { error: "Repository not found" }, { "X-Error-Code": "RepoNotFound" });
    if (repo.spec.token && req.headers.authorization !== `Bearer ${repo.spec.token}`) {
      return sendJson(res, 401, { error: `Access to model ${repo.spec.repo} is restricted. You must have access to it and be authenticated to access it.` }, { "X-Error-Code": "GatedRepo" });
    }

    if (tree) {
      const prefix = tree[3] ? `${tree[3].replace(/\/$/, "")}/` : "";
      const recursive = url.searchParams.get("recursive") === "true";
      const entries = treeEntries(repo.files, prefix, recursive);
      const cursor = Number(url.searchParams.get("cursor") ?? "0");
      const page = entries.slice(cursor, cursor + pageSize);
      const headers: Record<string, string> = {};
      if (cursor + pageSize < entries.length) {
        const next = new URL(url.pathname + url.search, `http://${req.headers.host}`);
        next.searchParams.set("cursor", String(cursor + pageSize));
        headers.Link = `<${next.href}>; rel="next"`;
      }
      return sendJson(res, 200, page, headers);
    }

    const file = repo.files.find((f) => f.path === resolve![3]);
    if (!file) return sendJson(res, 404, { error: "Entry not found" }, { "X-Error-Code": "EntryNotFound" });
    const size = file.content.length;
    const headers: Record<string, string> = {
      "Accept-Ranges": "bytes",
      "Content-Type": "application/octet-stream",
      ETag: `"${file.lfs?.oid ?? file.oid}"`,
      "X-Repo-Commit": COMMIT,
    };
    if (file.lfs) headers["X-Linked-Size"] = String(size);

    let start = 0;
    let end = size - 1;
    let status = 200;
    const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? "");
    if (range && size > 0) {
      start = range[1] ? Number(range[1]) : Math.max(0, size - Number(range[2]));
      end = range[1] && range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
      if (start >= size || start > end) {
        res.writeHead(416, { "Content-Range": `bytes */${size}` }).end();
        return;
      }
      status = 206;
      headers["Content-Range"] = `bytes ${start}-${end}/${size}`;
    }
    let body = file.content.subarray(start, end + 1);
    headers["Content-Length"] = String(body.length);
    res.writeHead(status, headers);
    if (req.method === "HEAD") {
      res.end();
      return;
    }

    const key = `${repo.spec.repo}:${file.path}`;
    const fault = faults.get(key);
    // Size probes (Range: bytes=0-0) pass untouched; faults hit the content.
    if (fault && body.length > 1) {
      if (fault.kind === "corrupt") {
        body = Buffer.from(body);
        body[0] = body[0]! ^ 0xff;
      } else if (fault.kind === "drop-once" && body.length > fault.afterBytes) {
        faults.delete(key);
        res.write(body.subarray(0, fault.afterBytes), () => {
          // Let the bytes reach the client, then cut the connection mid-body.
          setTimeout(() => res.destroy(), 400);
        });
        return;
      }
    }
    res.end(body);
  }

  await new Promise<void>((resolveListen) => server.listen(0, "127.0.0.1", resolveListen));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    faults,
    close: () =>
      new Promise<void>((resolveClose) => {
        server.closeAllConnections();
        server.close(() => resolveClose());
      }),
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text), ...headers }).end(text);
}

/** The hub's tree listing: directories and files under `prefix`, one level unless recursive. */
function treeEntries(files: HubFile[], prefix: string, recursive: boolean): unknown[] {
  const dirs = new Set<string>();
  const out: unknown[] = [];
  for (const file of files) {
    if (!file.path.startsWith(prefix)) continue;
    const rest = file.path.slice(prefix.length).split("/");
    for (let depth = 1; depth < rest.length; depth++) {
      if (!recursive && depth > 1) break;
      dirs.add(prefix + rest.slice(0, depth).join("/"));
    }
    if (!recursive && rest.length > 1) continue;
    out.push({
      type: "file",
      oid: file.oid,
      size: file.content.length,
      path: file.path,
      ...(file.lfs ? { lfs: file.lfs } : {}),
    });
  }
  const dirEntries = [...dirs].sort().map((path) => ({ type: "directory", oid: createHash("sha1").update(path).digest("hex"), size: 0, path }));
  return [...dirEntries, ...out];
}

async function loadRepo(dir: string): Promise<HubFile[]> {
  const files: HubFile[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = join(entry.parentPath, entry.name);
    const path = relative(dir, full).split(sep).join("/");
    const content = await readFile(full);
    const lfs = LFS_EXTENSIONS.some((ext) => path.endsWith(ext));
    if (lfs) {
      const sha256 = createHash("sha256").update(content).digest("hex");
      const pointer = `version https://git-lfs.github.com/spec/v1\noid sha256:${sha256}\nsize ${content.length}\n`;
      files.push({ path, content, oid: gitBlobSha1(Buffer.from(pointer)), lfs: { oid: sha256, size: content.length, pointerSize: pointer.length } });
    } else {
      files.push({ path, content, oid: gitBlobSha1(content) });
    }
  }
  return files.sort((a, b) => a.path.localeCompare(b.path));
}

function gitBlobSha1(content: Buffer): string {
  return createHash("sha1").update(`blob ${content.length}\0`).update(content).digest("hex");
}
