import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { connect } from "node:net";
import pg from "pg";
import { startPostgres } from "../src/index.ts";
import { scratchDir } from "./helpers.ts";

async function scalar(databaseUrl: string, sql: string): Promise<unknown> {
  const client = new pg.Client(databaseUrl);
  await client.connect();
  try {
    return Object.values((await client.query(sql)).rows[0] ?? {})[0];
  } finally {
    await client.end();
  }
}

const portIsClosed = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => (socket.destroy(), resolve(false)));
    socket.once("error", () => resolve(true));
  });

test("starts an empty `lucid` database on loopback and stop() shuts the server down", async () => {
  const dir = scratchDir("pg");
  try {
    const db = await startPostgres({ dataDir: join(dir.path, "data") });
    const url = new URL(db.databaseUrl);
    assert.equal(url.hostname, "127.0.0.1");
    assert.equal(url.pathname, "/lucid");
    assert.equal(await scalar(db.databaseUrl, "SELECT current_database()"), "lucid");
    const pid = Number(readFileSync(join(dir.path, "data", "postmaster.pid"), "utf8").split("\n")[0]);

    await db.stop();
    assert.equal(await portIsClosed(db.port), true);
    assert.equal(existsSync(join(dir.path, "data", "postmaster.pid")), false);
    assert.throws(() => process.kill(pid, 0), { code: "ESRCH" });
  } finally {
    dir.remove();
  }
});

test("a run that crashed without stopping postgres does not block the next start", async () => {
  const dir = scratchDir("pg-crash");
  const dataDir = join(dir.path, "data");
  try {
    // A child process starts postgres, writes a row, then dies by SIGKILL,
    // leaving its postmaster running and postmaster.pid behind.
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "--input-type=module",
        "-e",
        `import { startPostgres } from ${JSON.stringify(new URL("../src/index.ts", import.meta.url).href)};
         import pg from "pg";
         const db = await startPostgres({ dataDir: ${JSON.stringify(dataDir)} });
         const c = new pg.Client(db.databaseUrl); await c.connect();
         await c.query("CREATE TABLE survivor (v text); INSERT INTO survivor VALUES ('still here')");
         await c.end();
         process.kill(process.pid, "SIGKILL");`,
      ],
      { stdio: "inherit", cwd: new URL("..", import.meta.url).pathname },
    );
    const signal = await new Promise((resolve) => child.on("exit", (_code, sig) => resolve(sig)));
    assert.equal(signal, "SIGKILL");
    assert.equal(existsSync(join(dataDir, "postmaster.pid")), true);

    const db = await startPostgres({ dataDir });
    try {
      assert.equal(await scalar(db.databaseUrl, "SELECT v FROM survivor"), "still here");
    } finally {
      await db.stop();
    }
  } finally {
    dir.remove();
  }
});
