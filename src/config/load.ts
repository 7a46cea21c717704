import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { looksLikeCron } from '../cron.js';
import { parseDuration, SECOND } from '../duration.js';
import { ConfigError } from '../errors.js';
import { decodeKeyText, Secret } from '../tiktok/secret.js';
import { DEFAULTS as D } from './defaults.js';
import { type EnvSetting, environmentLayer, LIBPQ_VARS, mergeLayers } from './env.js';
import { type FileConfig, fileSchema, SECRET_KEYS } from './schema.js';
import type {
  AccountSyncConfig,
  Config,
  DatabaseConfig,
  ServerConfig,
  SyncConfig,
  SyncInterval,
  TikTokConfig,
} from './types.js';

export interface LoadConfigOptions {
  /** Path given with `--config`; otherwise `TIKTOK_SYNC_CONFIG`, then `./tiktok-sync.config.json` if present. */
  configPath?: string | undefined;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/**
 * The config: the file (if any) with the environment merged over it, validated by one schema
 * (src/config/schema.ts), defaults filled in, frozen. A wrong setting is a {@link ConfigError} that
 * names the file key or variable, the value given (never a secret's) and what is expected.
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const file = readConfigFile(options.configPath ?? env.TIKTOK_SYNC_CONFIG, cwd);
  const { layer, from } = environmentLayer(env);
  const merged = mergeLayers(file?.content ?? {}, layer);
  const result = fileSchema.safeParse(merged);
  if (!result.success) throw configError(result.error.issues[0]!, merged, from, env, file?.path);
  return deepFreeze(resolve(result.data, env, cwd, from.has('databaseUrl')));
}

function resolve(file: FileConfig, env: NodeJS.ProcessEnv, cwd: string, urlFromEnv: boolean): Config {
  const libpq = LIBPQ_VARS.filter((name) => env[name]);
  let database: DatabaseConfig;
  if (file.databaseUrl) {
    database = {
      kind: 'external',
      connectionString: file.databaseUrl,
      source: urlFromEnv ? 'DATABASE_URL' : 'config file',
    };
  } else if (libpq.length > 0) {
    database = { kind: 'external', connectionString: undefined, source: libpq.join(', ') };
  } else {
    database = { kind: 'embedded', port: file.embeddedPort ?? D.embeddedPort };
  }
  const dataDir = path.resolve(cwd, file.dataDir ?? D.dataDir);
  const archive = file.archive ?? {};
  return {
    dataDir,
    database,
    archive: {
      maxUncompressedBytes: archive.maxUncompressedBytes ?? D['archive.maxUncompressedBytes'],
      maxCompressionRatio: archive.maxCompressionRatio ?? D['archive.maxCompressionRatio'],
      maxEntries: archive.maxEntries ?? D['archive.maxEntries'],
      retentionMs: duration(archive.retention ?? D['archive.retention']),
      quarantineDir: path.resolve(dataDir, archive.quarantineDir ?? D['archive.quarantineDir']),
      kept: {
        keep: archive.keep ?? D['archive.keep'],
        dir: path.resolve(dataDir, archive.keptDir ?? D['archive.keptDir']),
      },
      guard: {
        maxRemovedShare: archive.maxRemovedShare ?? D['archive.maxRemovedShare'],
        minRecords: archive.guardMinRecords ?? D['archive.guardMinRecords'],
      },
    },
    logLevel: file.logLevel,
    logFormat: file.logFormat ?? D.logFormat,
    tiktok: tiktokConfig(file.tiktok ?? {}, dataDir),
    sync: syncConfig(file.sync ?? {}, file.tiktok?.webhookListen),
    server: serverConfig(file.server ?? {}),
  };
}

/** The path of the OAuth callback on the daemon's server, under `server.publicUrl`. */
export const OAUTH_CALLBACK_PATH = '/oauth/callback';

function serverConfig(file: NonNullable<FileConfig['server']>): ServerConfig {
  const publicUrl = file.publicUrl?.replace(/\/+$/, '');
  return {
    publicUrl,
    redirectUri: publicUrl === undefined ? undefined : `${publicUrl}${OAUTH_CALLBACK_PATH}`,
    operator:
      file.operatorName !== undefined && file.operatorContact !== undefined
        ? { name: file.operatorName, contact: file.operatorContact }
        : undefined,
  };
}

function tiktokConfig(file: NonNullable<FileConfig['tiktok']>, dataDir: string): TikTokConfig {
  const base = (url: string) => url.replace(/\/+$/, '');
  return {
    clientKey: file.clientKey,
    clientSecret: file.clientSecret ? new Secret(file.clientSecret) : undefined,
    apiBaseUrl: base(file.apiBaseUrl ?? D['tiktok.apiBaseUrl']),
    authBaseUrl: base(file.authBaseUrl ?? D['tiktok.authBaseUrl']),
    redirectUri: file.redirectUri ?? D['tiktok.redirectUri'],
    pkceEncoding: file.pkceEncoding ?? D['tiktok.pkceEncoding'],
    scopes: file.scopes ?? [...D['tiktok.scopes']],
    dataFormat: file.dataFormat ?? D['tiktok.dataFormat'],
    encryptionKey: file.encryptionKey ? decodeKeyText(file.encryptionKey) : undefined,
    webhook: { listen: file.webhookListen, path: file.webhookPath ?? D['tiktok.webhookPath'] },
    download: {
      maxBytes: file.downloadMaxBytes ?? D['tiktok.downloadMaxBytes'],
      directory: path.resolve(dataDir, file.downloadDir ?? D['tiktok.downloadDir']),
    },
    poll: {
      initialMs: (file.pollInitialSeconds ?? D['tiktok.pollInitialSeconds']) * SECOND,
      maxMs: (file.pollMaxSeconds ?? D['tiktok.pollMaxSeconds']) * SECOND,
      waitMs: (file.waitSeconds ?? D['tiktok.waitSeconds']) * SECOND,
    },
  };
}

function syncConfig(file: NonNullable<FileConfig['sync']>, webhookListen: string | undefined): SyncConfig {
  const timezone = file.timezone ?? D['sync.timezone'];
  const interval = (text: string): SyncInterval =>
    looksLikeCron(text)
      ? { kind: 'cron', expression: text.trim(), timezone, text: text.trim() }
      : { kind: 'every', ms: parseDuration(text)!, text: text.trim() };
  const accounts: Record<string, AccountSyncConfig> = {};
  for (const [name, override] of Object.entries(file.accounts ?? {})) {
    accounts[name] = {
      ...(override.interval ? { interval: interval(override.interval) } : {}),
      ...(override.categories ? { categories: [...new Set(override.categories)] } : {}),
      ...(override.dataFormat ? { dataFormat: override.dataFormat } : {}),
      ...(override.paused !== undefined ? { paused: override.paused } : {}),
      ...(override.acceptRemovals !== undefined ? { acceptRemovals: override.acceptRemovals } : {}),
    };
  }
  return {
    interval: interval(file.interval ?? D['sync.interval']),
    timezone,
    jitterMs: duration(file.jitter ?? D['sync.jitter']),
    tick: file.tick ?? D['sync.tick'],
    concurrency: file.concurrency ?? D['sync.concurrency'],
    leaseMs: duration(file.lease ?? D['sync.lease']),
    pendingLimitMs: duration(file.pendingLimit ?? D['sync.pendingLimit']),
    checkWaitMs: duration(file.checkWait ?? D['sync.checkWait']),
    retry: {
      initialMs: duration(file.retryInitial ?? D['sync.retryInitial']),
      maxMs: duration(file.retryMax ?? D['sync.retryMax']),
    },
    shutdownGraceMs: duration(file.shutdownGrace ?? D['sync.shutdownGrace']),
    shutdownTimeoutMs: duration(file.shutdownTimeout ?? D['sync.shutdownTimeout']),
    listen: file.listen ?? webhookListen ?? D['sync.listen'],
    owner: file.owner,
    onAuthorizationRemoved: file.onAuthorizationRemoved ?? D['sync.onAuthorizationRemoved'],
    accounts,
  };
}

/** A duration the schema has checked (or a default), in ms. */
function duration(text: string): number {
  return parseDuration(text)!;
}

function readConfigFile(
  configPath: string | undefined,
  cwd: string,
): { path: string; content: unknown } | undefined {
  const resolved = path.resolve(cwd, configPath ?? 'tiktok-sync.config.json');
  let text: string;
  try {
    if (statSync(resolved).isDirectory()) {
      throw new ConfigError(
        'config_unreadable',
        `Config file \`${resolved}\` is a directory; give the path of a JSON file, e.g. \`${path.join(resolved, 'tiktok-sync.config.json')}\`.`,
      );
    }
    text = readFileSync(resolved, 'utf8');
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      if (!configPath) return undefined;
      throw new ConfigError(
        'config_missing',
        `Config file \`${resolved}\` does not exist; check the path given.`,
      );
    }
    throw new ConfigError(
      'config_unreadable',
      code === 'EACCES' || code === 'EPERM'
        ? `Config file \`${resolved}\` cannot be read by this user (${code}); check its owner and mode (\`chmod 600\` by its owner keeps it private and readable).`
        : `Config file \`${resolved}\` cannot be read (${(error as Error).message}).`,
    );
  }
  let content: unknown;
  try {
    content = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(
      'config_invalid_json',
      `Config file \`${resolved}\` is not valid JSON (${(error as Error).message}); fix the syntax.`,
    );
  }
  if (typeof content !== 'object' || content === null || Array.isArray(content)) {
    throw new ConfigError(
      'config_invalid',
      `Config file \`${resolved}\` holds ${Array.isArray(content) ? 'a list' : `\`${JSON.stringify(content)}\``}; expected a JSON object of settings, e.g. {"sync": {"interval": "12h"}}.`,
    );
  }
  return { path: resolved, content };
}

/** One message style for every setting: where it was set, what was given, what is expected. */
function configError(
  issue: z.core.$ZodIssue,
  merged: unknown,
  from: Map<string, EnvSetting>,
  env: NodeJS.ProcessEnv,
  filePath: string | undefined,
): ConfigError {
  const inFile = filePath ? `Config file \`${filePath}\`: ` : '';
  if (issue.code === 'unrecognized_keys') {
    const key = [...issue.path, issue.keys[0]].join('.');
    return new ConfigError(
      'config_invalid',
      `${inFile}key \`${key}\` is not a known setting; check its spelling and nesting.`,
      { details: { key } },
    );
  }
  const key = issue.path.join('.') || '(root)';
  const secret = SECRET_KEYS.some((name) => key === name || key.startsWith(`${name}.`));
  const expected = issue.message.startsWith('expected') ? issue.message : `expected ${issue.message}`;
  const setting = [...from.values()].find(
    (candidate) => key === candidate.key || key.startsWith(`${candidate.key}.`),
  );
  if (setting) {
    const seen = secret ? 'set (value not shown)' : `\`${env[setting.name]}\``;
    return new ConfigError(
      'config_invalid',
      `${setting.name} (file key \`${setting.key}\`) is ${seen}; ${expected}.`,
      {
        details: { key, env: setting.name },
      },
    );
  }
  const value = valueAt(merged, issue.path);
  // Secrets are described by their type only, never echoed.
  const seen =
    value === undefined
      ? 'missing'
      : secret
        ? `a ${Array.isArray(value) ? 'list' : typeof value} (value not shown)`
        : `\`${JSON.stringify(value)}\``;
  return new ConfigError('config_invalid', `${inFile}key \`${key}\` is ${seen}; ${expected}.`, {
    details: { key },
  });
}

function valueAt(root: unknown, at: readonly PropertyKey[]): unknown {
  let value = root;
  for (const key of at) {
    if (!value || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
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
