import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from './errors.js';

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
  /** Unset means: the command decides (quiet one-shot commands, informative daemon). */
  readonly logLevel: LogLevel | undefined;
}

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent';

export type DatabaseConfig =
  /** A server named by `DATABASE_URL`, the config file, or libpq `PG*` variables (read by node-postgres). */
  | { readonly kind: 'external'; readonly connectionString: string | undefined; readonly source: string }
  /** The bundled Postgres, started on demand in `<dataDir>/postgres`. */
  | { readonly kind: 'embedded'; readonly port: number };

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

  const config: Config = {
    dataDir: path.resolve(cwd, env.TIKTOK_SYNC_DATA_DIR || file.dataDir || '.tiktok-sync'),
    database,
    archive: {
      maxUncompressedBytes: file.archive?.maxUncompressedBytes ?? 16 * GIB,
      maxCompressionRatio: file.archive?.maxCompressionRatio ?? 200,
      maxEntries: file.archive?.maxEntries ?? 20_000,
    },
    logLevel: parseLogLevel(env.LOG_LEVEL) ?? file.logLevel,
  };
  return deepFreeze(config);
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

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
