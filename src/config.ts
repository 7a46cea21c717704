import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from './errors.js';
import {
  cronProblem,
  isTimezone,
  looksLikeCron,
  parseDuration,
  type SyncInterval,
} from './scheduler/interval.js';
import { PORTABILITY_SCOPES } from './tiktok/oauth.js';
import { CATEGORIES, type Category } from './tiktok/portability-client.js';
import { Secret } from './tiktok/secret.js';
import { parseEncryptionKey } from './tiktok/tokens.js';

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * Everything the service can be told, validated once at start and frozen. This module is the only
 * reader of `process.env`; nothing below the CLI reads the environment.
 */
export interface Config {
  /** Where the embedded Postgres, downloaded archives and quarantined archives live. */
  readonly dataDir: string;
  readonly database: DatabaseConfig;
  readonly archive: {
    readonly maxUncompressedBytes: number;
    readonly maxCompressionRatio: number;
    readonly maxEntries: number;
    /** How long downloaded archives are kept after their import; 0 deletes them at once. */
    readonly retentionMs: number;
    /** Where archives that can never be imported are put aside, with the reason. */
    readonly quarantineDir: string;
    /** Which imported archives are kept for `tiktok-sync reprocess`, and where. */
    readonly kept: KeptArchivesConfig;
  };
  readonly tiktok: TikTokConfig;
  /** The daemon (`tiktok-sync run`): when accounts are synced, how many at once, and how work is shared. */
  readonly sync: SyncConfig;
  /** Unset means: the command decides (quiet one-shot commands, informative daemon). */
  readonly logLevel: LogLevel | undefined;
}

/** `all`, `none`, or the last N archives of each account (N ≥ 1). */
export type KeepPolicy = 'all' | 'none' | number;

export interface KeptArchivesConfig {
  readonly keep: KeepPolicy;
  /** `<dataDir>/archives` unless set; files 0600 in folders 0700 (they hold private data). */
  readonly dir: string;
}

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent';

/** The TikTok app (or the sandbox standing in for it) and how syncs talk to it. */
export interface TikTokConfig {
  readonly clientKey: string | undefined;
  readonly clientSecret: Secret | undefined;
  /** Where `open.tiktokapis.com` is: TikTok, the sandbox, or any server implementing the documented API. */
  readonly apiBaseUrl: string;
  /** Where the consent page `www.tiktok.com/v2/auth/authorize/` is. */
  readonly authBaseUrl: string;
  /** A loopback URI registered with the app; `connect` listens on it. */
  readonly redirectUri: string;
  readonly pkceEncoding: 'hex' | 'base64url';
  readonly scopes: readonly string[];
  readonly dataFormat: 'json' | 'text';
  /** 32-byte AES-256-GCM key for tokens at rest; without it, tokens cannot be stored. */
  readonly encryptionKey: Buffer | undefined;
  readonly webhook: { readonly listen: string | undefined; readonly path: string };
  readonly download: { readonly maxBytes: number; readonly directory: string };
  readonly poll: { readonly initialMs: number; readonly maxMs: number; readonly waitMs: number };
}

/** The daemon's schedule, concurrency, leases and failure policy. */
export interface SyncConfig {
  /** How often each account's full export is requested. */
  readonly interval: SyncInterval;
  /** IANA zone for cron intervals and the tick (default UTC). */
  readonly timezone: string;
  /** Each due time is pushed back by a random delay up to this, so accounts do not all hit TikTok at once. */
  readonly jitterMs: number;
  /** node-cron expression that wakes the daemon to look for due accounts (default every 30 s). */
  readonly tick: string;
  /** Accounts one daemon works on at once. */
  readonly concurrency: number;
  /** How long a claim on an account lasts without a heartbeat; another daemon takes over after it. */
  readonly leaseMs: number;
  /** A request TikTok keeps `pending` longer than this is cancelled and made again. */
  readonly pendingLimitMs: number;
  /** How long one claim waits for TikTok to prepare the data before releasing the account (0: one Check). */
  readonly checkWaitMs: number;
  /** Backoff of transient failures: doubles from `initialMs` up to `maxMs`, with jitter. */
  readonly retry: { readonly initialMs: number; readonly maxMs: number };
  /** On SIGTERM: time given to the current stage to finish before it is abandoned. */
  readonly shutdownGraceMs: number;
  /** On SIGTERM: the bound on the whole shutdown (claims are released before it). */
  readonly shutdownTimeoutMs: number;
  /** `host:port` of the daemon's HTTP server: /healthz, /metrics and the TikTok webhook. */
  readonly listen: string;
  /** Name of this daemon in leases and logs; default `<hostname>:<pid>:<random>`. */
  readonly owner: string | undefined;
  /** Per-account settings, by account name. */
  readonly accounts: Readonly<Record<string, AccountSyncConfig>>;
}

export interface AccountSyncConfig {
  readonly interval?: SyncInterval;
  readonly categories?: readonly Category[];
  readonly dataFormat?: 'json' | 'text';
  readonly paused?: boolean;
}

export type DatabaseConfig =
  /** A server named by `DATABASE_URL`, the config file, or libpq `PG*` variables (read by node-postgres). */
  | { readonly kind: 'external'; readonly connectionString: string | undefined; readonly source: string }
  /** The bundled Postgres, started on demand in `<dataDir>/postgres`. */
  | { readonly kind: 'embedded'; readonly port: number };

/** Keys whose values never appear in messages. */
const SECRET_KEYS = ['databaseUrl', 'tiktok.clientSecret', 'tiktok.encryptionKey'];

/** `host:port`, with an IPv6 host in brackets. */
const HOST_PORT = /^[\w.-]+:\d{1,5}$|^\[[\d:a-fA-F]+\]:\d{1,5}$/;

const DURATION_FORM = 'a duration such as 30s, 15m, 12h, 1d or 1h30m';
const INTERVAL_FORM = `${DURATION_FORM}, or a cron expression such as "0 */12 * * *"`;

/** What is wrong with an interval text, as "expected …", or undefined when it is fine. */
function intervalProblem(text: string): string | undefined {
  if (looksLikeCron(text)) {
    const problem = cronProblem(text);
    if (!problem) return undefined;
    // Only explain the cron rule broken when the text looks like an attempt at one.
    const fields = text.trim().split(/\s+/).length;
    return fields >= 5 || text.trim().startsWith('@')
      ? `expected ${INTERVAL_FORM} (as cron: ${problem})`
      : `expected ${INTERVAL_FORM}`;
  }
  const ms = parseDuration(text);
  if (ms === undefined) return `expected ${INTERVAL_FORM}`;
  if (ms < MINUTE) return `expected an interval of at least 1m (${INTERVAL_FORM})`;
  return undefined;
}

const intervalText = z
  .string({ error: `expected ${INTERVAL_FORM}, as a string` })
  .superRefine((text, ctx) => {
    const problem = intervalProblem(text);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

const durationText = (minMs = 0) =>
  z.string({ error: `expected ${DURATION_FORM}, as a string` }).superRefine((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === undefined) ctx.addIssue({ code: 'custom', message: `expected ${DURATION_FORM}` });
    else if (ms < minMs)
      ctx.addIssue({ code: 'custom', message: `expected at least ${minMs / 1000}s (${DURATION_FORM})` });
  });

const cronText = z
  .string({ error: 'expected a node-cron expression such as "*/30 * * * * *"' })
  .superRefine((text, ctx) => {
    const problem = cronProblem(text);
    if (problem)
      ctx.addIssue({
        code: 'custom',
        message: `expected a node-cron expression such as "*/30 * * * * *" (${problem})`,
      });
  });

const timezoneText = z
  .string({ error: 'expected an IANA time zone such as UTC or Europe/Berlin' })
  .superRefine((text, ctx) => {
    if (!isTimezone(text))
      ctx.addIssue({ code: 'custom', message: 'expected an IANA time zone such as UTC or Europe/Berlin' });
  });

const accountSyncSchema = z
  .object({
    interval: intervalText.optional(),
    categories: z
      .array(z.enum(CATEGORIES, { error: `expected one of ${CATEGORIES.join(', ')}` }))
      .min(1, { error: `expected a non-empty list of ${CATEGORIES.join(', ')}` })
      .optional(),
    dataFormat: z.enum(['json', 'text'], { error: 'expected json or text' }).optional(),
    paused: z.boolean({ error: 'expected true or false' }).optional(),
  })
  .strict();

const syncSchema = z
  .object({
    interval: intervalText.optional(),
    timezone: timezoneText.optional(),
    jitter: durationText().optional(),
    tick: cronText.optional(),
    concurrency: z
      .number({ error: 'expected a whole number from 1 to 256' })
      .int({ error: 'expected a whole number from 1 to 256' })
      .min(1, { error: 'expected a whole number from 1 to 256' })
      .max(256, { error: 'expected a whole number from 1 to 256' })
      .optional(),
    lease: durationText(SECOND).optional(),
    pendingLimit: durationText(MINUTE).optional(),
    checkWait: durationText().optional(),
    retryInitial: durationText(SECOND).optional(),
    retryMax: durationText(SECOND).optional(),
    shutdownGrace: durationText().optional(),
    shutdownTimeout: durationText(SECOND).optional(),
    listen: z.string().regex(HOST_PORT, { error: 'expected host:port, e.g. 0.0.0.0:8724' }).optional(),
    owner: z.string().min(1).max(200).optional(),
    accounts: z.record(z.string(), accountSyncSchema).optional(),
  })
  .strict();

const fileSchema = z
  .object({
    dataDir: z.string().min(1).optional(),
    databaseUrl: z.string().min(1).optional(),
    embeddedPort: z.number().int().min(1024).max(65535).optional(),
    archive: z
      .object({
        quarantineDir: z.string().min(1).optional(),
        maxUncompressedBytes: z.number().int().positive().optional(),
        maxCompressionRatio: z.number().positive().optional(),
        maxEntries: z.number().int().positive().optional(),
        retention: durationText().optional(),
        keep: z
          .union([z.enum(['all', 'none']), z.number().int().min(1)], {
            error: 'expected "all", "none" or the number of archives to keep per account (1 or more)',
          })
          .optional(),
        keptDir: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
    logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'silent']).optional(),
    tiktok: z
      .object({
        clientKey: z.string().min(1).optional(),
        clientSecret: z.string().min(1).optional(),
        apiBaseUrl: z.url().optional(),
        authBaseUrl: z.url().optional(),
        redirectUri: z.url().optional(),
        pkceEncoding: z.enum(['hex', 'base64url']).optional(),
        scopes: z
          .array(z.enum(PORTABILITY_SCOPES as unknown as [string, ...string[]]))
          .min(1)
          .optional(),
        dataFormat: z.enum(['json', 'text']).optional(),
        encryptionKey: z.string().min(1).optional(),
        webhookListen: z.string().regex(HOST_PORT, 'expected host:port, e.g. 127.0.0.1:8724').optional(),
        webhookPath: z.string().startsWith('/').optional(),
        downloadMaxBytes: z.number().int().positive().optional(),
        downloadDir: z.string().min(1).optional(),
        pollInitialSeconds: z.number().positive().optional(),
        pollMaxSeconds: z.number().positive().optional(),
        waitSeconds: z.number().positive().optional(),
      })
      .strict()
      .optional(),
    sync: syncSchema.optional(),
  })
  .strict();

type FileConfig = z.infer<typeof fileSchema>;

export interface LoadConfigOptions {
  /** Path given with `--config`; otherwise `TIKTOK_SYNC_CONFIG`, then `./tiktok-sync.config.json` if present. */
  configPath?: string | undefined;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

const LIBPQ_VARS = ['PGHOST', 'PGHOSTADDR', 'PGPORT', 'PGDATABASE', 'PGUSER', 'PGPASSWORD', 'PGSERVICE'];

export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const file = readConfigFile(options.configPath ?? env.TIKTOK_SYNC_CONFIG, cwd);

  const databaseUrl = env.DATABASE_URL || file.databaseUrl;
  const libpq = LIBPQ_VARS.filter((name) => env[name]);
  let database: DatabaseConfig;
  if (databaseUrl) {
    database = {
      kind: 'external',
      connectionString: databaseUrl,
      source: env.DATABASE_URL ? 'DATABASE_URL' : 'config file',
    };
  } else if (libpq.length > 0) {
    database = { kind: 'external', connectionString: undefined, source: libpq.join(', ') };
  } else {
    database = {
      kind: 'embedded',
      port: parsePort(env.TIKTOK_SYNC_EMBEDDED_PORT) ?? file.embeddedPort ?? 54329,
    };
  }

  const dataDir = path.resolve(cwd, env.TIKTOK_SYNC_DATA_DIR || file.dataDir || '.tiktok-sync');
  const config: Config = {
    dataDir,
    database,
    archive: {
      maxUncompressedBytes: file.archive?.maxUncompressedBytes ?? 16 * GIB,
      maxCompressionRatio: file.archive?.maxCompressionRatio ?? 200,
      maxEntries: file.archive?.maxEntries ?? 20_000,
      retentionMs: file.archive?.retention ? parseDuration(file.archive.retention)! : 0,
      quarantineDir: path.resolve(dataDir, file.archive?.quarantineDir ?? 'quarantine'),
      kept: {
        keep: parseKeep(env.TIKTOK_SYNC_KEEP_ARCHIVES) ?? file.archive?.keep ?? 'all',
        dir: path.resolve(dataDir, file.archive?.keptDir ?? 'archives'),
      },
    },
    logLevel: parseLogLevel(env.LOG_LEVEL) ?? file.logLevel,
    tiktok: tiktokConfig(env, file.tiktok ?? {}, dataDir),
    sync: syncConfig(env, file.sync ?? {}, file.tiktok?.webhookListen),
  };
  return deepFreeze(config);
}

function tiktokConfig(
  env: NodeJS.ProcessEnv,
  file: NonNullable<FileConfig['tiktok']>,
  dataDir: string,
): TikTokConfig {
  const secret = env.TIKTOK_CLIENT_SECRET || file.clientSecret;
  const scopes = env.TIKTOK_SCOPES ? env.TIKTOK_SCOPES.split(',').map((s) => s.trim()) : file.scopes;
  for (const scope of scopes ?? []) {
    if (!(PORTABILITY_SCOPES as readonly string[]).includes(scope)) {
      throw new ConfigError(
        'config_invalid',
        `Scope \`${scope}\` in TIKTOK_SCOPES is not a Data Portability scope; expected some of ${PORTABILITY_SCOPES.join(', ')}.`,
      );
    }
  }
  const url = (name: string, value: string | undefined, fallback: string) => {
    const text = value || fallback;
    if (!URL.canParse(text)) {
      throw new ConfigError(
        'config_invalid',
        `${name} is \`${text}\`; expected an absolute URL such as ${fallback}.`,
      );
    }
    return text;
  };
  const base = (name: string, value: string | undefined, fallback: string) =>
    url(name, value, fallback).replace(/\/+$/, '');
  const oneOf = <T extends string>(
    name: string,
    value: string | undefined,
    allowed: readonly T[],
    fallback: T,
  ): T => {
    if (!value) return fallback;
    const found = allowed.find((candidate) => candidate === value);
    if (!found)
      throw new ConfigError(
        'config_invalid',
        `${name} is \`${value}\`; expected one of ${allowed.join(', ')}.`,
      );
    return found;
  };
  const listen = env.TIKTOK_WEBHOOK_LISTEN || file.webhookListen;
  if (listen && !HOST_PORT.test(listen)) {
    throw new ConfigError(
      'config_invalid',
      `TIKTOK_WEBHOOK_LISTEN is \`${listen}\`; expected host:port, e.g. 127.0.0.1:8724.`,
    );
  }
  return {
    clientKey: env.TIKTOK_CLIENT_KEY || file.clientKey,
    clientSecret: secret ? new Secret(secret) : undefined,
    apiBaseUrl: base(
      'TIKTOK_API_BASE_URL',
      env.TIKTOK_API_BASE_URL || file.apiBaseUrl,
      'https://open.tiktokapis.com',
    ),
    authBaseUrl: base(
      'TIKTOK_AUTH_BASE_URL',
      env.TIKTOK_AUTH_BASE_URL || file.authBaseUrl,
      'https://www.tiktok.com',
    ),
    redirectUri: url(
      'TIKTOK_REDIRECT_URI',
      env.TIKTOK_REDIRECT_URI || file.redirectUri,
      'http://127.0.0.1:8723/callback/',
    ),
    pkceEncoding: oneOf(
      'TIKTOK_PKCE_ENCODING',
      env.TIKTOK_PKCE_ENCODING || file.pkceEncoding,
      ['hex', 'base64url'],
      'hex',
    ),
    scopes: scopes ?? ['portability.all.ongoing'],
    dataFormat: oneOf(
      'TIKTOK_DATA_FORMAT',
      env.TIKTOK_DATA_FORMAT || file.dataFormat,
      ['json', 'text'],
      'json',
    ),
    encryptionKey: parseEncryptionKey(env.TIKTOK_SYNC_ENCRYPTION_KEY || file.encryptionKey),
    webhook: { listen, path: env.TIKTOK_WEBHOOK_PATH || file.webhookPath || '/webhooks/tiktok' },
    download: {
      maxBytes: file.downloadMaxBytes ?? 8 * GIB,
      directory: path.resolve(dataDir, file.downloadDir ?? 'downloads'),
    },
    poll: {
      initialMs: (file.pollInitialSeconds ?? 10) * 1000,
      maxMs: (file.pollMaxSeconds ?? 15 * 60) * 1000,
      waitMs: (file.waitSeconds ?? 60 * 60) * 1000,
    },
  };
}

function syncConfig(
  env: NodeJS.ProcessEnv,
  file: NonNullable<FileConfig['sync']>,
  webhookListen: string | undefined,
): SyncConfig {
  const invalid = (name: string, value: string, expected: string) =>
    new ConfigError('config_invalid', `${name} is \`${value}\`; ${expected}.`, {
      details: { key: name },
    });
  const timezone = env.TIKTOK_SYNC_TIMEZONE || file.timezone || 'UTC';
  if (env.TIKTOK_SYNC_TIMEZONE && !isTimezone(timezone)) {
    throw invalid(
      'TIKTOK_SYNC_TIMEZONE',
      timezone,
      'expected an IANA time zone such as UTC or Europe/Berlin',
    );
  }
  const interval = (text: string, name?: string): SyncInterval => {
    if (name) {
      const problem = intervalProblem(text);
      if (problem) throw invalid(name, text, problem);
    }
    return looksLikeCron(text)
      ? { kind: 'cron', expression: text.trim(), timezone, text: text.trim() }
      : { kind: 'every', ms: parseDuration(text)!, text: text.trim() };
  };
  const duration = (name: string | undefined, text: string | undefined, fallback: number) => {
    if (!text) return fallback;
    const ms = parseDuration(text);
    if (ms === undefined && name) throw invalid(name, text, `expected ${DURATION_FORM}`);
    return ms ?? fallback;
  };
  let concurrency = file.concurrency ?? 4;
  if (env.TIKTOK_SYNC_CONCURRENCY) {
    concurrency = Number(env.TIKTOK_SYNC_CONCURRENCY);
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) {
      throw invalid(
        'TIKTOK_SYNC_CONCURRENCY',
        env.TIKTOK_SYNC_CONCURRENCY,
        'expected a whole number from 1 to 256',
      );
    }
  }
  const listen = env.TIKTOK_SYNC_LISTEN || file.listen || webhookListen || '127.0.0.1:8724';
  if (env.TIKTOK_SYNC_LISTEN && !HOST_PORT.test(listen)) {
    throw invalid('TIKTOK_SYNC_LISTEN', listen, 'expected host:port, e.g. 0.0.0.0:8724');
  }
  const retry = {
    initialMs: duration(undefined, file.retryInitial, MINUTE),
    maxMs: duration(undefined, file.retryMax, 6 * HOUR),
  };
  if (retry.maxMs < retry.initialMs) {
    throw new ConfigError(
      'config_invalid',
      `sync.retryMax (\`${file.retryMax}\`) is shorter than sync.retryInitial (\`${file.retryInitial ?? '1m'}\`); expected retryMax >= retryInitial.`,
      { details: { key: 'sync.retryMax' } },
    );
  }
  const accounts: Record<string, AccountSyncConfig> = {};
  for (const [name, override] of Object.entries(file.accounts ?? {})) {
    accounts[name] = {
      ...(override.interval ? { interval: interval(override.interval) } : {}),
      ...(override.categories ? { categories: [...new Set(override.categories)] } : {}),
      ...(override.dataFormat ? { dataFormat: override.dataFormat } : {}),
      ...(override.paused !== undefined ? { paused: override.paused } : {}),
    };
  }
  return {
    interval: env.TIKTOK_SYNC_INTERVAL
      ? interval(env.TIKTOK_SYNC_INTERVAL, 'TIKTOK_SYNC_INTERVAL')
      : interval(file.interval ?? '24h'),
    timezone,
    jitterMs: duration('TIKTOK_SYNC_JITTER', env.TIKTOK_SYNC_JITTER || file.jitter, 10 * MINUTE),
    tick: file.tick ?? '*/30 * * * * *',
    concurrency,
    leaseMs: duration(undefined, file.lease, 5 * MINUTE),
    pendingLimitMs: duration(undefined, file.pendingLimit, 3 * DAY),
    checkWaitMs: duration(undefined, file.checkWait, 0),
    retry,
    shutdownGraceMs: duration(undefined, file.shutdownGrace, 20 * SECOND),
    shutdownTimeoutMs: duration(undefined, file.shutdownTimeout, 30 * SECOND),
    listen,
    owner: env.TIKTOK_SYNC_OWNER || file.owner,
    accounts,
  };
}

function readConfigFile(configPath: string | undefined, cwd: string): FileConfig {
  const resolved = configPath ? path.resolve(cwd, configPath) : path.resolve(cwd, 'tiktok-sync.config.json');
  if (!existsSync(resolved)) {
    if (configPath) {
      throw new ConfigError(
        'config_missing',
        `Config file \`${resolved}\` does not exist; check the path given.`,
      );
    }
    return {};
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(resolved, 'utf8'));
  } catch (error) {
    throw new ConfigError(
      'config_invalid_json',
      `Config file \`${resolved}\` is not valid JSON (${(error as Error).message}); fix the syntax.`,
    );
  }
  const result = fileSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys.map((name) => [...issue.path, name].join('.'));
      throw new ConfigError(
        'config_invalid',
        `Config file \`${resolved}\`: key \`${keys[0]}\` is not a known setting; check its spelling and nesting.`,
        { details: { key: keys[0] } },
      );
    }
    const key = issue.path.join('.') || '(root)';
    const value = valueAt(parsed, issue.path);
    // Secrets are described by their type only, never echoed.
    const secret = SECRET_KEYS.some((secretKey) => key === secretKey || key.startsWith(`${secretKey}.`));
    const seen =
      value === undefined
        ? 'missing'
        : secret
          ? `a ${Array.isArray(value) ? 'list' : typeof value} (value not shown)`
          : `\`${JSON.stringify(value)}\``;
    throw new ConfigError(
      'config_invalid',
      issue.message.startsWith('expected')
        ? `Config file \`${resolved}\`: key \`${key}\` is ${seen}; ${issue.message}.`
        : `Config file \`${resolved}\`: key \`${key}\` is invalid (${seen}): ${issue.message}.`,
      { details: { key } },
    );
  }
  return result.data;
}

function valueAt(root: unknown, at: readonly PropertyKey[]): unknown {
  let value = root;
  for (const key of at) {
    if (!value || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

function parsePort(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1024 || port > 65535) {
    throw new ConfigError(
      'config_invalid',
      `TIKTOK_SYNC_EMBEDDED_PORT is \`${value}\`; expected a port number between 1024 and 65535.`,
    );
  }
  return port;
}

function parseKeep(value: string | undefined): KeepPolicy | undefined {
  if (!value) return undefined;
  const text = value.trim().toLowerCase();
  if (text === 'all' || text === 'none') return text;
  if (/^[1-9][0-9]*$/.test(text)) return Number(text);
  throw new ConfigError(
    'config_invalid',
    `TIKTOK_SYNC_KEEP_ARCHIVES is \`${value}\`; expected \`all\`, \`none\` or the number of archives to keep per account (1 or more).`,
  );
}

function parseLogLevel(value: string | undefined): Config['logLevel'] | undefined {
  if (!value) return undefined;
  const levels = ['trace', 'debug', 'info', 'warn', 'error', 'silent'] as const;
  const level = levels.find((candidate) => candidate === value.toLowerCase());
  if (!level) {
    throw new ConfigError(
      'config_invalid',
      `LOG_LEVEL is \`${value}\`; expected one of ${levels.join(', ')}.`,
    );
  }
  return level;
}

/** Freezes plain objects and arrays; leaves class instances (Buffer, Secret) as they are. */
function deepFreeze<T>(value: T): T {
  if (
    value &&
    typeof value === 'object' &&
    (Array.isArray(value) || Object.getPrototypeOf(value) === Object.prototype)
  ) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
