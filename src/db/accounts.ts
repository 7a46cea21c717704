import type { Kysely } from 'kysely';
import { ConfigError } from '../errors.js';
import type { Database } from './schema.js';

const ACCOUNT_NAME = /^[\p{L}\p{N}._@-]{1,64}$/u;

/** Throws unless `name` can name an account. */
export function validateAccountName(name: string): void {
  if (!ACCOUNT_NAME.test(name)) {
    throw new ConfigError(
      'account_name_invalid',
      `Account name \`${name}\` is not valid; use 1 to 64 letters, digits, dots, dashes, underscores or @.`,
    );
  }
}

/** Finds the account with this name, creating it on first use. */
export async function ensureAccount(db: Kysely<Database>, name: string): Promise<string> {
  validateAccountName(name);
  // Look up first: an INSERT … ON CONFLICT would burn an identity value on every import.
  const found = await db
    .selectFrom('tiktok.accounts')
    .select('account_id')
    .where('name', '=', name)
    .executeTakeFirst();
  if (found) return found.account_id;
  const inserted = await db
    .insertInto('tiktok.accounts')
    .values({ name })
    .onConflict((oc) => oc.column('name').doNothing())
    .returning('account_id')
    .executeTakeFirst();
  if (inserted) return inserted.account_id;
  // Created concurrently by another process.
  return (
    await db
      .selectFrom('tiktok.accounts')
      .select('account_id')
      .where('name', '=', name)
      .executeTakeFirstOrThrow()
  ).account_id;
}
