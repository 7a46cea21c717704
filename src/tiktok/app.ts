/**
 * The TikTok app this service acts as (from the configuration, or a sandbox standing in for it), and
 * the clients and database view built from it.
 */
import type { Kysely } from 'kysely';
import type { Config } from '../config.js';
import type { DatabaseHandle } from '../db/connect.js';
import { ConfigError } from '../errors.js';
import type { Clock } from './clock.js';
import type { TikTokDatabase, TikTokTables } from './db-types.js';
import { OAuthClient, type PkceEncoding } from './oauth.js';
import type { Secret } from './secret.js';
import { ENCRYPTION_KEY_ENV } from './tokens.js';

/** The TikTok app (or a sandbox standing in for it) that the TikTok commands act as. */
export interface TikTokApp {
  readonly clientKey: string;
  readonly clientSecret: Secret;
  readonly apiBaseUrl: string;
  readonly authBaseUrl: string;
  /** A loopback URI; port 0 means "any free port" (for apps registered with a `*` port). */
  readonly redirectUri: string;
  readonly pkceEncoding: PkceEncoding;
}

/** The configured app, or a sentence naming the setting that is missing. */
export function requireTikTokApp(config: Config): TikTokApp {
  const { tiktok } = config;
  const where = (env: string, key: string) =>
    `set ${env} (or \`tiktok.${key}\` in the config file) to the one of your app in the TikTok developer portal, or to the one \`tiktok-sync sandbox\` prints`;
  if (!tiktok.clientKey) {
    throw new ConfigError(
      'tiktok_client_key_missing',
      `No TikTok client key is configured; ${where('TIKTOK_CLIENT_KEY', 'clientKey')}.`,
    );
  }
  if (!tiktok.clientSecret) {
    throw new ConfigError(
      'tiktok_client_secret_missing',
      `No TikTok client secret is configured; ${where('TIKTOK_CLIENT_SECRET', 'clientSecret')}.`,
    );
  }
  return {
    clientKey: tiktok.clientKey,
    clientSecret: tiktok.clientSecret,
    apiBaseUrl: tiktok.apiBaseUrl,
    authBaseUrl: tiktok.authBaseUrl,
    redirectUri: tiktok.redirectUri,
    pkceEncoding: tiktok.pkceEncoding,
  };
}

/** The token encryption key, or a sentence saying how to make one. */
export function requireEncryptionKey(config: Config): Buffer {
  if (!config.tiktok.encryptionKey) {
    throw new ConfigError(
      'encryption_key_missing',
      `No encryption key is set, so TikTok tokens cannot be stored or read. Create one with \`openssl rand -base64 32\` and put it in ${ENCRYPTION_KEY_ENV} (keep it safe: without it the stored tokens cannot be read and every account must connect again).`,
    );
  }
  return config.tiktok.encryptionKey;
}

/** The database with the tables of the TikTok half. */
export function tiktokDb(database: DatabaseHandle): Kysely<TikTokDatabase> {
  return database.db.withTables<TikTokTables>();
}

/** The OAuth client of the configured app (or of the sandbox standing in for it). */
export function oauthClientFor(app: TikTokApp, clock?: Clock): OAuthClient {
  return new OAuthClient({
    clientKey: app.clientKey,
    clientSecret: app.clientSecret,
    redirectUri: app.redirectUri,
    apiBaseUrl: app.apiBaseUrl,
    authBaseUrl: app.authBaseUrl,
    pkceEncoding: app.pkceEncoding,
    ...(clock ? { clock } : {}),
  });
}
