import { type Kysely, sql } from 'kysely';
import type { ClaimOutcome, SchedulerDatabase } from './db-types.js';
import { nextSlot, type SyncInterval } from './interval.js';

/** One account a daemon holds: the lease is valid while `epoch` is the row's and it has not expired. */
export interface Claim {
  readonly accountId: string;
  readonly accountName: string;
  /** The row's `lease_epoch` after this claim; heartbeats and the release must quote it. */
  readonly epoch: string;
  /** The interval slot the due sync belongs to (before jitter). */
  readonly slotAt: Date;
  readonly nextDueAt: Date;
  /** Consecutive transient failures so far. */
  readonly attempts: number;
  /** The daemon whose lease had expired when this one took the account over, if any. */
  readonly takenOverFrom: string | null;
  readonly claimedAt: Date;
}

/** What a finished claim writes back. Times are milliseconds since the epoch. */
export interface Release {
  readonly outcome: ClaimOutcome;
  readonly nextDueAt: number;
  /** The new interval slot; unchanged when absent. */
  readonly slotAt?: number;
  /** The interval (its config text) that planned `nextDueAt`, after an import. */
  readonly plannedInterval?: string;
  readonly attempts: number;
  readonly backoffUntil: number | null;
  readonly success?: { readonly runId: string | null; readonly requestId: string };
  readonly error?: { readonly code: string; readonly message: string };
  readonly stop?: { readonly code: string; readonly reason: string };
  readonly complete?: boolean;
}

export interface ReconcileOptions {
  now: number;
  /** New accounts are first due at a random point within this window, so they do not all start at once. */
  jitterMs: number;
  /** Names of the accounts the config file pauses. */
  paused: readonly string[];
  /** The interval each account syncs on now (its own, or `sync.interval`); absent: plans are left alone. */
  intervalOf?: (accountName: string) => SyncInterval;
  random?: () => number;
}

/**
 * Brings the schedule in line with the accounts: every connected account gets a row (due now, plus
 * jitter); `paused` follows the config file; an account stopped or complete whose user connected
 * again (a newer grant) is scheduled again. Safe to run from any number of daemons at once.
 */
export async function reconcileSchedule(db: Kysely<SchedulerDatabase>, options: ReconcileOptions) {
  const now = new Date(options.now);
  await sql`
    insert into tiktok_sync.sync_schedule (account_id, next_due_at, slot_at, created_at, updated_at)
    select c.account_id, ${now}::timestamptz + random() * ${options.jitterMs}::double precision * interval '1 millisecond',
           ${now}::timestamptz, ${now}::timestamptz, ${now}::timestamptz
      from tiktok_sync.credentials c
     where not exists (select 1 from tiktok_sync.sync_schedule s where s.account_id = c.account_id)
    on conflict (account_id) do nothing
  `.execute(db);
  await sql`
    update tiktok_sync.sync_schedule s
       set paused = (a.name = any(${[...options.paused]}::text[])), updated_at = ${now}
      from tiktok.accounts a
     where a.account_id = s.account_id
       and s.paused is distinct from (a.name = any(${[...options.paused]}::text[]))
  `.execute(db);
  await sql`
    update tiktok_sync.sync_schedule s
       set stopped_at = null, stop_code = null, stop_reason = null, complete = false, completed_at = null,
           attempts = 0, backoff_until = null, next_due_at = least(s.next_due_at, ${now}),
           slot_at = least(s.slot_at, ${now}), updated_at = ${now}
      from tiktok_sync.credentials c
     where c.account_id = s.account_id and c.status = 'active'
       and ((s.stopped_at is not null and c.granted_at > s.stopped_at)
         or (s.complete and c.granted_at > s.completed_at))
  `.execute(db);
  if (options.intervalOf) await replanChangedIntervals(db, options.intervalOf, options);
}

/**
 * Plans the next sync again for accounts whose interval changed in the config since it was planned:
 * from the last success with the new interval (`every`; at once when that is past), or the next match
 * of the new cron expression, plus jitter. Only idle plans move: not an account held by a daemon, in
 * backoff, or with a request in flight (those are planned by what they wait for).
 */
async function replanChangedIntervals(
  db: Kysely<SchedulerDatabase>,
  intervalOf: (accountName: string) => SyncInterval,
  options: ReconcileOptions,
): Promise<void> {
  const now = new Date(options.now);
  const planned = await sql<{
    account_id: string;
    name: string;
    planned_interval: string;
    last_success_at: Date | null;
  }>`
    select s.account_id, a.name, s.planned_interval, s.last_success_at
      from tiktok_sync.sync_schedule s
      join tiktok.accounts a on a.account_id = s.account_id
     where s.planned_interval is not null
       and (s.lease_expires_at is null or s.lease_expires_at <= ${now})
       and (s.backoff_until is null or s.backoff_until <= ${now})
       and not exists (
         select 1 from tiktok_sync.data_requests d where d.account_id = s.account_id and d.finished_at is null
       )
  `.execute(db);
  const random = options.random ?? Math.random;
  for (const row of planned.rows) {
    const interval = intervalOf(row.name);
    if (interval.text === row.planned_interval) continue;
    const from = row.last_success_at?.getTime() ?? options.now;
    const slot =
      interval.kind === 'every' ? Math.max(options.now, from + interval.ms) : nextSlot(interval, options.now);
    const due = new Date(slot + Math.round(random() * options.jitterMs));
    // Only if the row is still as read: a daemon may have claimed it meanwhile.
    await db
      .updateTable('tiktok_sync.sync_schedule')
      .set({ next_due_at: due, slot_at: new Date(slot), planned_interval: interval.text, updated_at: now })
      .where('account_id', '=', row.account_id)
      .where('planned_interval', '=', row.planned_interval)
      .where((eb) => eb.or([eb('lease_expires_at', 'is', null), eb('lease_expires_at', '<=', now)]))
      .execute();
  }
}

/**
 * Claims up to `limit` due accounts for `owner`: rows that are due, not paused, complete or stopped,
 * with an active grant, and not held by a live lease. `FOR UPDATE SKIP LOCKED` lets daemons claim at
 * the same moment without waiting on or taking each other's rows; the earliest due go first. The
 * partial index on `next_due_at` keeps this a short index range scan however many accounts there are.
 */
export async function claimDue(
  db: Kysely<SchedulerDatabase>,
  options: { owner: string; now: number; leaseMs: number; limit: number },
): Promise<Claim[]> {
  if (options.limit <= 0) return [];
  const now = new Date(options.now);
  const expires = new Date(options.now + options.leaseMs);
  const result = await sql<{
    account_id: string;
    name: string;
    lease_epoch: string;
    slot_at: Date;
    next_due_at: Date;
    attempts: number;
    previous_owner: string | null;
  }>`
    with due as (
      select s.account_id, s.lease_owner as previous_owner
        from tiktok_sync.sync_schedule s
        join tiktok_sync.credentials c on c.account_id = s.account_id
       where not s.paused and not s.complete and s.stopped_at is null
         and c.status = 'active'
         and (s.lease_expires_at is null or s.lease_expires_at <= ${now})
         and s.next_due_at <= ${now}
       order by s.next_due_at, s.account_id
       limit ${options.limit}
       for update of s skip locked
    )
    update tiktok_sync.sync_schedule s
       set lease_owner = ${options.owner}, lease_expires_at = ${expires}, lease_epoch = s.lease_epoch + 1,
           claimed_at = ${now}, heartbeat_at = ${now}, claim_count = s.claim_count + 1, updated_at = ${now}
      from due, tiktok.accounts a
     where s.account_id = due.account_id and a.account_id = s.account_id
    returning s.account_id, a.name, s.lease_epoch::text as lease_epoch, s.slot_at, s.next_due_at, s.attempts,
              due.previous_owner
  `.execute(db);
  return result.rows.map((row) => ({
    accountId: String(row.account_id),
    accountName: row.name,
    epoch: row.lease_epoch,
    slotAt: row.slot_at,
    nextDueAt: row.next_due_at,
    attempts: row.attempts,
    takenOverFrom: row.previous_owner,
    claimedAt: now,
  }));
}

/**
 * Makes the account of a request TikTok says is ready (webhook `portability.download.ready`) due
 * now, unless it is backing off; whichever daemon claims first downloads it.
 */
export async function markRequestReady(
  db: Kysely<SchedulerDatabase>,
  requestId: string,
  now: number,
): Promise<void> {
  const at = new Date(now);
  await sql`
    update tiktok_sync.sync_schedule s
       set next_due_at = least(s.next_due_at, greatest(${at}::timestamptz, coalesce(s.backoff_until, ${at}))),
           updated_at = ${at}
      from tiktok_sync.data_requests d
     where d.request_id = ${requestId} and d.account_id = s.account_id and d.finished_at is null
  `.execute(db);
}

/** Extends a lease. False when it is no longer ours (expired and taken over): stop working on it. */
export async function extendLease(
  db: Kysely<SchedulerDatabase>,
  claim: Claim,
  options: { owner: string; now: number; leaseMs: number },
): Promise<boolean> {
  const result = await db
    .updateTable('tiktok_sync.sync_schedule')
    .set({
      lease_expires_at: new Date(options.now + options.leaseMs),
      heartbeat_at: new Date(options.now),
    })
    .where('account_id', '=', claim.accountId)
    .where('lease_owner', '=', options.owner)
    .where('lease_epoch', '=', claim.epoch)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Ends a claim and records how it went. False when the lease was lost meanwhile (nothing written). */
export async function releaseClaim(
  db: Kysely<SchedulerDatabase>,
  claim: Claim,
  release: Release,
  options: { owner: string; now: number },
): Promise<boolean> {
  const now = new Date(options.now);
  const result = await db
    .updateTable('tiktok_sync.sync_schedule')
    .set((eb) => ({
      lease_owner: null,
      lease_expires_at: null,
      next_due_at: new Date(release.nextDueAt),
      ...(release.slotAt === undefined ? {} : { slot_at: new Date(release.slotAt) }),
      ...(release.plannedInterval === undefined ? {} : { planned_interval: release.plannedInterval }),
      attempts: release.attempts,
      backoff_until: release.backoffUntil === null ? null : new Date(release.backoffUntil),
      last_outcome: release.outcome,
      last_outcome_at: now,
      updated_at: now,
      ...(release.success
        ? {
            last_success_at: now,
            last_success_run_id: release.success.runId,
            last_success_request_id: release.success.requestId,
            sync_count: eb('sync_count', '+', '1'),
          }
        : {}),
      ...(release.error
        ? {
            last_error_code: release.error.code,
            last_error_message: release.error.message,
            last_error_at: now,
          }
        : {}),
      ...(release.stop
        ? { stopped_at: now, stop_code: release.stop.code, stop_reason: release.stop.reason }
        : {}),
      ...(release.complete ? { complete: true, completed_at: now } : {}),
    }))
    .where('account_id', '=', claim.accountId)
    .where('lease_owner', '=', options.owner)
    .where('lease_epoch', '=', claim.epoch)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Lets go of claims without recording an outcome (shutdown); they stay due, so another daemon takes them at once. */
export async function dropClaims(
  db: Kysely<SchedulerDatabase>,
  claims: readonly Claim[],
  options: { owner: string; now: number },
): Promise<number> {
  let dropped = 0;
  for (const claim of claims) {
    const result = await db
      .updateTable('tiktok_sync.sync_schedule')
      .set({
        lease_owner: null,
        lease_expires_at: null,
        last_outcome: 'abandoned',
        last_outcome_at: new Date(options.now),
        updated_at: new Date(options.now),
      })
      .where('account_id', '=', claim.accountId)
      .where('lease_owner', '=', options.owner)
      .where('lease_epoch', '=', claim.epoch)
      .executeTakeFirst();
    dropped += Number(result.numUpdatedRows);
  }
  return dropped;
}

/** Clears terminal stops (all, or the named accounts) so the next tick tries those accounts again. */
export async function clearStops(
  db: Kysely<SchedulerDatabase>,
  options: { now: number; accounts?: readonly string[] },
): Promise<number> {
  const now = new Date(options.now);
  let query = db
    .updateTable('tiktok_sync.sync_schedule')
    .set({
      stopped_at: null,
      stop_code: null,
      stop_reason: null,
      attempts: 0,
      backoff_until: null,
      next_due_at: now,
      updated_at: now,
    })
    .where('stopped_at', 'is not', null);
  if (options.accounts && options.accounts.length > 0) {
    query = query.where('account_id', 'in', (eb) =>
      eb
        .selectFrom('tiktok.accounts')
        .select('account_id')
        .where('name', 'in', [...options.accounts!]),
    );
  }
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows);
}
