/**
 * What each setting is when neither the config file nor the environment sets it, by file key, in
 * the file's own form (durations as text). src/config/load.ts fills them in; the README's
 * configuration table is generated from them and from the schema (`npm run config-schema`).
 * Settings without an entry are unset by default (their meaning says what that does).
 */
const GIB = 1024 ** 3;

export const DEFAULTS = {
  dataDir: '.tiktok-sync',
  embeddedPort: 54329,
  logFormat: 'auto',
  'archive.maxUncompressedBytes': 16 * GIB,
  'archive.maxCompressionRatio': 200,
  'archive.maxEntries': 20_000,
  'archive.retention': '0s',
  'archive.quarantineDir': 'quarantine',
  'archive.keep': 'all',
  'archive.keptDir': 'archives',
  'archive.maxRemovedShare': 0.5,
  'archive.guardMinRecords': 10,
  'tiktok.apiBaseUrl': 'https://open.tiktokapis.com',
  'tiktok.authBaseUrl': 'https://www.tiktok.com',
  'tiktok.redirectUri': 'http://127.0.0.1:8723/callback/',
  'tiktok.pkceEncoding': 'hex',
  'tiktok.scopes': ['portability.all.ongoing'],
  'tiktok.dataFormat': 'json',
  'tiktok.webhookPath': '/webhooks/tiktok',
  'tiktok.downloadMaxBytes': 8 * GIB,
  'tiktok.downloadDir': 'downloads',
  'tiktok.pollInitialSeconds': 10,
  'tiktok.pollMaxSeconds': 15 * 60,
  'tiktok.waitSeconds': 60 * 60,
  'sync.interval': '24h',
  'sync.timezone': 'UTC',
  'sync.jitter': '10m',
  'sync.tick': '*/30 * * * * *',
  'sync.concurrency': 4,
  'sync.lease': '5m',
  'sync.pendingLimit': '3d',
  'sync.checkWait': '0s',
  'sync.retryInitial': '1m',
  'sync.retryMax': '6h',
  'sync.shutdownGrace': '20s',
  'sync.shutdownTimeout': '30s',
  'sync.listen': '127.0.0.1:8724',
  'sync.onAuthorizationRemoved': 'keep',
} as const;
