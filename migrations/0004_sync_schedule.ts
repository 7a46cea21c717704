import { type Kysely, sql } from 'kysely';

/**
 * The daemon's per-account schedule and claims. One row per connected account: when it is due,
 * which daemon holds it (a lease that heartbeats extend), and how its last attempts went. Daemons
 * claim due rows with `FOR UPDATE SKIP LOCKED`, so any number of them share the accounts and none
 * syncs an account another one holds. Keyed by `account_id` like every other table.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table tiktok_sync.sync_schedule (
      account_id bigint primary key references tiktok_sync.accounts (account_id),
      next_due_at timestamptz not null,
      slot_at timestamptz not null,
      paused boolean not null default false,
      complete boolean not null default false,
      completed_at timestamptz,
      stopped_at timestamptz,
      stop_code text,
      stop_reason text,
      lease_owner text,
      lease_epoch bigint not null default 0,
      lease_expires_at timestamptz,
      claimed_at timestamptz,
      heartbeat_at timestamptz,
      claim_count bigint not null default 0,
      attempts integer not null default 0,
      backoff_until timestamptz,
      last_outcome text,
      last_outcome_at timestamptz,
      last_success_at timestamptz,
      last_success_run_id bigint,
      last_success_request_id text,
      sync_count bigint not null default 0,
      last_error_code text,
      last_error_message text,
      last_error_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      check ((lease_owner is null) = (lease_expires_at is null)),
      check (attempts >= 0)
    );
    create index sync_schedule_due on tiktok_sync.sync_schedule (next_due_at)
      where not paused and not complete and stopped_at is null;
    comment on table tiktok_sync.sync_schedule is 'The sync daemon''s schedule: one row per connected account, with when it is due and which daemon holds it. A claim is a lease on the row; a daemon that dies loses its claims when their leases expire.';
    comment on column tiktok_sync.sync_schedule.account_id is 'The account (tiktok_sync.accounts.account_id).';
    comment on column tiktok_sync.sync_schedule.next_due_at is 'When a daemon should next work on the account: the next sync (interval plus jitter), the next Check of a request TikTok is preparing, or the end of a backoff.';
    comment on column tiktok_sync.sync_schedule.slot_at is 'The interval slot (before jitter) of the sync in progress or due; the next one is one interval later; after a catch-up sync (downtime), one interval after it: missed slots are not replayed.';
    comment on column tiktok_sync.sync_schedule.paused is 'Set from the config file (sync.accounts.<name>.paused); paused accounts are not claimed.';
    comment on column tiktok_sync.sync_schedule.complete is 'The grant has only .single scopes and its one export was imported: nothing more to sync until the user connects again.';
    comment on column tiktok_sync.sync_schedule.completed_at is 'When the account was marked complete.';
    comment on column tiktok_sync.sync_schedule.stopped_at is 'When a terminal failure (one that needs a human) stopped the account; cleared by a new grant or tiktok-sync run --retry-stopped.';
    comment on column tiktok_sync.sync_schedule.stop_code is 'Machine-readable reason of the stop.';
    comment on column tiktok_sync.sync_schedule.stop_reason is 'Why the account stopped and what to do, in words.';
    comment on column tiktok_sync.sync_schedule.lease_owner is 'The daemon holding the account (host:pid:random), or null.';
    comment on column tiktok_sync.sync_schedule.lease_epoch is 'Bumped at every claim; heartbeats and releases must quote it, so a daemon that lost its lease cannot write over its successor.';
    comment on column tiktok_sync.sync_schedule.lease_expires_at is 'When the claim lapses unless a heartbeat extends it; after that another daemon may take the account over.';
    comment on column tiktok_sync.sync_schedule.claimed_at is 'When the current or last claim was made.';
    comment on column tiktok_sync.sync_schedule.heartbeat_at is 'When the holder last extended its lease.';
    comment on column tiktok_sync.sync_schedule.claim_count is 'How many times the account was claimed.';
    comment on column tiktok_sync.sync_schedule.attempts is 'Consecutive transient failures; the backoff doubles with each. Reset by any success.';
    comment on column tiktok_sync.sync_schedule.backoff_until is 'After a transient failure, no attempt before this (honours Retry-After).';
    comment on column tiktok_sync.sync_schedule.last_outcome is 'How the last claim ended: imported, waiting, cancelled, retrying, stopped, needs_consent, complete, abandoned.';
    comment on column tiktok_sync.sync_schedule.last_outcome_at is 'When the last claim ended.';
    comment on column tiktok_sync.sync_schedule.last_success_at is 'When the last export was imported.';
    comment on column tiktok_sync.sync_schedule.last_success_run_id is 'The run that imported it (tiktok_sync.sync_runs.run_id).';
    comment on column tiktok_sync.sync_schedule.last_success_request_id is 'TikTok''s request id of that export.';
    comment on column tiktok_sync.sync_schedule.sync_count is 'Exports imported by the daemon for this account.';
    comment on column tiktok_sync.sync_schedule.last_error_code is 'Machine-readable reason of the last failure.';
    comment on column tiktok_sync.sync_schedule.last_error_message is 'What went wrong last and what to do.';
    comment on column tiktok_sync.sync_schedule.last_error_at is 'When the last failure happened.';
    comment on column tiktok_sync.sync_schedule.created_at is 'When the account entered the schedule.';
    comment on column tiktok_sync.sync_schedule.updated_at is 'When this row last changed.';
  `.execute(db);
}
