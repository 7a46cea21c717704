/**
 * The environment variables that stand for config file keys. Each is mapped onto the file's shape
 * and merged over the file, so that one schema (src/config/schema.ts) validates both. An empty
 * variable counts as unset.
 */
export interface EnvSetting {
  readonly name: string;
  /** The file key it stands for, as a dotted path. */
  readonly key: string;
  /** How the text becomes a file value. */
  readonly read?: (text: string) => unknown;
}

/** A whole number when the text is one, else the text, so the schema says what was expected. */
const number = (text: string): unknown => (/^\s*-?\d+(\.\d+)?\s*$/.test(text) ? Number(text) : text);
const lower = (text: string): string => text.trim().toLowerCase();
const list = (text: string): string[] => text.split(',').map((item) => item.trim());
const keep = (text: string): unknown => {
  const value = lower(text);
  return value === 'all' || value === 'none' ? value : number(value);
};

export const ENV_SETTINGS: readonly EnvSetting[] = [
  { name: 'TIKTOK_SYNC_DATA_DIR', key: 'dataDir' },
  { name: 'DATABASE_URL', key: 'databaseUrl' },
  { name: 'TIKTOK_SYNC_EMBEDDED_PORT', key: 'embeddedPort', read: number },
  { name: 'TIKTOK_SYNC_KEEP_ARCHIVES', key: 'archive.keep', read: keep },
  { name: 'LOG_LEVEL', key: 'logLevel', read: lower },
  { name: 'LOG_FORMAT', key: 'logFormat', read: lower },
  { name: 'TIKTOK_CLIENT_KEY', key: 'tiktok.clientKey' },
  { name: 'TIKTOK_CLIENT_SECRET', key: 'tiktok.clientSecret' },
  { name: 'TIKTOK_API_BASE_URL', key: 'tiktok.apiBaseUrl' },
  { name: 'TIKTOK_AUTH_BASE_URL', key: 'tiktok.authBaseUrl' },
  { name: 'TIKTOK_REDIRECT_URI', key: 'tiktok.redirectUri' },
  { name: 'TIKTOK_PKCE_ENCODING', key: 'tiktok.pkceEncoding' },
  { name: 'TIKTOK_SCOPES', key: 'tiktok.scopes', read: list },
  { name: 'TIKTOK_DATA_FORMAT', key: 'tiktok.dataFormat' },
  { name: 'TIKTOK_SYNC_ENCRYPTION_KEY', key: 'tiktok.encryptionKey' },
  { name: 'TIKTOK_WEBHOOK_LISTEN', key: 'tiktok.webhookListen' },
  { name: 'TIKTOK_WEBHOOK_PATH', key: 'tiktok.webhookPath' },
  { name: 'TIKTOK_SYNC_INTERVAL', key: 'sync.interval' },
  { name: 'TIKTOK_SYNC_TIMEZONE', key: 'sync.timezone' },
  { name: 'TIKTOK_SYNC_JITTER', key: 'sync.jitter' },
  { name: 'TIKTOK_SYNC_CONCURRENCY', key: 'sync.concurrency', read: number },
  { name: 'TIKTOK_SYNC_LISTEN', key: 'sync.listen' },
  { name: 'TIKTOK_SYNC_OWNER', key: 'sync.owner' },
  { name: 'TIKTOK_SYNC_ON_AUTHORIZATION_REMOVED', key: 'sync.onAuthorizationRemoved', read: lower },
  { name: 'TIKTOK_SYNC_PUBLIC_URL', key: 'server.publicUrl' },
  { name: 'TIKTOK_SYNC_OPERATOR_NAME', key: 'server.operatorName' },
  { name: 'TIKTOK_SYNC_OPERATOR_CONTACT', key: 'server.operatorContact' },
];

/** libpq's variables: with any of them set and no URL, node-postgres connects by them. */
export const LIBPQ_VARS = [
  'PGHOST',
  'PGHOSTADDR',
  'PGPORT',
  'PGDATABASE',
  'PGUSER',
  'PGPASSWORD',
  'PGSERVICE',
];

export type Layer = Record<string, unknown>;

/** The set variables as an object shaped like the config file, and which variable gave which key. */
export function environmentLayer(env: NodeJS.ProcessEnv): { layer: Layer; from: Map<string, EnvSetting> } {
  const layer: Layer = {};
  const from = new Map<string, EnvSetting>();
  for (const setting of ENV_SETTINGS) {
    const text = env[setting.name];
    if (!text) continue;
    const keys = setting.key.split('.');
    let target = layer;
    for (const key of keys.slice(0, -1)) {
      target[key] ??= {};
      target = target[key] as Layer;
    }
    target[keys.at(-1)!] = setting.read ? setting.read(text) : text;
    from.set(setting.key, setting);
  }
  return { layer, from };
}

/** `over` merged onto `under`: nested objects key by key, anything else replaced. */
export function mergeLayers(under: unknown, over: Layer): unknown {
  if (!isPlainObject(under)) return over;
  const merged: Layer = { ...under };
  for (const [key, value] of Object.entries(over)) {
    merged[key] =
      isPlainObject(value) && isPlainObject(merged[key]) ? mergeLayers(merged[key], value) : value;
  }
  return merged;
}

function isPlainObject(value: unknown): value is Layer {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
