import path from 'node:path';
import type { Kysely } from 'kysely';
import type { Config } from '../config.js';
import { type DatabaseHandle, redactConnectionString } from '../db/connect.js';
import { ConfigError } from '../errors.js';
import type { Clock } from '../tiktok/clock.js';
import type { TikTokDatabase, TikTokTables } from '../tiktok/db-types.js';
import { OAuthClient, type PkceEncoding } from '../tiktok/oauth.js';
import type { Secret } from '../tiktok/secret.js';
import { ENCRYPTION_KEY_ENV } from '../tiktok/tokens.js';
import type { Output } from './output.js';

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

/** Same rule as `ensureAccount`, checked before the consent flow so a bad name fails at once. */
const ACCOUNT_NAME = /^[\p{L}\p{N}._@-]{1,64}$/u;

export function checkAccountName(name: string): void {
  if (!ACCOUNT_NAME.test(name)) {
    throw new ConfigError(
      'account_name_invalid',
      `Account name \`${name}\` is not valid; use 1 to 64 letters, digits, dots, dashes, underscores or @.`,
    );
  }
}

export interface AccountRef {
  readonly accountId: string;
  readonly name: string;
  readonly openId: string | null;
}

export function tiktokDb(database: DatabaseHandle): Kysely<TikTokDatabase> {
  return database.db.withTables<TikTokTables>();
}

export async function findAccount(
  db: Kysely<TikTokDatabase>,
  by: { name: string } | { openId: string },
): Promise<AccountRef | undefined> {
  const query = db.selectFrom('tiktok_sync.accounts').select(['account_id', 'name', 'open_id']);
  const row = await ('name' in by
    ? query.where('name', '=', by.name)
    : query.where('open_id', '=', by.openId)
  ).executeTakeFirst();
  return row ? { accountId: row.account_id, name: row.name, openId: row.open_id } : undefined;
}

/** The account by name, or a sentence saying how to connect it. */
export async function requireAccount(db: Kysely<TikTokDatabase>, name: string): Promise<AccountRef> {
  const account = await findAccount(db, { name });
  if (!account) {
    throw new ConfigError(
      'account_unknown',
      `There is no account named \`${name}\`; connect it first with \`tiktok-sync connect --account ${name}\`.`,
    );
  }
  return account;
}

/** Where the data went, and for the embedded server how to reach it after the command ends. */
export function printDatabaseLocation(output: Output, database: DatabaseHandle): void {
  if (!database.embeddedDataDir) {
    output.out(`Database: ${redactConnectionString(database.connectionString)}`);
    return;
  }
  const dataDir = path.dirname(database.embeddedDataDir);
  output.out(`Data directory: ${dataDir}`);
  output.out(`Connection string: ${database.connectionString}`);
  output.out(
    `The embedded Postgres stops when this command ends; \`${dbCommand(dataDir)}\` serves it for psql or a BI tool.`,
  );
}

/** How to serve this data directory again: `db` must find the same one, so a non-default one is named. */
export function dbCommand(dataDir: string): string {
  return dataDir === path.resolve('.tiktok-sync')
    ? 'npx tiktok-sync db'
    : `TIKTOK_SYNC_DATA_DIR=${dataDir} npx tiktok-sync db`;
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
