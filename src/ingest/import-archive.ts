import path from 'node:path';
import { sql } from 'kysely';
import type pg from 'pg';
import { ensureAccount } from '../db/accounts.js';
import type { DatabaseHandle } from '../db/connect.js';
import type { TableCounts, WarningSummary } from '../db/schema.js';
import { coerceError, PipelineError, StageFailedError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ArchiveInfo, TableName, WarningEvent } from '../parsers/records.js';
import { type ArchiveLimits, openArchive } from './archive.js';
import { archiveIdentity, archiveSource } from './archive-source.js';
import { mergeAll } from './merge.js';
import { quarantineArchive } from './quarantine.js';
import { Stager } from './stage.js';
import { TABLE_SPECS } from './tables.js';

export interface ImportContext {
  readonly database: DatabaseHandle;
  readonly logger: Logger;
  readonly limits: ArchiveLimits;
  readonly signal?: AbortSignal | undefined;
  /** The archive reader; the zip reader by default. Tests may pass another source of parse events. */
  readonly open?: typeof openArchive;
  /** Where an archive that cannot be imported is put aside (see quarantine.ts); none: left in place. */
  readonly quarantineDir?: string | undefined;
}

export interface ImportOptions {
  accountName: string;
  /** The export: a zip, an unzipped export folder, or a `.json` or `.txt` file (see archive-source.ts). */
  zipPath: string;
  kind?: 'import' | 'sync';
  /** Where the archive came from, for the run and archive records; defaults to the file path. */
  source?: string;
  /** TikTok's data request id, for syncs through the API. */
  requestId?: string;
  /** Archive bytes read so far, for a progress bar. */
  onProgress?: (doneBytes: number, totalBytes: number) => void;
  /** Merge even when this exact archive is the account's latest import (see {@link importArchive}). */
  force?: boolean;
}

export interface ImportResult {
  accountId: string;
  runId: string;
  archiveId: string;
  /** False when this exact archive (same SHA-256, or a folder's same content) had been imported before. */
  newArchive: boolean;
  /**
   * True when the archive was the account's latest successful import already, so nothing was read
   * or written (the run record says so); `counts` is then empty.
   */
  skipped: boolean;
  sha256: string;
  info: ArchiveInfo;
  records: number;
  counts: Record<string, TableCounts>;
  warnings: WarningSummary[];
  warningCount: number;
  stageTimings: Record<string, number>;
}

/** Warnings kept in the run record; the total is always counted. */
const MAX_WARNING_GROUPS = 200;
/** One lock space for "one writer per account"; the account id is the second key. */
const ACCOUNT_LOCK_SPACE = 0x7417;
/** Lock space of the session lock each run holds while its process lives; the run id is the second key. */
const RUN_LOCK_SPACE = 0x7418;

/**
 * Imports one export archive: open → hash → parse + stage (COPY) → merge → finish, all of the
 * archive's data in one transaction (all or nothing). The run record is written outside that
 * transaction, so a failed import still says where and why it stopped.
 */
export async function importArchive(context: ImportContext, options: ImportOptions): Promise<ImportResult> {
  const { database, logger } = context;
  const { db, pool } = database;
  const accountId = await ensureAccount(db, options.accountName);
  const source = options.source ?? path.resolve(options.zipPath);
  const client = await pool.connect();
  let runId: string;
  try {
    runId = await startRun(client, accountId, options.kind ?? 'import', source, options.requestId ?? null);
  } catch (error) {
    client.release();
    throw error;
  }
  const log = logger.child({ account: options.accountName, run: runId });
  // Again under the account lock below: a killed process's backend may still be finishing a statement.
  await closeAbandonedRuns(client, accountId, runId, log).catch((error) =>
    log.warn({ err: error }, 'could not close the runs of stopped processes'),
  );
  const timings: Record<string, number> = {};
  let stage = 'open';

  const enter = async (next: string) => {
    stage = next;
    await db.updateTable('tiktok_sync.sync_runs').set({ stage: next }).where('run_id', '=', runId).execute();
  };
  const timed = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    await enter(name);
    const started = performance.now();
    try {
      return await work();
    } finally {
      timings[name] = Math.round(performance.now() - started);
    }
  };

  const warnings = new WarningCollector();
  try {
    const input = await archiveSource(options.zipPath);
    const { sha256, sizeBytes: size } = await timed('hash', () =>
      archiveIdentity(input, context.limits, context.signal),
    );
    const latest = options.force ? undefined : await latestImport(client, accountId);
    if (latest && latest.sha256 === sha256) {
      // The same bytes as the account's latest successful import: merging them again cannot change
      // anything (an older archive, by contrast, is merged: it may bring back removed records).
      await enter('finish');
      await db
        .updateTable('tiktok_sync.sync_runs')
        .set({
          status: 'succeeded',
          archive_id: latest.archiveId,
          finished_at: sql<Date>`now()`,
          stage_timings: JSON.stringify(timings),
        })
        .where('run_id', '=', runId)
        .execute();
      log.info(
        { archiveId: latest.archiveId, sameAsRun: latest.runId },
        'archive already imported; nothing to do',
      );
      return {
        accountId,
        runId,
        archiveId: latest.archiveId,
        newArchive: false,
        skipped: true,
        sha256,
        info: latest.info,
        records: latest.records,
        counts: {},
        warnings: [],
        warningCount: 0,
        stageTimings: timings,
      };
    }
    const archive = await timed('open', () =>
      (context.open ?? openArchive)(options.zipPath, {
        limits: context.limits,
        signal: context.signal,
        onProgress: options.onProgress,
      }),
    );

    let records = 0;
    const present = new Map<TableName, Set<string>>();
    const stager = new Stager(client);
    await client.query('begin');
    await client.query('select pg_advisory_xact_lock($1, ($2::bigint % 2147483647)::integer)', [
      ACCOUNT_LOCK_SPACE,
      accountId,
    ]);
    await client.query("set local timezone = 'UTC'");
    // Under the account lock: a killed process's transaction has ended by now, so its run is free.
    await closeAbandonedRuns(client, accountId, runId, log);
    await stager.createTables();

    try {
      await timed('parse', async () => {
        for await (const event of archive.events()) {
          switch (event.kind) {
            case 'record':
              records += 1;
              if (stager.add(TABLE_SPECS[event.table], event.part, event.row)) await stager.drain();
              break;
            case 'section': {
              const parts = present.get(event.table) ?? new Set<string>();
              parts.add(event.part);
              present.set(event.table, parts);
              break;
            }
            case 'raw':
              if (stager.addRaw(event.path, event.json)) await stager.drain();
              break;
            case 'warning':
              warnings.add(event);
              break;
            case 'refused':
              if (stager.addRefused(event.table, event.path, event.json, event.reason)) await stager.drain();
              break;
          }
        }
        await stager.flush();
      });
    } finally {
      await archive.close();
    }

    const info = archive.info;
    const { archiveId, newArchive } = await timed('register', async () => {
      const inserted = await client.query<{ archive_id: string }>(
        `insert into tiktok_sync.archives
           (account_id, sha256, size_bytes, source, file_name, format, era, member_count, record_count, first_run_id)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         on conflict (account_id, sha256) do nothing
         returning archive_id`,
        [
          accountId,
          Buffer.from(sha256, 'hex'),
          size,
          source,
          input.name,
          info.format,
          info.era,
          archive.members.length,
          records,
          runId,
        ],
      );
      if (inserted.rows[0]) return { archiveId: inserted.rows[0].archive_id, newArchive: true };
      const found = await client.query<{ archive_id: string }>(
        'select archive_id from tiktok_sync.archives where account_id = $1 and sha256 = $2',
        [accountId, Buffer.from(sha256, 'hex')],
      );
      return { archiveId: found.rows[0]!.archive_id, newArchive: false };
    });

    const counts = await timed('merge', () =>
      mergeAll(client, stager.staged, { accountId, runId, archiveId, present }),
    );
    await timed('commit', () => client.query('commit'));

    const summary = warnings.summary();
    await enter('finish');
    await db
      .updateTable('tiktok_sync.sync_runs')
      .set({
        status: 'succeeded',
        stage: 'finish',
        archive_id: archiveId,
        finished_at: sql<Date>`now()`,
        stage_timings: JSON.stringify(timings),
        counts: JSON.stringify(counts),
        warnings: JSON.stringify(summary),
        warning_count: warnings.total,
      })
      .where('run_id', '=', runId)
      .execute();
    log.info({ archiveId, records, era: info.era, format: info.format, timings }, 'archive imported');
    return {
      accountId,
      runId,
      archiveId,
      newArchive,
      skipped: false,
      sha256,
      info,
      records,
      counts,
      warnings: summary,
      warningCount: warnings.total,
      stageTimings: timings,
    };
  } catch (thrown) {
    await client.query('rollback').catch(() => {});
    const error = coerceError(thrown);
    const failure = new StageFailedError(stage, runId, error);
    await db
      .updateTable('tiktok_sync.sync_runs')
      .set({
        status: 'failed',
        finished_at: sql<Date>`now()`,
        stage_timings: JSON.stringify(timings),
        warnings: JSON.stringify(warnings.summary()),
        warning_count: warnings.total,
        error_code: error instanceof PipelineError ? error.code : 'unexpected',
        error_message: error.message,
      })
      .where('run_id', '=', runId)
      .execute()
      .catch((recordError) => log.error({ err: recordError }, 'could not record the failed run'));
    log.warn({ stage, code: failure.code, err: error }, 'import failed');
    await quarantineArchive(context, {
      runId,
      accountName: options.accountName,
      kind: options.kind ?? 'import',
      zipPath: options.zipPath,
      source,
      stage,
      error,
    });
    throw failure;
  } finally {
    await client
      .query('select pg_advisory_unlock($1, $2)', [RUN_LOCK_SPACE, runLockKey(runId)])
      .catch(() => {});
    client.release();
  }
}

/**
 * Records the run as `running` and, in the same statement, takes a session lock on it that lives as
 * long as this process's connection: a run whose lock can be taken by someone else belongs to a
 * process that stopped (killed, crashed) without recording an outcome.
 */
async function startRun(
  client: pg.PoolClient,
  accountId: string,
  kind: 'import' | 'sync',
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
 * Closes the account's `running` runs whose process is gone (their run lock is free): marked failed
 * with `abandoned`. Their transaction either rolled back (nothing stored; the archive must be imported
 * again) or, when the process stopped between the commit and the final update, committed: the archive
 * row then names the run, and the message says the data is stored. Called when the run starts (so
 * an import that has nothing to merge closes them too) and again under the account lock, by which
 * time the transaction of a process killed mid-statement has ended.
 */
async function closeAbandonedRuns(
  client: pg.PoolClient,
  accountId: string,
  runId: string,
  log: Logger,
): Promise<void> {
  const { rows } = await client.query<{ run_id: string }>(
    "select run_id from tiktok_sync.sync_runs where account_id = $1 and status = 'running' and run_id <> $2",
    [accountId, runId],
  );
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
             then format('The process running this %s stopped at stage \`%s\` without recording an outcome (killed or crashed; found by run %s). Its transaction was rolled back, so nothing of it was stored: import the archive again (a sync resumes its request and does so by itself).', r.kind, r.stage, $2::text)
             else format('The process running this %s stopped after its archive was committed, before recording the outcome (killed or crashed; found by run %s). The data is stored; only this run''s counts and timings were lost.', r.kind, $2::text)
           end
         from (select null) dummy
         left join tiktok_sync.archives a on a.first_run_id = $1
         where r.run_id = $1 and r.status = 'running'`,
        [stale, runId],
      );
      if (closed.rowCount) log.warn({ abandonedRun: stale }, 'closed the run of a process that stopped');
    } finally {
      await client.query('select pg_advisory_unlock($1, $2)', [RUN_LOCK_SPACE, key]);
    }
  }
}

function runLockKey(runId: string): number {
  return Number(BigInt(runId) % 2147483647n);
}

/** The archive of the account's latest successful run, if any. */
async function latestImport(client: pg.PoolClient, accountId: string) {
  const { rows } = await client.query<{
    run_id: string;
    archive_id: string;
    sha256: Buffer;
    format: ArchiveInfo['format'];
    era: string;
    record_count: string;
  }>(
    `select r.run_id, a.archive_id, a.sha256, a.format, a.era, a.record_count
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
  };
}

/** Groups warnings by code, path and field (one counter per section and field), keeping the first message of each group. */
class WarningCollector {
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
