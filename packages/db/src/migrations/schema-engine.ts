import { readFileSync } from "node:fs";
import { PrismaPg } from "@prisma/adapter-pg";
import { bindMigrationAwareSqlAdapterFactory } from "@prisma/driver-adapter-utils";
import type { SchemaEngine } from "@prisma/schema-engine-wasm";
import pg from "pg";

/*
 * Prisma's CLI wants to download a native schema engine, which this project
 * cannot do offline. The same engine ships on npm compiled to WebAssembly and
 * talks to the database through a driver adapter (@prisma/adapter-pg).
 */

type EngineModule = typeof import("@prisma/schema-engine-wasm") & {
  __wbg_set_wasm(exports: WebAssembly.Exports): void;
};

let engineModule: Promise<EngineModule> | undefined;

// The package's entry imports the .wasm file as an ES module, which Node 20
// cannot do: instantiate it by hand against its JS glue instead.
function loadEngineModule(): Promise<EngineModule> {
  return (engineModule ??= (async () => {
    const glue = (await import("@prisma/schema-engine-wasm/schema_engine_bg")) as unknown as EngineModule;
    const wasmUrl = new URL("schema_engine_bg.wasm", import.meta.resolve("@prisma/schema-engine-wasm"));
    const imports: Record<string, unknown> = { ...glue };
    // The engine arms 10 s guard timers and never clears them, which would
    // keep the process alive for 10 s after every call: unref them.
    for (const name of Object.keys(imports).filter((n) => n.startsWith("__wbg_setTimeout_"))) {
      const setTimer = imports[name] as (fn: () => void, ms: number) => NodeJS.Timeout;
      imports[name] = (fn: () => void, ms: number) => setTimer(fn, ms).unref();
    }
    const instance = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(wasmUrl)), {
      "./schema_engine_bg.js": imports as WebAssembly.ModuleImports,
    });
    glue.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return glue;
  })());
}

// The engine reports Rust panics through this global; without it a panic
// surfaces as a bare "unreachable" error.
const panicRegistry = { message: "", set_message(message: string) { this.message = message; } };
(globalThis as Record<string, unknown>).PRISMA_WASM_PANIC_REGISTRY ??= panicRegistry;

export interface EngineSession {
  engine: SchemaEngine;
  /** A dedicated connection outside the engine's pool (for advisory locks). */
  pool: pg.Pool;
}

/**
 * Runs `fn` with a schema engine connected to `databaseUrl`, then closes every
 * connection it opened. `schema` (schema.prisma text) is optional context.
 */
export async function withSchemaEngine<T>(
  databaseUrl: string,
  fn: (session: EngineSession) => Promise<T>,
  opts: { schema?: string; onLog?: (line: string) => void } = {},
): Promise<T> {
  const { SchemaEngine } = await loadEngineModule();
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  const factory = new PrismaPg(pool);
  const connect = factory.connect.bind(factory);
  factory.connect = async () => {
    const adapter = await connect();
    // adapter-pg's executeScript splits on ";" and runs each piece alone, which
    // breaks `$$` bodies and string literals, and leaves a half-applied
    // migration on error. Send the script as one simple query instead:
    // PostgreSQL then runs it as one implicit transaction, as Prisma's
    // native engine does.
    adapter.executeScript = async (script: string) => {
      await pool.query(script);
    };
    return adapter;
  };
  const engine = await SchemaEngine.new(
    { datamodels: opts.schema ? [["schema.prisma", opts.schema]] : undefined },
    (line: string) => opts.onLog?.(line),
    bindMigrationAwareSqlAdapterFactory(factory),
  );
  try {
    return await fn({ engine, pool });
  } catch (err) {
    throw engineError(err);
  } finally {
    engine.free();
    await pool.end();
  }
}

function engineError(err: unknown): unknown {
  if (panicRegistry.message) {
    const message = panicRegistry.message;
    panicRegistry.message = "";
    return new Error(`Prisma schema engine panicked: ${message}`, { cause: err });
  }
  if (err instanceof Error) return err;
  // The engine rejects with plain objects ({ message, error_code, meta, ... }).
  const message = (err as { message?: string } | null)?.message ?? JSON.stringify(err);
  return Object.assign(new Error(message), { cause: err });
}

export const NO_FILTERS = { externalTables: [], externalEnums: [] };
