import path from 'node:path';
import type { Kysely } from 'kysely';
import { type DatabaseHandle, redactConnectionString } from '../db/connect.js';
import { ConfigError } from '../errors.js';
import type { TikTokDatabase } from '../tiktok/db-types.js';
import { type AccountRef, findAccount } from '../tiktok/grant-account.js';
import type { Output } from './output.js';

export {
  oauthClientFor,
  requireEncryptionKey,
  requireTikTokApp,
  type TikTokApp,
  tiktokDb,
} from '../tiktok/app.js';

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

export { type AccountRef, findAccount } from '../tiktok/grant-account.js';

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
