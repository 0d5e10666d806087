import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { z } from "zod";
import { CreditPacks, DEFAULT_CREDIT_PACKS, type CreditPack } from "@lucid/contracts";
import { DEFAULT_PLANS, Plans } from "@lucid/contracts";

/**
 * One config loader for every process (web, worker, CLI). Values come from the
 * environment; when the embedded platform (`npm start`) is running, the
 * endpoints it started are read from `<LUCID_DATA_DIR>/runtime.json` for any
 * variable the environment leaves unset. Production sets everything explicitly.
 */

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === "" ? undefined : v));

const intFromEnv = (def: number, min = 0) =>
  z.preprocess((v) => (v === undefined || v === "" ? def : Number(v)), z.number().int().min(min));

const EnvSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  PORT: intFromEnv(3000, 1),
  LUCID_DATA_DIR: z.string().default(".lucid"),
  LUCID_PUBLIC_URL: optionalString.pipe(z.string().url().optional()),
  LUCID_SECRET: optionalString.pipe(z.string().min(32, "must be at least 32 characters").optional()),
  DATABASE_URL: optionalString.pipe(
    z.string().regex(/^postgres(ql)?:\/\//, "must be a postgresql:// URL").optional(),
  ),
  AWS_REGION: z.string().default("us-east-1"),
  AWS_ENDPOINT_URL: optionalString.pipe(z.string().url().optional()),
  AWS_ACCESS_KEY_ID: optionalString,
  AWS_SECRET_ACCESS_KEY: optionalString,
  LUCID_QUEUE_URL: optionalString.pipe(z.string().url().optional()),
  LUCID_DLQ_URL: optionalString.pipe(z.string().url().optional()),
  LUCID_BUCKET: optionalString,
  LUCID_STARTER_CREDITS: intFromEnv(50),
  LUCID_MODEL_ID: z.string().default("lucid-tiny"),
  LUCID_MODEL_DIR: optionalString,
  LUCID_MODEL_REGISTRY: z.string().default("models.json"),
  LUCID_EXECUTION_PROVIDER: z.enum(["cpu", "cuda"]).default("cpu"),
  LUCID_CREDIT_PACKS: optionalString,
  // Webhook targets may never be private addresses, except these (development and tests).
  LUCID_WEBHOOK_ALLOW_LOOPBACK: z.enum(["true", "false", ""]).optional(),
  LUCID_WEBHOOK_ALLOWED_CIDRS: optionalString.pipe(
    z.string().regex(/^\s*[0-9a-f.:]+\/\d{1,3}\s*(,\s*[0-9a-f.:]+\/\d{1,3}\s*)*$/i, "must be a comma-separated list of CIDR ranges").optional(),
  ),
  LUCID_PLANS: optionalString,
  STRIPE_SECRET_KEY: optionalString,
  STRIPE_WEBHOOK_SECRET: optionalString,
  STRIPE_API_BASE: optionalString.pipe(z.string().url().optional()),
  // Accounts: outgoing mail, email verification, OAuth sign-in.
  SMTP_URL: optionalString.pipe(z.string().regex(/^smtps?:\/\//, "must be an smtp:// or smtps:// URL").optional()),
  SMTP_HOST: optionalString,
  SMTP_PORT: z.preprocess((v) => (v === undefined || v === "" ? undefined : Number(v)), z.number().int().min(1).max(65535).optional()),
  SMTP_USER: optionalString,
  SMTP_PASS: optionalString,
  MAIL_FROM: z.string().default("Lucid <no-reply@localhost>"),
  LUCID_REQUIRE_EMAIL_VERIFICATION: z.enum(["true", "false", ""]).default("false"),
  GITHUB_CLIENT_ID: optionalString,
  GITHUB_CLIENT_SECRET: optionalString,
  GOOGLE_CLIENT_ID: optionalString,
  GOOGLE_CLIENT_SECRET: optionalString,
  // Testing only: a loopback server standing in for the provider's hosts.
  LUCID_OAUTH_GITHUB_BASE_URL: optionalString.pipe(z.string().url().optional()),
  LUCID_OAUTH_GOOGLE_BASE_URL: optionalString.pipe(z.string().url().optional()),
});

/** What `npm start` records about the embedded services it started. */
export const RuntimeFile = z.object({
  DATABASE_URL: z.string(),
  AWS_ENDPOINT_URL: z.string(),
  AWS_ACCESS_KEY_ID: z.string(),
  AWS_SECRET_ACCESS_KEY: z.string(),
  AWS_REGION: z.string(),
  LUCID_QUEUE_URL: z.string(),
  LUCID_DLQ_URL: z.string(),
  LUCID_BUCKET: z.string(),
  LUCID_SECRET: z.string(),
});
export type RuntimeFile = z.infer<typeof RuntimeFile>;

export interface Config {
  env: "development" | "production" | "test";
  port: number;
  dataDir: string;
  publicUrl: string;
  secret: string;
  databaseUrl: string;
  aws: { region: string; endpoint?: string; accessKeyId?: string; secretAccessKey?: string };
  queueUrl: string;
  dlqUrl?: string;
  bucket: string;
  starterCredits: number;
  model: { id: string; dir: string; defaults: ModelDefaults };
  executionProvider: "cpu" | "cuda";
  creditPacks: CreditPack[];
  /** Developer API limits by plan name (DEFAULT_PLANS, overridden by LUCID_PLANS). */
  plans: Plans;
  stripe: { secretKey: string; webhookSecret: string; apiBase?: string } | null;
  /** Address ranges webhook deliveries may reach despite being private (loopback when LUCID_WEBHOOK_ALLOW_LOOPBACK=true). */
  webhooks?: { allowedCidrs: string[] };
  /** Outgoing mail: SMTP when configured, otherwise messages are written to the log. */
  mail?: { smtp: string | { host: string; port: number; user?: string; pass?: string } | null; from: string };
  /** Unverified users may not buy credits or create API keys (LUCID_REQUIRE_EMAIL_VERIFICATION=true). */
  requireEmailVerification?: boolean;
  /** OAuth sign-in providers that are configured; `baseUrl` replaces the provider's hosts (tests only). */
  oauth?: { github?: OAuthProviderConfig; google?: OAuthProviderConfig };
}

export interface OAuthProviderConfig {
  clientId: string;
  clientSecret: string;
  baseUrl?: string;
}

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

export function runtimeFilePath(dataDir: string): string {
  return join(dataDir, "runtime.json");
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${String(i.path[0])} ${i.message}`));
  }
  const e = parsed.data;
  // turbopackIgnore: these are runtime paths, not files for the bundler to trace.
  const dataDir = resolve(/*turbopackIgnore: true*/ e.LUCID_DATA_DIR);
  const runtime = readRuntimeFile(dataDir);
  const pick = <K extends keyof RuntimeFile>(key: K, value: string | undefined) => value ?? runtime?.[key];

  const problems: string[] = [];
  const need = (name: string, value: string | undefined) => {
    if (!value) problems.push(`${name} is not set (and no running local platform was found in ${dataDir}; start one with \`npm start\`)`);
    return value ?? "";
  };
  const databaseUrl = need("DATABASE_URL", pick("DATABASE_URL", e.DATABASE_URL));
  const queueUrl = need("LUCID_QUEUE_URL", pick("LUCID_QUEUE_URL", e.LUCID_QUEUE_URL));
  const bucket = need("LUCID_BUCKET", pick("LUCID_BUCKET", e.LUCID_BUCKET));
  const secret = need("LUCID_SECRET", pick("LUCID_SECRET", e.LUCID_SECRET));

  let creditPacks = DEFAULT_CREDIT_PACKS;
  if (e.LUCID_CREDIT_PACKS) {
    try {
      const packs = CreditPacks.safeParse(JSON.parse(e.LUCID_CREDIT_PACKS));
      if (packs.success) creditPacks = packs.data;
      else problems.push(`LUCID_CREDIT_PACKS ${packs.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ")}`);
    } catch {
      problems.push("LUCID_CREDIT_PACKS must be a JSON array of packs");
    }
  }
  let plans: Plans = DEFAULT_PLANS;
  if (e.LUCID_PLANS) {
    try {
      const parsedPlans = Plans.safeParse(JSON.parse(e.LUCID_PLANS));
      if (parsedPlans.success) plans = { ...DEFAULT_PLANS, ...parsedPlans.data };
      else problems.push(`LUCID_PLANS ${parsedPlans.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ")}`);
    } catch {
      problems.push("LUCID_PLANS must be a JSON object of plans, e.g. {\"free\":{\"requestsPerMinute\":60,\"maxInFlightJobs\":10}}");
    }
  }
  const stripeSet = [e.STRIPE_SECRET_KEY, e.STRIPE_WEBHOOK_SECRET].filter(Boolean).length;
  if (stripeSet === 1) problems.push("STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET must be set together");
  for (const [id, secretName] of [["GITHUB_CLIENT_ID", "GITHUB_CLIENT_SECRET"], ["GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET"]] as const) {
    if (Boolean(e[id]) !== Boolean(e[secretName])) problems.push(`${id} and ${secretName} must be set together`);
  }
  const modelDefaults = readModelDefaults(e.LUCID_MODEL_REGISTRY, e.LUCID_MODEL_ID, problems);
  if (problems.length) throw new ConfigError(problems);

  return {
    env: e.NODE_ENV,
    port: e.PORT,
    dataDir,
    publicUrl: (e.LUCID_PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/$/, ""),
    secret,
    databaseUrl,
    aws: {
      region: pick("AWS_REGION", env.AWS_REGION) ?? e.AWS_REGION,
      endpoint: pick("AWS_ENDPOINT_URL", e.AWS_ENDPOINT_URL),
      accessKeyId: pick("AWS_ACCESS_KEY_ID", e.AWS_ACCESS_KEY_ID),
      secretAccessKey: pick("AWS_SECRET_ACCESS_KEY", e.AWS_SECRET_ACCESS_KEY),
    },
    queueUrl,
    dlqUrl: pick("LUCID_DLQ_URL", e.LUCID_DLQ_URL),
    bucket,
    starterCredits: e.LUCID_STARTER_CREDITS,
    model: {
      id: e.LUCID_MODEL_ID,
      dir: resolve(/*turbopackIgnore: true*/ e.LUCID_MODEL_DIR ?? join(dataDir, "models", e.LUCID_MODEL_ID)),
      defaults: modelDefaults,
    },
    executionProvider: e.LUCID_EXECUTION_PROVIDER,
    creditPacks,
    plans,
    stripe:
      e.STRIPE_SECRET_KEY && e.STRIPE_WEBHOOK_SECRET
        ? { secretKey: e.STRIPE_SECRET_KEY, webhookSecret: e.STRIPE_WEBHOOK_SECRET, apiBase: e.STRIPE_API_BASE }
        : null,
    webhooks: {
      allowedCidrs: [
        ...(e.LUCID_WEBHOOK_ALLOW_LOOPBACK === "true" ? ["127.0.0.0/8", "::1/128"] : []),
        ...(e.LUCID_WEBHOOK_ALLOWED_CIDRS?.split(",").map((c) => c.trim()) ?? []),
      ],
    },
    mail: {
      smtp: e.SMTP_URL ?? (e.SMTP_HOST ? { host: e.SMTP_HOST, port: e.SMTP_PORT ?? 587, user: e.SMTP_USER, pass: e.SMTP_PASS } : null),
      from: e.MAIL_FROM,
    },
    requireEmailVerification: e.LUCID_REQUIRE_EMAIL_VERIFICATION === "true",
    oauth: {
      github: e.GITHUB_CLIENT_ID && e.GITHUB_CLIENT_SECRET
        ? { clientId: e.GITHUB_CLIENT_ID, clientSecret: e.GITHUB_CLIENT_SECRET, baseUrl: e.LUCID_OAUTH_GITHUB_BASE_URL }
        : undefined,
      google: e.GOOGLE_CLIENT_ID && e.GOOGLE_CLIENT_SECRET
        ? { clientId: e.GOOGLE_CLIENT_ID, clientSecret: e.GOOGLE_CLIENT_SECRET, baseUrl: e.LUCID_OAUTH_GOOGLE_BASE_URL }
        : undefined,
    },
  };
}

/** Request defaults of the served model (SD-Turbo wants 1 step and no guidance, SD 1.5 25 and 7.5). */
export interface ModelDefaults {
  steps: number;
  guidance: number;
  width: number;
  height: number;
  scheduler?: string;
}

const FALLBACK_MODEL_DEFAULTS: ModelDefaults = { steps: 20, guidance: 7.5, width: 512, height: 512 };

const RegistryDefaults = z.array(
  z.object({
    id: z.string(),
    defaultScheduler: z.string().optional(),
    steps: z.number().int().positive(),
    guidance: z.number().nonnegative(),
    width: z.number().int().positive(),
    height: z.number().int().positive(),
  }),
);

/**
 * The served model's defaults from the model registry (models.json, whose full
 * schema and tooling live in @lucid/models); the generic defaults when the
 * registry is absent or does not list the model (a custom LUCID_MODEL_DIR).
 */
function readModelDefaults(registryPath: string, modelId: string, problems: string[]): ModelDefaults {
  const path = resolve(/*turbopackIgnore: true*/ registryPath);
  if (!existsSync(path)) return FALLBACK_MODEL_DEFAULTS;
  let entries;
  try {
    entries = RegistryDefaults.parse(JSON.parse(readFileSync(path, "utf8")));
  } catch (err) {
    problems.push(`LUCID_MODEL_REGISTRY ${path} is not a valid model registry (${(err as Error).message.split("\n")[0]})`);
    return FALLBACK_MODEL_DEFAULTS;
  }
  const entry = entries.find((m) => m.id === modelId);
  if (!entry) return FALLBACK_MODEL_DEFAULTS;
  return { steps: entry.steps, guidance: entry.guidance, width: entry.width, height: entry.height, scheduler: entry.defaultScheduler };
}

function readRuntimeFile(dataDir: string): RuntimeFile | null {
  const path = runtimeFilePath(dataDir);
  if (!existsSync(path)) return null;
  try {
    const parsed = RuntimeFile.safeParse(JSON.parse(readFileSync(path, "utf8")));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

let cached: Config | undefined;
/** The process-wide config, validated once on first use. */
export function config(): Config {
  cached ??= loadConfig();
  return cached;
}
