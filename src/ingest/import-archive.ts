import { createHash } from 'node:crypto';
import path from 'node:path';
import { sql, type Updateable } from 'kysely';
import type pg from 'pg';
import type { KeptArchivesConfig } from '../config.js';
import { ensureAccount } from '../db/accounts.js';
import { cancelOnAbort } from '../db/cancel.js';
import type { DatabaseHandle } from '../db/connect.js';
import type { ExportTimeSource, SyncRunsTable, TableCounts, WarningSummary } from '../db/schema.js';
import { StageFailedError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ArchiveInfo } from '../parsers/records.js';
import { type ImportStage, StageRunner, type StageTimings } from '../sync/stages.js';
import { type ArchiveLimits, openArchive } from './archive.js';
import { registerArchive, requestTimes } from './archive-rows.js';
import { archiveIdentity, archiveSource } from './archive-source.js';
import { exportTime, presentParts, settledByNewer } from './export-order.js';
import { type KeepRequest, type KeptArchive, keepArchive } from './kept-archives.js';
import { mergeAll, reconcileAll } from './merge.js';
import { quarantineArchive } from './quarantine.js';
import { checkRemovalGuard, DEFAULT_REMOVAL_GUARD, type RemovalGuard } from './removal-guard.js';
import {
  type CommitState,
  closeAbandonedRuns,
  latestImport,
  lockAccount,
  recordFailedRun,
  releaseRun,
  runFailure,
  startRun,
  WarningCollector,
} from './runs.js';
import { type StagedArchive, Stager, stageEvents } from './stage.js';
import { stageTable } from './tables.js';

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
  /** How much an export may remove before it is held back (removal-guard.ts). */
  readonly guard?: RemovalGuard | undefined;
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
  /** Which export to read when the archive holds several (export-roots.ts). */
  member?: string | undefined;
  /** Store the export even when the removal guard would hold it back (removal-guard.ts). */
  acceptRemovals?: boolean | undefined;
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
  /** When TikTok made the export, and from what that was told (export-order.ts). */
  exportedAt: Date;
  exportedAtSource: ExportTimeSource;
  /** True when a newer export of the account was stored already: this one only filled history. */
  older: boolean;
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
  const closeStopped = () =>
    closeAbandonedRuns(client, { accountId, runId }, log).catch((error) =>
      log.warn({ err: error }, 'could not close the runs of stopped processes'),
    );
  // Again under the account lock below: a killed process's backend may still be finishing a statement.
  await closeStopped();
  const stages = new StageRunner<ImportStage>(undefined, async (stage) => {
    // Each stage starts only while the command has not been stopped (SIGTERM, SIGINT).
    context.signal?.throwIfAborted();
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

  // A stop (SIGTERM, SIGINT) cancels the transaction's statements, so that a long merge ends at once.
  let stopCancelling = async () => {};
  let commit: CommitState = 'before';
  // The SHA-256 of the input file once hashed, so that a quarantine of it need not read it again.
  let fileSha256: string | undefined;

  try {
    // unpack: what the export is, whether it is the one imported last, and its members.
    const { input, identity } = await stages.run('unpack', async () => {
      const input = await archiveSource(options.zipPath);
      return { input, identity: await archiveIdentity(input, context.limits, context.signal) };
    });
    if (input.kind !== 'folder') fileSha256 = identity.sha256;
    // An export picked out of an archive that holds several is its own content.
    const sha256 =
      options.member === undefined
        ? identity.sha256
        : createHash('sha256').update(`${identity.sha256}\0member:${options.member}`).digest('hex');
    const { sizeBytes } = identity;
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
        exportedAt: latest.exportedAt,
        exportedAtSource: latest.exportedAtSource,
        older: false,
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
        member: options.member,
      }),
    );

    const stager = new Stager(client);
    stopCancelling = await cancelOnAbort(pool, client, context.signal);
    await client.query('begin');
    await lockAccount(client, accountId);
    await client.query("set local timezone = 'UTC'");
    // Under the account lock: a killed process's transaction has ended by now, so its run is free.
    await closeAbandonedRuns(client, { accountId, runId }, log);
    await stager.createTables();

    // parse: the account's stored keys, then every member through the parsers, compared with them
    // (stage.ts).
    let staged: StagedArchive;
    try {
      staged = await stages.run('parse', async () => {
        await stager.begin({ accountId, runId });
        return stageEvents(stager, archive.events(), warnings);
      });
    } finally {
      await archive.close();
    }
    const { records, present } = staged;
    const info = archive.info;

    // merge: the archive's row, then new and changed records, in the order TikTok made the exports.
    const merged = await stages.run('merge', async () => {
      const rawPaths = (
        await client.query<{ path: string }>(`select distinct path from ${stageTable('raw')}`)
      ).rows.map((row) => row.path);
      const made = exportTime({
        ...(await requestTimes(client, options.requestId)),
        fileName: input.name,
        newestMemberTime: archive.newestMemberTime,
        now: new Date(),
      });
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
        exportedAt: made,
        presentParts: presentParts(present, rawPaths),
        exportRoot: archive.root?.label ?? null,
      });
      const { settled, nextExportedAt } = await settledByNewer(
        client,
        accountId,
        registered.archiveId,
        registered.exportedAt.at,
        present,
        rawPaths,
      );
      const mergeContext = {
        accountId,
        runId,
        archiveId: registered.archiveId,
        present,
        settled,
        exportedAt: registered.exportedAt.at,
        nextExportedAt,
      };
      const result = await mergeAll(client, stager, mergeContext);
      return { ...registered, ...result, mergeContext, older: settled.size > 0 };
    });
    const { archiveId, newArchive, counts, facts, mergeContext, older } = merged;
    if (older) {
      warnings.add({
        kind: 'warning',
        code: 'older_export',
        message: `This export was made ${merged.exportedAt.at.toISOString()} (${merged.exportedAt.source}), before a newer export of this account that is stored already: it added what was never seen and changed nothing of the newer export.`,
        path: input.name,
      });
    }

    // reconcile: what left the export is marked removed.
    await stages.run('reconcile', async () => {
      await reconcileAll(client, stager, mergeContext, counts);
      // The removal guard: an export that would remove or empty too much is held back, before commit.
      if (options.acceptRemovals || !merged.hadEarlier) return;
      const guard = context.guard ?? DEFAULT_REMOVAL_GUARD;
      await checkRemovalGuard(client, { context: mergeContext, counts, facts }, guard, options.accountName);
    });

    // record: commit, then the run's outcome.
    const summary = warnings.summary();
    await stages.run('record', async () => {
      // A commit is not cancelled half-way: a stop from here on lets the archive be stored.
      await stopCancelling();
      commit = 'during';
      await client.query('commit');
      commit = 'after';
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
      exportedAt: merged.exportedAt.at,
      exportedAtSource: merged.exportedAt.source,
      older,
      kept: await keep(context, client, { accountId, archiveId, sha256, inputPath: options.zipPath }, log),
    };
  } catch (thrown) {
    await stopCancelling();
    await client.query('rollback').catch(() => {});
    const stage = stages.current ?? 'unpack';
    const { error, ifStored } = runFailure(thrown, { stage, runId, commit, signal: context.signal });
    const failure = new StageFailedError(stage, runId, error);
    await recordFailedRun(db, runId, { stage, timings: stages.timings, warnings, error, ifStored }, log);
    log.warn({ stage, code: failure.code, err: thrown }, 'import failed');
    await quarantineArchive(context, {
      runId,
      accountName: options.accountName,
      kind: options.kind ?? 'import',
      zipPath: options.zipPath,
      sha256: fileSha256,
      source,
      stage,
      error,
    });
    throw failure;
  } finally {
    await stopCancelling();
    // A killed process's run whose lock was still held at the second look above is free by now.
    await closeStopped();
    // A connection that cannot release the run's lock is dropped, which releases it.
    const released = await releaseRun(client, runId).then(
      () => true,
      () => false,
    );
    client.release(released ? undefined : new Error('The run lock could not be released.'));
  }
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
