/**
 * Renaming and deleting accounts. An account's rows are spread over every schema, all keyed by
 * `account_id` and referencing `tiktok.accounts`, so a delete removes the dependent rows first
 * and the account row last, in one transaction.
 */
import type pg from 'pg';
import { ConfigError } from '../errors.js';
import { DATA_SCHEMAS, TABLE_SPECS, targetTable } from '../ingest/tables.js';
import { validateAccountName } from './accounts.js';
import { withTransaction } from './transaction.js';

/** The data tables outside the catalog: written by the import besides the per-section tables. */
const OTHER_DATA_TABLES = [
  'tiktok.profile_snapshots',
  'tiktok_private.raw_sections',
  'tiktok_private.refused_records',
] as const;

/** Bookkeeping that belongs to one account, in the order it is deleted (the account row last). */
const BOOKKEEPING_TABLES = [
  // The invites that connected it (with the consents started from them): their notes name the person.
  'tiktok_sync.invites',
  'tiktok_sync.webhook_events',
  'tiktok_sync.data_requests',
  'tiktok_sync.credentials',
  'tiktok_sync.sync_schedule',
  'tiktok_sync.archives',
  'tiktok_sync.sync_runs',
] as const;

/** Every table that holds rows of an account besides `tiktok.accounts`, in delete order. */
export const ACCOUNT_TABLES: readonly string[] = [
  ...Object.values(TABLE_SPECS)
    .filter((spec) => DATA_SCHEMAS.includes(spec.schema))
    .map(targetTable)
    .sort(),
  ...OTHER_DATA_TABLES,
  ...BOOKKEEPING_TABLES,
];

export interface AccountRow {
  accountId: string;
  name: string;
}

/** A pool or a checked-out client. */
type Queryable = Pick<pg.ClientBase, 'query'>;

export async function findAccountByName(db: Queryable, name: string): Promise<AccountRow | undefined> {
  const { rows } = await db.query<{ account_id: string; name: string }>(
    'select account_id::text, name from tiktok.accounts where name = $1',
    [name],
  );
  return rows[0] && { accountId: rows[0].account_id, name: rows[0].name };
}

export function unknownAccount(name: string): ConfigError {
  return new ConfigError(
    'account_unknown',
    `There is no account named \`${name}\`; \`tiktok-sync status\` lists the accounts.`,
  );
}

/** Renames an account. Its rows keep their `account_id`, so nothing else changes. */
export async function renameAccount(pool: pg.Pool, from: string, to: string): Promise<AccountRow> {
  validateAccountName(to);
  try {
    const { rows } = await pool.query<{ account_id: string }>(
      'update tiktok.accounts set name = $2 where name = $1 returning account_id::text',
      [from, to],
    );
    if (!rows[0]) throw unknownAccount(from);
    return { accountId: rows[0].account_id, name: to };
  } catch (error) {
    if ((error as { code?: string }).code === '23505') {
      throw new ConfigError(
        'account_name_taken',
        `There is an account named \`${to}\` already; pick another name, or delete that account first.`,
      );
    }
    throw error;
  }
}

/** Refuses a time zone that Postgres does not know (it computes the days and hours in it). */
export async function requireKnownTimezone(db: Queryable, timezone: string): Promise<void> {
  const known = await db.query('select 1 from pg_timezone_names where name = $1', [timezone]);
  if (known.rowCount === 0) {
    throw new ConfigError(
      'unknown_timezone',
      `\`${timezone}\` is not a time zone this database knows; give an IANA name such as \`Europe/Berlin\`, \`America/New_York\` or \`UTC\`.`,
    );
  }
}

/**
 * Sets the account's own time zone, in which the views' `*_local` columns are computed. The zone
 * must be one Postgres knows (an IANA name such as `Europe/Berlin`, or `UTC`).
 */
export async function setAccountTimezone(pool: pg.Pool, name: string, timezone: string): Promise<AccountRow> {
  await requireKnownTimezone(pool, timezone);
  const { rows } = await pool.query<{ account_id: string }>(
    'update tiktok.accounts set timezone = $2 where name = $1 returning account_id::text',
    [name, timezone],
  );
  if (!rows[0]) throw unknownAccount(name);
  return { accountId: rows[0].account_id, name };
}

export interface DeletedAccount extends AccountRow {
  /** Rows deleted per table, for the tables that had any (the account row not counted). */
  rows: Record<string, number>;
}

/**
 * Deletes an account and every row that has its `account_id`, in one transaction. Refuses while a
 * daemon holds a live lease on it (`now` is compared with the lease's expiry), since that daemon
 * would go on writing rows of the account. The account row is locked first, so an import in progress
 * finishes before the delete and a later one fails instead of writing rows of a deleted account.
 */
export async function deleteAccount(pool: pg.Pool, name: string, now: number): Promise<DeletedAccount> {
  return withTransaction(pool, async (client) => {
    const { rows: found } = await client.query<{ account_id: string }>(
      'select account_id::text from tiktok.accounts where name = $1 for update',
      [name],
    );
    const accountId = found[0]?.account_id;
    if (!accountId) throw unknownAccount(name);
    await refuseLiveLease(client, { accountId, name, now, what: 'nothing was deleted' });
    const rows = await deleteAccountRows(client, accountId);
    return { accountId, name, rows };
  });
}

/**
 * Throws `account_busy` when a daemon holds a live lease on the account (`now` is compared with the
 * lease's expiry): it would go on writing rows and files of the account. A lease held by `except`
 * (the caller's own) does not count. Locks the schedule row until the transaction ends.
 */
export async function refuseLiveLease(
  client: Queryable,
  options: { accountId: string; name: string; now: number; what: string; except?: string },
): Promise<void> {
  const { rows: leases } = await client.query<{ lease_owner: string; lease_expires_at: Date }>(
    `select lease_owner, lease_expires_at from tiktok_sync.sync_schedule
      where account_id = $1 and lease_owner is not null and lease_expires_at > $2
        and lease_owner is distinct from $3
        for update`,
    [options.accountId, new Date(options.now), options.except ?? null],
  );
  const lease = leases[0];
  if (lease) {
    throw new ConfigError(
      'account_busy',
      `Account \`${options.name}\` is being synced by daemon \`${lease.lease_owner}\` (lease until ${lease.lease_expires_at.toISOString()}); ${options.what}. Pause it in the config file or stop that daemon, then try again.`,
    );
  }
}

/**
 * Deletes every row that has the account's `account_id` ({@link ACCOUNT_TABLES}), then the account
 * row, inside the caller's transaction. Returns the rows deleted per table (the account row not
 * counted).
 */
export async function deleteAccountRows(
  client: Queryable,
  accountId: string,
): Promise<Record<string, number>> {
  const rows: Record<string, number> = {};
  for (const table of ACCOUNT_TABLES) {
    const result = await client.query(`delete from ${table} where account_id = $1`, [accountId]);
    if (result.rowCount) rows[table] = result.rowCount;
  }
  await client.query('delete from tiktok.accounts where account_id = $1', [accountId]);
  return rows;
}

export type SyncNowResult =
  | { kind: 'scheduled'; account: AccountRow; previousDueAt: Date }
  | { kind: 'not_connected' | 'not_scheduled'; account: AccountRow }
  | { kind: 'paused' | 'stopped' | 'complete'; account: AccountRow };

/**
 * Makes an account due at `now` (never later than it was), so that a running daemon claims it at its
 * next tick; a retry backoff is cleared too, since someone asked for it. Paused, stopped and complete
 * accounts are left as they are, and the result says why.
 */
export async function syncAccountNow(pool: pg.Pool, name: string, now: number): Promise<SyncNowResult> {
  const account = await findAccountByName(pool, name);
  if (!account) throw unknownAccount(name);
  const at = new Date(now);
  const { rows } = await pool.query<{
    previous_due_at: Date;
    paused: boolean;
    stopped: boolean;
    complete: boolean;
    connected: boolean;
  }>(
    `with target as (
       select s.account_id, s.next_due_at as previous_due_at, s.paused, s.stopped_at is not null as stopped,
              s.complete, c.status = 'active' as connected
         from tiktok_sync.sync_schedule s
         left join tiktok_sync.credentials c on c.account_id = s.account_id
        where s.account_id = $1
          for update of s
     ), updated as (
       update tiktok_sync.sync_schedule s
          set next_due_at = least(s.next_due_at, $2), backoff_until = null, updated_at = $2
         from target t
        where s.account_id = t.account_id and not t.paused and not t.stopped and not t.complete
          and t.connected
     )
     select previous_due_at, paused, stopped, complete, coalesce(connected, false) as connected from target`,
    [account.accountId, at],
  );
  const row = rows[0];
  if (!row) {
    const { rows: grants } = await pool.query('select 1 from tiktok_sync.credentials where account_id = $1', [
      account.accountId,
    ]);
    return { kind: grants.length > 0 ? 'not_scheduled' : 'not_connected', account };
  }
  if (!row.connected) return { kind: 'not_connected', account };
  if (row.paused) return { kind: 'paused', account };
  if (row.stopped) return { kind: 'stopped', account };
  if (row.complete) return { kind: 'complete', account };
  return { kind: 'scheduled', account, previousDueAt: row.previous_due_at };
}
