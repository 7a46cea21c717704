/**
 * Forgotten accounts (migration 0016): the database half of forgetting an account, and the
 * tombstone it leaves. Forgetting deletes every row of the account as `account delete` does
 * ({@link deleteAccountRows}), and also the webhook events of its TikTok user that name no account,
 * in one transaction that inserts the tombstone: the account id, a SHA-256 of the open_id, when and
 * why. No name is kept, not even hashed (it is often the person's own user name).
 *
 * What the tombstone does: a webhook for that open_id is ignored and stores nothing
 * ({@link isForgottenUser}); rows and grants of the old account id cannot come back (the account row
 * is gone, and every table refers to it). Connecting the same TikTok user again is a new consent: it
 * creates a new account, and the tombstone only notes when ({@link noteReconsent}).
 */
import { createHash } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import type pg from 'pg';
import { deleteAccountRows, refuseLiveLease } from './account-admin.js';
import { withTransaction } from './transaction.js';

/** Why an account was forgotten. */
export type ForgetReason = 'requested' | 'authorization_removed';

/** What became of the grant at TikTok (the tombstone's `revoke`). */
export type RevokeOutcome = 'revoked' | 'failed' | 'not_connected' | 'already_ended' | 'removed_by_tiktok';

/** A pool or a checked-out client. */
type Queryable = Pick<pg.ClientBase, 'query'>;

/** SHA-256 of an open_id, hex: how the tombstone names the TikTok user. */
export function openIdHash(openId: string): string {
  return createHash('sha256').update(openId, 'utf8').digest('hex');
}

/** What the transaction deleted, and what the files to remove next are named after. */
export interface ForgottenRows {
  accountId: string;
  name: string;
  /** Rows deleted per table (the account row not counted). */
  rows: Record<string, number>;
  /** The account's runs: their quarantine reason files are named after them. */
  runIds: string[];
  /** Where its failed runs' archives were quarantined (`sync_runs.quarantined_to`). */
  quarantinedTo: string[];
  /** Its data requests: their downloads are named after them. */
  requestIds: string[];
}

/**
 * Deletes the account's rows in every schema and inserts its tombstone, in one transaction. The
 * account row is locked first (an import in progress finishes before), and a live lease of a daemon
 * other than `fenceOwner` refuses it (`account_busy`). Returns undefined when the account is gone
 * already (forgotten meanwhile by another process).
 */
export async function forgetAccountRows(
  pool: pg.Pool,
  options: {
    accountId: string;
    now: number;
    reason: ForgetReason;
    revoke: RevokeOutcome;
    /** The lease the caller holds on the account meanwhile ({@link fenceAccount}). */
    fenceOwner?: string;
  },
): Promise<ForgottenRows | undefined> {
  return withTransaction(pool, async (client) => {
    const { rows: found } = await client.query<{ name: string; open_id: string | null }>(
      'select name, open_id from tiktok.accounts where account_id = $1 for update',
      [options.accountId],
    );
    const account = found[0];
    if (!account) return undefined;
    const { accountId } = options;
    await refuseLiveLease(client, {
      accountId,
      name: account.name,
      now: options.now,
      what: 'nothing was deleted',
      except: options.fenceOwner,
    });
    const { rows: grants } = await client.query<{ open_id: string }>(
      'select open_id from tiktok_sync.credentials where account_id = $1',
      [accountId],
    );
    const openIds = [...new Set([account.open_id, grants[0]?.open_id].filter((id) => id != null))];
    const { rows: runs } = await client.query<{ run_id: string; quarantined_to: string | null }>(
      'select run_id::text, quarantined_to from tiktok_sync.sync_runs where account_id = $1',
      [accountId],
    );
    const { rows: requests } = await client.query<{ request_id: string }>(
      'select request_id from tiktok_sync.data_requests where account_id = $1',
      [accountId],
    );
    const requestIds = requests.map((row) => row.request_id);
    const rows = await deleteAccountRows(client, accountId);
    // Events of its TikTok user or its requests that arrived before they could be matched to it.
    const events = await client.query(
      `delete from tiktok_sync.webhook_events
        where user_openid = any($1::text[]) or request_id = any($2::text[])`,
      [openIds, requestIds],
    );
    if (events.rowCount) {
      rows['tiktok_sync.webhook_events'] = (rows['tiktok_sync.webhook_events'] ?? 0) + events.rowCount;
    }
    const openId = account.open_id ?? grants[0]?.open_id ?? null;
    await client.query(
      `insert into tiktok_sync.forgotten_accounts (account_id, open_id_hash, forgotten_at, reason, revoke)
       values ($1, $2, $3, $4, $5)`,
      [
        accountId,
        openId === null ? null : openIdHash(openId),
        new Date(options.now),
        options.reason,
        options.revoke,
      ],
    );
    return {
      accountId,
      name: account.name,
      rows,
      runIds: runs.map((run) => run.run_id),
      quarantinedTo: [...new Set(runs.flatMap((run) => (run.quarantined_to ? [run.quarantined_to] : [])))],
      requestIds,
    };
  });
}

/**
 * Takes a lease on the account for `owner`, as a daemon's claim would, so that no daemon starts a
 * sync of it while it is being forgotten (its request cancelled, its grant revoked). Returns false
 * when a daemon holds a live lease, undefined when the account is gone.
 */
export async function fenceAccount(
  db: Queryable,
  options: { accountId: string; owner: string; now: number; leaseMs: number },
): Promise<boolean | undefined> {
  const now = new Date(options.now);
  try {
    const { rows } = await db.query(
      `insert into tiktok_sync.sync_schedule as s
         (account_id, next_due_at, slot_at, lease_owner, lease_expires_at, lease_epoch, claimed_at,
          heartbeat_at, created_at, updated_at)
       values ($1, $2, $2, $3, $4, 1, $2, $2, $2, $2)
       on conflict (account_id) do update
         set lease_owner = excluded.lease_owner, lease_expires_at = excluded.lease_expires_at,
             lease_epoch = s.lease_epoch + 1, claimed_at = excluded.claimed_at,
             heartbeat_at = excluded.heartbeat_at, updated_at = excluded.updated_at
         where s.lease_owner is null or s.lease_expires_at <= $2 or s.lease_owner = $3
       returning account_id`,
      [options.accountId, now, options.owner, new Date(options.now + options.leaseMs)],
    );
    return rows.length > 0;
  } catch (error) {
    // The account row is gone: forgotten (or deleted) meanwhile.
    if ((error as { code?: string }).code === '23503') return undefined;
    throw error;
  }
}

/** Gives up a lease {@link fenceAccount} took (when forgetting stopped before its transaction). */
export async function releaseFence(db: Queryable, accountId: string, owner: string): Promise<void> {
  await db.query(
    `update tiktok_sync.sync_schedule set lease_owner = null, lease_expires_at = null
      where account_id = $1 and lease_owner = $2`,
    [accountId, owner],
  );
}

/**
 * True when a webhook event of this TikTok user must be ignored: the user was forgotten and has not
 * connected again, or the event was created before they did (it is about the forgotten grant).
 */
export async function isForgottenUser(
  // biome-ignore lint/suspicious/noExplicitAny: only raw SQL is run, on any of the app's Kysely views.
  db: Kysely<any>,
  openId: string,
  createTimeSeconds: number | undefined,
): Promise<boolean> {
  const created = createTimeSeconds === undefined ? null : new Date(createTimeSeconds * 1000);
  const { rows } = await sql<{ ignored: boolean }>`
    select exists (
      select 1 from tiktok_sync.forgotten_accounts f
       where f.open_id_hash = ${openIdHash(openId)}
         and (not exists (select 1 from tiktok.accounts a where a.open_id = ${openId})
              or ${created}::timestamptz < f.reconsented_at)
    ) as ignored
  `.execute(db);
  return rows[0]?.ignored ?? false;
}

/**
 * Notes on the tombstones of this TikTok user, if any, that they consented again (a new account):
 * events created before `now` still belong to the forgotten grant. Returns how many tombstones.
 */
export async function noteReconsent(
  // biome-ignore lint/suspicious/noExplicitAny: only raw SQL is run, on any of the app's Kysely views.
  db: Kysely<any>,
  openId: string,
  now: Date,
): Promise<number> {
  const result = await sql`
    update tiktok_sync.forgotten_accounts set reconsented_at = ${now}
     where open_id_hash = ${openIdHash(openId)}
  `.execute(db);
  return Number(result.numAffectedRows ?? 0n);
}

/** Forgotten accounts by reason, for the metrics. */
export async function forgottenCounts(
  // biome-ignore lint/suspicious/noExplicitAny: only raw SQL is run, on any of the app's Kysely views.
  db: Kysely<any>,
): Promise<Record<string, number>> {
  const { rows } = await sql<{ reason: string; n: number }>`
    select reason, count(*)::int as n from tiktok_sync.forgotten_accounts group by reason
  `.execute(db);
  return Object.fromEntries(rows.map((row) => [row.reason, row.n]));
}
