/**
 * Which account a new grant goes to. The TikTok user's open_id decides: a user connected before
 * keeps their account (a renewed connection); a name already linked to another TikTok user is never
 * given this one's grant.
 */
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import { ensureAccount } from '../db/accounts.js';
import type { Database } from '../db/schema.js';
import { ConfigError } from '../errors.js';
import type { TikTokDatabase } from './db-types.js';

export interface GrantAccount {
  accountId: string;
  accountName: string;
  /** True when the account was made for this grant. */
  created: boolean;
  /** True when this TikTok user was connected to the account before. */
  renewed: boolean;
}

export interface GrantAccountOptions {
  /** The account name asked for (`--account`); undefined: the account this user has, else `newName`. */
  requested: string | undefined;
  /** The name of a new account for this user, when none was asked for. */
  newName(openId: string): string;
  /**
   * `connect`: a name asked for that is not this user's account is refused (the operator can run
   * it again). `invite`: the user's own account wins over the name the link was made with (the
   * person cannot do anything about a mismatch).
   */
  linkedElsewhere: 'refuse' | 'renew';
}

export async function accountForGrant(
  db: Kysely<TikTokDatabase>,
  openId: string,
  options: GrantAccountOptions,
): Promise<GrantAccount> {
  const linked = await findAccount(db, { openId });
  if (
    linked &&
    (options.requested === undefined ||
      options.linkedElsewhere === 'renew' ||
      linked.name === options.requested)
  ) {
    return { accountId: linked.accountId, accountName: linked.name, created: false, renewed: true };
  }
  if (linked) {
    throw new ConfigError(
      'tiktok_user_already_connected',
      `This TikTok user (open_id \`${openId}\`) is already connected as account \`${linked.name}\`; run \`tiktok-sync connect --account ${linked.name}\` (or leave out --account) to renew that connection.`,
    );
  }
  const name = options.requested ?? options.newName(openId);
  const named = await findAccount(db, { name });
  if (named?.openId && named.openId !== openId) {
    throw new ConfigError(
      'account_linked_to_another_user',
      `Account \`${name}\` belongs to another TikTok user (open_id \`${named.openId}\`), but this consent came from \`${openId}\`; connect this user under another account name.`,
    );
  }
  // The same database with fewer tables typed: kysely's types are invariant in the table map.
  const accountId = await ensureAccount(db as unknown as Kysely<Database>, name);
  return { accountId, accountName: name, created: !named, renewed: false };
}

/** An account name from an open_id: the characters account names allow, at most 64. */
export function accountNameFromOpenId(openId: string): string {
  const name = openId.replace(/[^\p{L}\p{N}._@-]/gu, '-').slice(0, 64);
  return name === '' ? 'tiktok-user' : name;
}

/**
 * `user-` and the first 12 hex digits of the open_id's SHA-256: short, safe in any shell or URL, and
 * telling nothing of the open_id. Another account holding it by chance would be refused by
 * {@link accountForGrant}; with 48 bits that takes some 16 million invited users.
 */
export function accountNameFromHash(openId: string): string {
  return `user-${createHash('sha256').update(openId).digest('hex').slice(0, 12)}`;
}

/** An account found by its name or by the TikTok user it is connected to. */
export interface AccountRef {
  readonly accountId: string;
  readonly name: string;
  readonly openId: string | null;
}

export async function findAccount(
  db: Kysely<TikTokDatabase>,
  by: { name: string } | { openId: string },
): Promise<AccountRef | undefined> {
  const query = db.selectFrom('tiktok.accounts').select(['account_id', 'name', 'open_id']);
  const row = await ('name' in by
    ? query.where('name', '=', by.name)
    : query.where('open_id', '=', by.openId)
  ).executeTakeFirst();
  return row ? { accountId: row.account_id, name: row.name, openId: row.open_id } : undefined;
}
