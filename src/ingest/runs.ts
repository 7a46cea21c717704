/**
 * What imports and reprocess runs share: the run record and its locks, the account lock, the account's
 * latest import, and the warning counters of a run.
 */
import { type Kysely, sql } from 'kysely';
import type pg from 'pg';
import { isConnectionLost } from '../db/connection-loss.js';
import type { Database, ExportTimeSource, WarningSummary } from '../db/schema.js';
import { coerceError, InterruptedError, PipelineError, TransientError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ArchiveInfo, WarningEvent } from '../parsers/records.js';

/** Warnings kept in the run record; the total is always counted. */
const MAX_WARNING_GROUPS = 200;
/** One lock space for "one writer per account"; the account id is the second key. */
const ACCOUNT_LOCK_SPACE = 0x7417;
/** Lock space of the session lock each run holds while its process lives; the run id is the second key. */
const RUN_LOCK_SPACE = 0x7418;

export type RunKind = 'import' | 'sync' | 'reprocess';

/** Takes the account's writer lock until the end of the transaction `client` is in. */
export async function lockAccount(client: pg.ClientBase, accountId: string): Promise<void> {
  await client.query('select pg_advisory_xact_lock($1, ($2::bigint % 2147483647)::integer)', [
    ACCOUNT_LOCK_SPACE,
    accountId,
  ]);
}

/** Releases the run's session lock (the run has an outcome recorded). */
export async function releaseRun(client: pg.ClientBase, runId: string): Promise<void> {
  await client.query('select pg_advisory_unlock($1, $2)', [RUN_LOCK_SPACE, runLockKey(runId)]);
}

/**
 * Records the run as `running` and, in the same statement, takes a session lock on it that lives as
 * long as this process's connection: a run whose lock can be taken by someone else belongs to a
 * process that stopped (killed, crashed) without recording an outcome.
 */
export async function startRun(
  client: pg.ClientBase,
  accountId: string,
  kind: RunKind,
  source: string,
  requestId: string | null,
): Promise<string> {
  const { rows } = await client.query<{ run_id: string }>(
    `insert into tiktok_sync.sync_runs (account_id, kind, source, request_id)
     values ($1, $2, $3, $4)
     returning run_id, pg_advisory_lock($5, (run_id % 2147483647)::integer)`,
    [accountId, kind, source, requestId, RUN_LOCK_SPACE],
  );
  return rows[0]!.run_id;
}

/**
 * Closes the `running` runs whose process is gone (their run lock is free): marked failed with
 * `abandoned`. Such a process was killed, crashed, or lost its database connection (its session, and
 * so its lock, ended with it). Its transaction either rolled back (nothing stored; the archive must
 * be imported again) or, when it stopped between the commit and the final update, committed: the
 * archive row then names the run, and the message says the data is stored.
 *
 * An import closes its account's runs when it starts (so an import that has nothing to merge closes
 * them too), again under the account lock, and once more after its commit: a backend whose client was
 * killed mid-statement ends its transaction (freeing the account lock) a moment before its session
 * (freeing the run lock), so the second look can still find the run held. Every command also closes
 * the runs of all accounts as it starts ({@link closeStoppedRuns}). `runId` is the run that looks
 * (left alone, and named in the message); without it, "a later command" is.
 */
export async function closeAbandonedRuns(
  client: pg.ClientBase,
  scope: { accountId?: string | undefined; runId?: string | undefined },
  log: Logger,
): Promise<number> {
  const { accountId, runId } = scope;
  const { rows } = await client.query<{ run_id: string }>(
    `select run_id from tiktok_sync.sync_runs
     where status = 'running' and ($1::bigint is null or account_id = $1) and ($2::bigint is null or run_id <> $2)`,
    [accountId ?? null, runId ?? null],
  );
  const by = runId === undefined ? 'a later command' : `run ${runId}`;
  let closedRuns = 0;
  for (const { run_id: stale } of rows) {
    const key = runLockKey(stale);
    const { rows: locked } = await client.query<{ free: boolean }>(
      'select pg_try_advisory_lock($1, $2) as free',
      [RUN_LOCK_SPACE, key],
    );
    if (!locked[0]?.free) continue; // its process is alive and still working
    try {
      const closed = await client.query(
        `update tiktok_sync.sync_runs r set
           status = 'failed',
           finished_at = now(),
           error_code = 'abandoned',
           archive_id = coalesce(r.archive_id, a.archive_id),
           error_message = case when a.archive_id is null
             then format('The process running this %s stopped at stage \`%s\` without recording an outcome (killed, crashed or cut off from the database; found by %s). Its transaction was rolled back, so nothing of it was stored: import the archive again (a sync resumes its request and does so by itself).', r.kind, r.stage, $2::text)
             else format('The process running this %s stopped after its archive was committed, before recording the outcome (killed, crashed or cut off from the database; found by %s). The data is stored; only this run''s counts and timings were lost.', r.kind, $2::text)
           end
         from (select null) dummy
         left join tiktok_sync.archives a on a.first_run_id = $1
         where r.run_id = $1 and r.status = 'running'`,
        [stale, by],
      );
      if (closed.rowCount) {
        closedRuns += 1;
        log.warn({ abandonedRun: stale }, 'closed the run of a process that stopped');
      }
    } finally {
      await client.query('select pg_advisory_unlock($1, $2)', [RUN_LOCK_SPACE, key]);
    }
  }
  return closedRuns;
}

/**
 * Closes the runs of every account whose process is gone ({@link closeAbandonedRuns}). Each command
 * does this once connected, so a run whose process could not record its outcome (killed, or cut off
 * from the database) is closed by the next command of any kind, not only by the next import of its
 * account. Runs of live processes hold their lock and are left alone. Costs one indexed query when
 * no run is `running`.
 */
export async function closeStoppedRuns(pool: pg.Pool, log: Logger): Promise<number> {
  const client = await pool.connect();
  try {
    return await closeAbandonedRuns(client, {}, log);
  } finally {
    client.release();
  }
}

function runLockKey(runId: string): number {
  return Number(BigInt(runId) % 2147483647n);
}

/** The archive of the account's latest successful run, if any. */
export async function latestImport(client: pg.ClientBase, accountId: string) {
  const { rows } = await client.query<{
    run_id: string;
    archive_id: string;
    sha256: Buffer;
    format: ArchiveInfo['format'];
    era: string;
    record_count: string;
    exported_at: Date;
    exported_at_source: ExportTimeSource;
  }>(
    `select r.run_id, a.archive_id, a.sha256, a.format, a.era, a.record_count, a.exported_at, a.exported_at_source
     from tiktok_sync.sync_runs r
     join tiktok_sync.archives a on a.account_id = r.account_id and a.archive_id = r.archive_id
     where r.account_id = $1 and r.status = 'succeeded'
     order by r.run_id desc limit 1`,
    [accountId],
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    runId: row.run_id,
    archiveId: row.archive_id,
    sha256: row.sha256.toString('hex'),
    info: { format: row.format, era: row.era },
    records: Number(row.record_count),
    exportedAt: row.exported_at,
    exportedAtSource: row.exported_at_source,
  };
}

/** Groups warnings by code, path and field (one counter per section and field), keeping the first message of each group. */
export class WarningCollector {
  readonly #groups = new Map<string, WarningSummary>();
  total = 0;

  add(event: WarningEvent): void {
    this.total += 1;
    const key = `${event.code}\u0001${event.path}\u0001${event.field ?? ''}`;
    const group = this.#groups.get(key);
    if (group) group.count += 1;
    else if (this.#groups.size < MAX_WARNING_GROUPS) {
      this.#groups.set(key, {
        code: event.code,
        path: event.path,
        ...(event.field !== undefined && event.field !== '' ? { field: event.field } : {}),
        message: event.message,
        count: 1,
      });
    }
  }

  summary(): WarningSummary[] {
    return [...this.#groups.values()].sort((a, b) => b.count - a.count);
  }
}

/** How long a failed run's record is tried again while the database is unreachable (a restart). */
const RECORD_RETRY_MS = 2_000;

/**
 * Records a run as failed, with where it stopped and why, on a connection of its own (the run's may
 * be gone). With `ifStored`, the message when the run's archive turns out to be committed (a
 * connection lost during the commit): the run then gets its `archive_id`. While the database is
 * unreachable it is tried again for {@link RECORD_RETRY_MS}; a failure to record it is only logged
 * (the run is then closed by the next command, see {@link closeStoppedRuns}). True when recorded.
 */
export async function recordFailedRun(
  db: Kysely<Database>,
  runId: string,
  failure: {
    stage?: string;
    timings: Record<string, number | undefined>;
    warnings: WarningCollector;
    error: Error;
    ifStored?: string | undefined;
  },
  log: Logger,
): Promise<boolean> {
  const { error, warnings } = failure;
  const stored = sql<
    string | null
  >`(select archive_id from tiktok_sync.archives a where a.first_run_id = ${runId}::bigint)`;
  const record = () =>
    db
      .updateTable('tiktok_sync.sync_runs')
      .set({
        status: 'failed',
        ...(failure.stage === undefined ? {} : { stage: failure.stage }),
        finished_at: sql<Date>`now()`,
        stage_timings: JSON.stringify(failure.timings),
        warnings: JSON.stringify(warnings.summary()),
        warning_count: warnings.total,
        error_code: error instanceof PipelineError ? error.code : 'unexpected',
        ...(failure.ifStored === undefined
          ? { error_message: error.message }
          : {
              archive_id: sql<string>`coalesce(archive_id, ${stored})`,
              error_message: sql<string>`case when ${stored} is null then ${error.message}::text else ${failure.ifStored}::text end`,
            }),
      })
      .where('run_id', '=', runId)
      .execute();
  const deadline = performance.now() + RECORD_RETRY_MS;
  for (;;) {
    try {
      await record();
      return true;
    } catch (recordError) {
      if (isConnectionLost(recordError) && performance.now() < deadline) {
        await delay(250);
        continue;
      }
      if (isConnectionLost(recordError)) {
        log.warn({ err: recordError }, 'the database is out of reach: the next command closes the run');
      } else log.error({ err: recordError }, 'could not record the failed run');
      return false;
    }
  }
}

/** Where a run stood with its commit when it failed. */
export type CommitState = 'before' | 'during' | 'after';

/**
 * What a run that failed is recorded and reported with. A lost database connection and an
 * interruption (`signal` aborted) become one sentence that says where the run stopped, whether
 * anything of it was stored, and what to do; `ifStored` is the sentence to record when the archive
 * turns out to be committed (see {@link recordFailedRun}). Any other failure is returned as it is.
 */
export function runFailure(
  thrown: unknown,
  at: { stage: string; runId: string; commit: CommitState; signal?: AbortSignal | undefined },
): { error: Error; ifStored?: string | undefined } {
  const error = coerceError(thrown);
  const where = `during stage \`${at.stage}\` of run ${at.runId}`;
  const stored = `The database connection was lost ${where}, after its data was committed; the data is stored, only this run's counts and timings were lost.`;
  if (at.signal?.aborted && at.commit === 'before') {
    const reason = at.signal.reason;
    const by =
      reason instanceof InterruptedError
        ? `Interrupted by ${reason.by}`
        : `Stopped (${coerceError(reason).message.replace(/\.$/, '')})`;
    return {
      error: new InterruptedError(
        reason instanceof InterruptedError ? reason.by : 'a stop request',
        `${by} ${where}; nothing of this run was stored; run it again.`,
      ),
    };
  }
  if (!isConnectionLost(error)) return { error };
  const lost = (message: string) =>
    new TransientError('database_connection_lost', message, {
      cause: error,
      details: { stage: at.stage, runId: at.runId },
    });
  switch (at.commit) {
    case 'before':
      return {
        error: lost(
          `The database connection was lost ${where}; nothing of this run was stored; run it again.`,
        ),
      };
    case 'during':
      return {
        error: lost(
          `The database connection was lost ${where}, while its data was being committed; \`tiktok-sync status\` tells whether it was stored, and running it again is safe either way.`,
        ),
        ifStored: stored,
      };
    case 'after':
      return { error: lost(stored), ifStored: stored };
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
