import { type Kysely, type RawBuilder, sql } from 'kysely';
import { forgottenCounts } from '../db/forgotten.js';
import type { TableCounts } from '../db/schema.js';
import { REMOVAL_GUARD_CODE } from '../ingest/removal-guard.js';
import { formatTable } from '../table.js';
import type { TikTokDatabase } from '../tiktok/db-types.js';

/** Where an account stands, as `tiktok-sync status` shows it. */
export type SyncState =
  | 'active'
  | 'waiting'
  | 'downloading'
  | 'importing'
  | 'retrying'
  | 'needs_consent'
  | 'paused'
  | 'needs_attention'
  | 'stopped'
  | 'complete'
  | 'not_connected';

export const STATE_LABELS: Record<SyncState, string> = {
  active: 'active',
  waiting: 'waiting for TikTok',
  downloading: 'downloading',
  importing: 'importing',
  retrying: 'retrying',
  needs_consent: 'needs consent',
  paused: 'paused',
  needs_attention: 'needs attention',
  stopped: 'stopped',
  complete: 'complete',
  not_connected: 'not connected',
};

export interface AccountSyncStatus {
  account: string;
  accountId: string;
  state: SyncState;
  /** Why the account needs consent or stopped, in words. */
  reason: string | null;
  /** The daemon working on it now, if any. */
  heldBy: string | null;
  leaseExpiresAt: Date | null;
  lastSuccessAt: Date | null;
  lastRunId: string | null;
  /** Rows the last successful sync changed, summed over tables. */
  lastCounts: TableCounts | null;
  syncCount: number;
  nextDueAt: Date | null;
  inFlight: {
    requestId: string;
    status: string;
    remoteStatus: string | null;
    addedAt: Date;
    ageMs: number;
  } | null;
  attempts: number;
  backoffUntil: Date | null;
  lastError: { code: string; message: string; at: Date | null } | null;
}

/** The state of each account as one SQL expression, shared by the status rows and the metrics gauge. */
function stateExpression(now: Date): RawBuilder<SyncState> {
  return sql<SyncState>`case
    when c.account_id is null then 'not_connected'
    when s.paused then 'paused'
    when c.status <> 'active' then 'needs_consent'
    when s.complete then 'complete'
    when s.stopped_at is not null and s.stop_code = ${REMOVAL_GUARD_CODE} then 'needs_attention'
    when s.stopped_at is not null then 'stopped'
    when d.status = 'pending' then 'waiting'
    when d.status = 'ready' then 'downloading'
    when d.status = 'downloaded' then 'importing'
    when s.backoff_until > ${now} then 'retrying'
    else 'active' end`;
}

/**
 * Per account: state, last successful sync and its counts, next due time, the request in flight and
 * its age, the daemon holding it, and the last error. `now` is the clock's time (ages and retries).
 */
export async function accountSyncStatus(
  db: Kysely<TikTokDatabase>,
  options: { now: number; account?: string | undefined },
): Promise<AccountSyncStatus[]> {
  const now = new Date(options.now);
  const result = await sql<{
    account_id: string;
    name: string;
    state: SyncState;
    grant_reason: string | null;
    stop_reason: string | null;
    lease_owner: string | null;
    lease_expires_at: Date | null;
    last_success_at: Date | null;
    last_success_run_id: string | null;
    counts: Record<string, TableCounts> | null;
    sync_count: string | null;
    next_due_at: Date | null;
    request_id: string | null;
    request_status: string | null;
    remote_status: string | null;
    added_at: Date | null;
    attempts: number | null;
    backoff_until: Date | null;
    last_error_code: string | null;
    last_error_message: string | null;
    last_error_at: Date | null;
  }>`
    select a.account_id, a.name, ${stateExpression(now)} as state,
           c.status_reason as grant_reason, s.stop_reason, s.lease_owner, s.lease_expires_at,
           r.finished_at as last_success_at, r.run_id as last_success_run_id, r.counts, s.sync_count, s.next_due_at,
           d.request_id, d.status as request_status, d.remote_status, d.added_at,
           s.attempts, s.backoff_until, s.last_error_code, s.last_error_message, s.last_error_at
      from tiktok.accounts a
      left join tiktok_sync.credentials c on c.account_id = a.account_id
      left join tiktok_sync.sync_schedule s on s.account_id = a.account_id
      left join tiktok_sync.data_requests d on d.account_id = a.account_id and d.finished_at is null
      -- The last success is the account's latest successful import or sync, however it ran (daemon,
      -- sync --once, import): the run records are the one source of it.
      left join lateral (
        select r.run_id, r.finished_at, r.counts from tiktok_sync.sync_runs r
         where r.account_id = a.account_id and r.status = 'succeeded' and r.kind in ('import', 'sync')
         order by r.run_id desc limit 1
      ) r on true
     where (${options.account ?? null}::text is null or a.name = ${options.account ?? null})
     order by a.name
  `.execute(db);
  return result.rows.map((row) => ({
    account: row.name,
    accountId: String(row.account_id),
    state: row.state,
    reason:
      row.state === 'needs_consent'
        ? row.grant_reason
        : row.state === 'stopped' || row.state === 'needs_attention'
          ? row.stop_reason
          : null,
    heldBy: row.lease_expires_at && row.lease_expires_at > now ? row.lease_owner : null,
    leaseExpiresAt: row.lease_expires_at,
    lastSuccessAt: row.last_success_at,
    lastRunId: row.last_success_run_id === null ? null : String(row.last_success_run_id),
    lastCounts: row.counts ? sumCounts(row.counts) : null,
    syncCount: Number(row.sync_count ?? 0),
    nextDueAt: row.state === 'not_connected' ? null : row.next_due_at,
    inFlight:
      row.request_id && row.added_at
        ? {
            requestId: row.request_id,
            status: row.request_status ?? 'pending',
            remoteStatus: row.remote_status,
            addedAt: row.added_at,
            ageMs: Math.max(0, options.now - row.added_at.getTime()),
          }
        : null,
    attempts: row.attempts ?? 0,
    backoffUntil: row.backoff_until,
    lastError: row.last_error_code
      ? { code: row.last_error_code, message: row.last_error_message ?? '', at: row.last_error_at }
      : null,
  }));
}

/**
 * Accounts by state, in-flight requests by status, and each account's latest success, for the
 * metrics gauges. A reprocess is not a success here: it brings no new data from TikTok.
 */
export async function syncGauges(
  db: Kysely<TikTokDatabase>,
  now: number,
): Promise<{
  accounts: Record<string, number>;
  inFlight: Record<string, number>;
  lastSuccess: Record<string, number>;
  forgotten: Record<string, number>;
}> {
  const states = await sql<{ state: string; n: number }>`
    select ${stateExpression(new Date(now))} as state, count(*)::int as n
      from tiktok_sync.sync_schedule s
      join tiktok.accounts a on a.account_id = s.account_id
      left join tiktok_sync.credentials c on c.account_id = s.account_id
      left join tiktok_sync.data_requests d on d.account_id = s.account_id and d.finished_at is null
     group by 1
  `.execute(db);
  const requests = await sql<{ status: string; n: number }>`
    select status, count(*)::int as n from tiktok_sync.data_requests where finished_at is null group by 1
  `.execute(db);
  const successes = await sql<{ name: string; at: number | null }>`
    select a.name, extract(epoch from max(r.finished_at))::float8 as at
      from tiktok.accounts a
      left join tiktok_sync.sync_runs r
        on r.account_id = a.account_id and r.status = 'succeeded' and r.kind in ('import', 'sync')
     group by a.name
  `.execute(db);
  return {
    accounts: Object.fromEntries(states.rows.map((row) => [row.state, row.n])),
    inFlight: Object.fromEntries(requests.rows.map((row) => [row.status, row.n])),
    lastSuccess: Object.fromEntries(successes.rows.map((row) => [row.name, row.at ?? 0])),
    forgotten: await forgottenCounts(db),
  };
}

/** How accounts were connected: by their grant's `connected_via`, and `none` for accounts without a grant. */
export async function accountsByConnection(
  db: Kysely<TikTokDatabase>,
): Promise<Record<'connect' | 'invite' | 'none', number>> {
  const rows = await sql<{ via: 'connect' | 'invite' | 'none'; n: number }>`
    select coalesce(c.connected_via, 'none') as via, count(*)::int as n
      from tiktok.accounts a left join tiktok_sync.credentials c on c.account_id = a.account_id
     group by 1
  `.execute(db);
  const counts = { connect: 0, invite: 0, none: 0 };
  for (const row of rows.rows) counts[row.via] = row.n;
  return counts;
}

/** A table for people: one line per account, then the reasons and errors below it. */
export function formatAccountSyncStatus(rows: readonly AccountSyncStatus[], now: number): string {
  if (rows.length === 0) return 'No accounts yet: `tiktok-sync connect --account <name>` adds one.';
  const header = ['account', 'state', 'last success', 'changed', 'next due', 'request', 'age', 'held by'];
  const body = rows.map((row) => [
    row.account,
    STATE_LABELS[row.state],
    row.lastSuccessAt ? iso(row.lastSuccessAt) : 'never',
    row.lastCounts ? `+${row.lastCounts.inserted} ~${row.lastCounts.updated} -${row.lastCounts.removed}` : '',
    row.nextDueAt &&
    !['paused', 'needs_consent', 'needs_attention', 'stopped', 'complete'].includes(row.state)
      ? relative(row.nextDueAt.getTime() - now)
      : '',
    row.inFlight ? `${row.inFlight.requestId} (${row.inFlight.status})` : '',
    row.inFlight ? duration(row.inFlight.ageMs) : '',
    row.heldBy ?? '',
  ]);
  const lines = [formatTable(header, body)];
  const notes = rows.flatMap((row) => {
    const out: string[] = [];
    if (row.reason) out.push(`${row.account}: ${STATE_LABELS[row.state]}: ${row.reason}`);
    if (row.lastError && !['needs_consent', 'needs_attention', 'stopped'].includes(row.state)) {
      const when = row.lastError.at ? ` at ${iso(row.lastError.at)}` : '';
      const retry =
        row.state === 'retrying' && row.backoffUntil
          ? ` (attempt ${row.attempts}, next try ${relative(row.backoffUntil.getTime() - now)})`
          : '';
      out.push(`${row.account}: last error${when} [${row.lastError.code}]: ${row.lastError.message}${retry}`);
    }
    return out;
  });
  return notes.length > 0 ? [...lines, '', ...notes].join('\n') : lines.join('\n');
}

function sumCounts(counts: Record<string, TableCounts>): TableCounts {
  const total = { inserted: 0, updated: 0, unchanged: 0, removed: 0, restored: 0 };
  for (const c of Object.values(counts)) {
    total.inserted += c.inserted ?? 0;
    total.updated += c.updated ?? 0;
    total.unchanged += c.unchanged ?? 0;
    total.removed += c.removed ?? 0;
    total.restored += c.restored ?? 0;
  }
  return total;
}

const iso = (date: Date) => `${date.toISOString().slice(0, 16)}Z`;

function duration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h${String(minutes % 60).padStart(2, '0')}m`;
  return `${Math.floor(hours / 24)}d${hours % 24}h`;
}

function relative(ms: number): string {
  return ms <= 0 ? 'now' : `in ${duration(ms)}`;
}
