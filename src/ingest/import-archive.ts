import path from 'node:path';
import { sql, type Updateable } from 'kysely';
import type pg from 'pg';
import type { KeptArchivesConfig } from '../config.js';
import { ensureAccount } from '../db/accounts.js';
import type { DatabaseHandle } from '../db/connect.js';
import type { SyncRunsTable, TableCounts, WarningSummary } from '../db/schema.js';
import { coerceError, StageFailedError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ArchiveInfo } from '../parsers/records.js';
import { type ImportStage, StageRunner, type StageTimings } from '../sync/stages.js';
import { type ArchiveLimits, openArchive } from './archive.js';
import { archiveIdentity, archiveSource } from './archive-source.js';
import { type KeepRequest, type KeptArchive, keepArchive } from './kept-archives.js';
import { mergeAll, reconcileAll } from './merge.js';
import { quarantineArchive } from './quarantine.js';
import {
  closeAbandonedRuns,
  latestImport,
  lockAccount,
  recordFailedRun,
  releaseRun,
  startRun,
  WarningCollector,
} from './runs.js';
import { type StagedArchive, Stager, stageEvents } from './stage.js';

export interface ImportContext {
  readonly database: DatabaseHandle;
  readonly logger: Logger;
  readonly limits: ArchiveLimits;
  readonly signal?: AbortSignal | undefined;
  /** The archive reader; the zip reader by default. Tests may pass another source of parse events. */
  readonly open?: typeof openArchive;
  /** Where an archive that cannot be imported is put aside (see quarantine.ts); none: left in place. */
  readonly quarantineDir?: string | undefined;
  /** Which imported archives are kept for reprocess (see kept-archives.ts); none: not kept. */
  readonly kept?: KeptArchivesConfig | undefined;
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
  stageTimings: StageTimings;
  /** The copy kept for reprocess, when the policy keeps one. */
  kept?: KeptArchive | undefined;
}

/**
 * Imports one export: the sync pipeline (src/sync/run-sync.ts) entered at `unpack`, for an export
 * already on disk (a downloaded zip, or what `tiktok-sync import` was given).
 *
 *   unpack → parse (+ stage, COPY) → merge → reconcile → record
 *
 * All of the archive's data goes in one transaction (all or nothing). The run record is written
 * outside that transaction, so a failed import still says where and why it stopped.
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
  const stages = new StageRunner<ImportStage>(undefined, async (stage) => {
    await db.updateTable('tiktok_sync.sync_runs').set({ stage }).where('run_id', '=', runId).execute();
  });
  const warnings = new WarningCollector();
  const finish = (set: Omit<Updateable<SyncRunsTable>, 'status' | 'finished_at' | 'stage_timings'>) =>
    db
      .updateTable('tiktok_sync.sync_runs')
      .set({
        ...set,
        status: 'succeeded',
        finished_at: sql<Date>`now()`,
        stage_timings: JSON.stringify(stages.timings),
      })
      .where('run_id', '=', runId)
      .execute();

  try {
    // unpack: what the export is, whether it is the one imported last, and its members.
    const input = await archiveSource(options.zipPath);
    const { sha256, sizeBytes } = await stages.run('unpack', () =>
      archiveIdentity(input, context.limits, context.signal),
    );
    const latest = options.force ? undefined : await latestImport(client, accountId);
    if (latest && latest.sha256 === sha256) {
      // The same bytes as the account's latest successful import: merging them again cannot change
      // anything (an older archive, by contrast, is merged: it may bring back removed records).
      await stages.run('record', () => finish({ archive_id: latest.archiveId }));
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
        stageTimings: stages.timings,
        kept: await keep(
          context,
          client,
          { accountId, archiveId: latest.archiveId, sha256, inputPath: options.zipPath },
          log,
        ),
      };
    }
    const archive = await stages.run('unpack', () =>
      (context.open ?? openArchive)(options.zipPath, {
        limits: context.limits,
        signal: context.signal,
        onProgress: options.onProgress,
      }),
    );

    const stager = new Stager(client);
    await client.query('begin');
    await lockAccount(client, accountId);
    await client.query("set local timezone = 'UTC'");
    // Under the account lock: a killed process's transaction has ended by now, so its run is free.
    await closeAbandonedRuns(client, accountId, runId, log);
    await stager.createTables();

    // parse: every member through the parsers into the staging tables.
    let staged: StagedArchive;
    try {
      staged = await stages.run('parse', () => stageEvents(stager, archive.events(), warnings));
    } finally {
      await archive.close();
    }
    const { records, present } = staged;
    const info = archive.info;

    // merge: the archive's row, then new and changed records.
    const { archiveId, newArchive, counts } = await stages.run('merge', async () => {
      const registered = await registerArchive(client, {
        accountId,
        runId,
        sha256,
        sizeBytes,
        source,
        fileName: input.name,
        info,
        members: archive.members.length,
        records,
      });
      const merged = await mergeAll(client, stager.staged, {
        accountId,
        runId,
        archiveId: registered.archiveId,
        present,
      });
      return { ...registered, counts: merged };
    });
    const mergeContext = { accountId, runId, archiveId, present };

    // reconcile: what left the export is marked removed.
    await stages.run('reconcile', () => reconcileAll(client, mergeContext, counts));

    // record: commit, then the run's outcome.
    const summary = warnings.summary();
    await stages.run('record', async () => {
      await client.query('commit');
      await finish({
        archive_id: archiveId,
        counts: JSON.stringify(counts),
        warnings: JSON.stringify(summary),
        warning_count: warnings.total,
      });
    });
    log.info(
      { archiveId, records, era: info.era, format: info.format, timings: stages.timings },
      'archive imported',
    );
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
      stageTimings: stages.timings,
      kept: await keep(context, client, { accountId, archiveId, sha256, inputPath: options.zipPath }, log),
    };
  } catch (thrown) {
    await client.query('rollback').catch(() => {});
    const error = coerceError(thrown);
    const stage = stages.current ?? 'unpack';
    const failure = new StageFailedError(stage, runId, error);
    await recordFailedRun(db, runId, { timings: stages.timings, warnings, error }, log);
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
    await releaseRun(client, runId).catch(() => {});
    client.release();
  }
}

/** The archive's row (once per account and content); says whether this content is new. */
async function registerArchive(
  client: pg.ClientBase,
  archive: {
    accountId: string;
    runId: string;
    sha256: string;
    sizeBytes: number;
    source: string;
    fileName: string;
    info: ArchiveInfo;
    members: number;
    records: number;
  },
): Promise<{ archiveId: string; newArchive: boolean }> {
  const sha = Buffer.from(archive.sha256, 'hex');
  const inserted = await client.query<{ archive_id: string }>(
    `insert into tiktok_sync.archives
       (account_id, sha256, size_bytes, source, file_name, format, era, member_count, record_count, first_run_id)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     on conflict (account_id, sha256) do nothing
     returning archive_id`,
    [
      archive.accountId,
      sha,
      archive.sizeBytes,
      archive.source,
      archive.fileName,
      archive.info.format,
      archive.info.era,
      archive.members,
      archive.records,
      archive.runId,
    ],
  );
  if (inserted.rows[0]) return { archiveId: inserted.rows[0].archive_id, newArchive: true };
  const found = await client.query<{ archive_id: string }>(
    'select archive_id from tiktok_sync.archives where account_id = $1 and sha256 = $2',
    [archive.accountId, sha],
  );
  return { archiveId: found.rows[0]!.archive_id, newArchive: false };
}

/**
 * Keeps the committed archive for reprocess. The data is stored whatever happens here: a copy that
 * cannot be made (a full disk) is logged, not thrown.
 */
async function keep(
  context: ImportContext,
  client: pg.ClientBase,
  request: KeepRequest,
  log: Logger,
): Promise<KeptArchive | undefined> {
  if (!context.kept) return undefined;
  try {
    return await keepArchive(client, context.kept, request);
  } catch (error) {
    log.warn(
      { err: error, dir: context.kept.dir },
      'the archive was imported, but no copy could be kept for reprocess; check the kept-archives directory (archive.keptDir)',
    );
    return undefined;
  }
}
