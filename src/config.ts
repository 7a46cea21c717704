import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from './errors.js';
import { PORTABILITY_SCOPES } from './tiktok/oauth.js';
import { Secret } from './tiktok/secret.js';
import { parseEncryptionKey } from './tiktok/tokens.js';

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

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
  };
  readonly tiktok: TikTokConfig;
  /** Unset means: the command decides (quiet one-shot commands, informative daemon). */
  readonly logLevel: LogLevel | undefined;
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

export type DatabaseConfig =
  /** A server named by `DATABASE_URL`, the config file, or libpq `PG*` variables (read by node-postgres). */
  | { readonly kind: 'external'; readonly connectionString: string | undefined; readonly source: string }
  /** The bundled Postgres, started on demand in `<dataDir>/postgres`. */
  | { readonly kind: 'embedded'; readonly port: number };

/** `host:port`, with an IPv6 host in brackets. */
const HOST_PORT = /^[\w.-]+:\d{1,5}$|^\[[\d:a-fA-F]+\]:\d{1,5}$/;

const fileSchema = z
  .object({
    dataDir: z.string().min(1).optional(),
    databaseUrl: z.string().min(1).optional(),
    embeddedPort: z.number().int().min(1024).max(65535).optional(),
    archive: z
      .object({
        maxUncompressedBytes: z.number().int().positive().optional(),
        maxCompressionRatio: z.number().positive().optional(),
        maxEntries: z.number().int().positive().optional(),
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
    },
    logLevel: parseLogLevel(env.LOG_LEVEL) ?? file.logLevel,
    tiktok: tiktokConfig(env, file.tiktok ?? {}, dataDir),
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
    return text.replace(/\/+$/, '');
  };
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
    apiBaseUrl: url(
      'TIKTOK_API_BASE_URL',
      env.TIKTOK_API_BASE_URL || file.apiBaseUrl,
      'https://open.tiktokapis.com',
    ),
    authBaseUrl: url(
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
    const key = issue.path.join('.') || '(root)';
    throw new ConfigError(
      'config_invalid',
      `Config file \`${resolved}\`: key \`${key}\` is invalid: ${issue.message}.`,
      { details: { key } },
    );
  }
  return result.data;
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
