import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { startPostgres, type LocalPostgres } from "@lucid/local-stack";

/** One embedded cluster per test file; each test takes its own empty database in it. */
export async function startTestCluster(): Promise<{
  freshDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}> {
  const dir = mkdtempSync(join(tmpdir(), "lucid-db-test-"));
  chmodSync(dir, 0o755); // as root, postgres runs as the `postgres` user and must enter it
  const cluster: LocalPostgres = await startPostgres({ dataDir: join(dir, "pg") });
  return {
    async freshDatabase(name) {
      const client = new pg.Client(cluster.databaseUrl);
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
      } finally {
        await client.end();
      }
      const url = new URL(cluster.databaseUrl);
      url.pathname = `/${name}`;
      return url.toString();
    },
    async stop() {
      await cluster.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function query<T extends pg.QueryResultRow = Record<string, unknown>>(
  databaseUrl: string,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client(databaseUrl);
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}
