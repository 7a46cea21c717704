/**
 * Everything the service can be told, read once at start: the config file with the environment
 * merged over it, validated by one schema and frozen. src/config/load.ts is the only reader of
 * `process.env`; nothing below the CLI reads the environment.
 */
export { type LoadConfigOptions, loadConfig, OAUTH_CALLBACK_PATH } from './config/load.js';
export type {
  AccountSyncConfig,
  Config,
  DatabaseConfig,
  KeepPolicy,
  KeptArchivesConfig,
  LogLevel,
  ServerConfig,
  SyncConfig,
  SyncInterval,
  TikTokConfig,
} from './config/types.js';
