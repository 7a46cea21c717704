/**
 * `tiktok-sync reprocess`: reads an account's kept archives (kept-archives.ts) again with the current
 * parsers, so that a parser fix or a newly modeled section reaches the data of old exports.
 *
 * Replaying old archives straight into the stored tables would mark and unmark every record that came
 * and went between them, writing tuples even when nothing changed. So, in one transaction under the
 * account lock:
 *
 * 1. every kept archive, in the order it was first imported, is parsed, staged and merged into
 *    *shadow* copies of the data tables (temporary tables, like the stored ones), exactly as an import
 *    would merge it, with the run that first imported it;
 * 2. the shadow is compared with the stored rows of the account, and only the differences are
 *    written: rows the shadow has and the store lacks are inserted (with the run and time of the
 *    import that first held them), rows whose content differs are updated, rows whose removal state
 *    differs are marked removed or restored. Stored rows the shadow does not know (from archives no
 *    longer kept) are left as they are: nothing is ever deleted.
 *
 * Reprocessing with unchanged parsers therefore writes no tuple in the data schemas.
 */
import { sql } from 'kysely';
import type pg from 'pg';
import type { KeptArchivesConfig } from '../config.js';
import { cancelOnAbort } from '../db/cancel.js';
import type { TableCounts, WarningSummary } from '../db/schema.js';
import { ArchiveError, coerceError, StageFailedError } from '../errors.js';
import { openArchive } from './archive.js';
import type { ImportContext } from './import-archive.js';
import { keptArchives } from './kept-archives.js';
import { emptyCounts, mergeRefused, mergeTable, reconcileTable, refusedValue } from './merge.js';
import {
  type CommitState,
  closeAbandonedRuns,
  lockAccount,
  recordFailedRun,
  releaseRun,
  runFailure,
  startRun,
  WarningCollector,
} from './runs.js';
import { Stager, stageEvents } from './stage.js';
import { stageTable, TABLE_SPECS, type TableSpec, targetTable } from './tables.js';

/** An import's context (import-archive.ts) with the kept archives required: reprocess reads nothing else. */
export type ReprocessContext = Pick<ImportContext, 'database' | 'logger' | 'limits' | 'signal'> & {
  readonly kept: KeptArchivesConfig;
};

export interface ReprocessResult {
  accountId: string;
  /** Undefined when the account has no kept archive (nothing was run). */
  runId: string | undefined;
  /** Kept archives read, in order. */
  archives: number;
  /** Records read from all of them. */
  records: number;
  /** Per table, what changed in the stored rows. */
  counts: Record<string, TableCounts>;
  warnings: WarningSummary[];
  warningCount: number;
}

const shadowTable = (spec: TableSpec) => `pg_temp.shadow_${spec.table}`;

/** Reprocesses the kept archives of one account (see the module comment). */
export async function reprocessAccount(
  context: ReprocessContext,
  account: { accountId: string; name: string },
): Promise<ReprocessResult> {
  const { database, logger } = context;
  const { pool, db } = database;
  const { accountId } = account;
  const archives = await keptArchives(pool, context.kept, accountId);
  const result: ReprocessResult = {
    accountId,
    runId: undefined,
    archives: archives.length,
    records: 0,
    counts: {},
    warnings: [],
    warningCount: 0,
  };
  if (archives.length === 0) return result;

  const client = await pool.connect();
  let runId: string;
  try {
    runId = await startRun(
      client,
      accountId,
      'reprocess',
      `reprocess:${archives.length} kept archives`,
      null,
    );
  } catch (error) {
    client.release();
    throw error;
  }
  result.runId = runId;
  const log = logger.child({ account: account.name, run: runId });
  const warnings = new WarningCollector();
  const timings: Record<string, number> = {};
  let stage = 'replay';
  let commit: CommitState = 'before';
  // A stop (SIGTERM, SIGINT) cancels the transaction's statements (see db/cancel.ts).
  let stopCancelling = async () => {};
  try {
    stopCancelling = await cancelOnAbort(pool, client, context.signal);
    await client.query('begin');
    await lockAccount(client, accountId);
    await client.query("set local timezone = 'UTC'");
    await client.query('set local default_statistics_target = 20; set local jit = off');
    await closeAbandonedRuns(client, { accountId, runId }, log);
    const stager = new Stager(client);
    await stager.createTables();
    await createShadows(client);

    let started = performance.now();
    for (const [seq, kept] of archives.entries()) {
      context.signal?.throwIfAborted();
      const archive = await openArchive(kept.path, {
        limits: context.limits,
        signal: context.signal,
        member: kept.exportRoot ?? undefined,
      }).catch((error: unknown) => {
        throw new ArchiveError(
          'archive_kept_unreadable',
          `The kept copy of archive ${kept.archiveId} (\`${kept.path}\`) cannot be read: ${coerceError(error).message} Restore the file, or set its \`kept_path\` to null in tiktok_sync.archives to reprocess without it.`,
          { cause: error, details: { archiveId: kept.archiveId, path: kept.path } },
        );
      });
      await stager.begin({ accountId, runId: kept.firstRunId, target: shadowTable });
      let staged: Awaited<ReturnType<typeof stageEvents>>;
      try {
        staged = await stageEvents(stager, archive.events(), warnings);
      } finally {
        await archive.close();
      }
      result.records += staged.records;
      const merge = {
        accountId,
        runId: kept.firstRunId,
        archiveId: kept.archiveId,
        present: staged.present,
        exportedAt: kept.exportedAt,
      };
      for (const spec of Object.values(TABLE_SPECS)) {
        await mergeTable(client, spec, stager.intake(spec.table), merge, shadowTable(spec));
      }
      for (const spec of Object.values(TABLE_SPECS)) {
        await reconcileTable(client, spec, stager.intake(spec.table), merge, shadowTable(spec));
      }
      await client.query(
        `insert into pg_temp.replay_raw (seq, archive_id, first_run_id, path, content_hash, content)
         select $1, $2, $3, path, md5(json)::uuid, json::jsonb from ${stageTable('raw')}`,
        [seq, kept.archiveId, kept.firstRunId],
      );
      result.counts.refused_records = add(
        result.counts.refused_records,
        await mergeRefused(client, stager.staged.get('refused') ?? 0, merge),
      );
      await stager.reset();
      log.debug({ archiveId: kept.archiveId, records: staged.records }, 'kept archive replayed');
    }
    timings.replay = Math.round(performance.now() - started);

    stage = 'apply';
    started = performance.now();
    for (const spec of Object.values(TABLE_SPECS)) {
      result.counts[spec.table] = await applyShadow(client, spec, accountId, runId);
    }
    result.counts.raw_sections = await applyRaw(
      client,
      accountId,
      runId,
      archives.map((a) => a.archiveId),
    );
    timings.apply = Math.round(performance.now() - started);
    context.signal?.throwIfAborted();
    await stopCancelling();
    commit = 'during';
    await client.query('commit');
    commit = 'after';

    result.warnings = warnings.summary();
    result.warningCount = warnings.total;
    await db
      .updateTable('tiktok_sync.sync_runs')
      .set({
        status: 'succeeded',
        stage: 'finish',
        archive_id: archives.at(-1)!.archiveId,
        finished_at: sql<Date>`now()`,
        stage_timings: JSON.stringify(timings),
        counts: JSON.stringify(result.counts),
        warnings: JSON.stringify(result.warnings),
        warning_count: result.warningCount,
      })
      .where('run_id', '=', runId)
      .execute();
    log.info({ archives: archives.length, records: result.records, timings }, 'kept archives reprocessed');
    return result;
  } catch (thrown) {
    await stopCancelling();
    await client.query('rollback').catch(() => {});
    const { error, ifStored } = runFailure(refusedValue(thrown, stage), {
      stage,
      runId,
      commit,
      signal: context.signal,
    });
    await recordFailedRun(db, runId, { stage, timings, warnings, error, ifStored }, log);
    throw new StageFailedError(stage, runId, error);
  } finally {
    await stopCancelling();
    // A connection that cannot release the run's lock is dropped, which releases it.
    const released = await releaseRun(client, runId).then(
      () => true,
      () => false,
    );
    client.release(released ? undefined : new Error('The run lock could not be released.'));
  }
}

/** Empty shadows of the data tables, and the list of raw sections the replay produced. */
async function createShadows(client: pg.ClientBase): Promise<void> {
  const ddl = Object.values(TABLE_SPECS).map(
    (spec) => `create temp table ${shadowTable(spec).slice('pg_temp.'.length)}
       (like ${targetTable(spec)} including defaults including generated including indexes) on commit drop`,
  );
  ddl.push(`create temp table replay_raw (
      seq integer, archive_id bigint, first_run_id bigint, path text, content_hash uuid, content jsonb
    ) on commit drop`);
  await client.query(ddl.join(';\n'));
}

/** Writes the differences between a table's shadow and its stored rows (see the module comment). */
async function applyShadow(
  client: pg.ClientBase,
  spec: TableSpec,
  accountId: string,
  runId: string,
): Promise<TableCounts> {
  const counts = emptyCounts();
  const target = targetTable(spec);
  const shadow = shadowTable(spec);
  const { rows } = await client.query<{ n: string }>(`select count(*) as n from ${shadow}`);
  const shadowRows = Number(rows[0]!.n);
  if (shadowRows === 0) return counts;
  await client.query(`analyze ${shadow}`);
  const match = 't.account_id = $1 and t.record_key = s.record_key and t.occurrence = s.occurrence';
  const assign = [...spec.columns.map((c) => `${c.name} = s.${c.name}`), 'row_hash = s.row_hash'].join(', ');
  const own = [...(spec.partColumn ? [spec.partColumn] : []), ...spec.columns.map((c) => c.name)];
  const params = [accountId, runId];
  counts.updated =
    (
      await client.query(
        `update ${target} t set ${assign}, updated_at = now(), updated_run_id = $2
         from ${shadow} s where ${match} and t.row_hash <> s.row_hash`,
        params,
      )
    ).rowCount ?? 0;
  counts.removed =
    (
      await client.query(
        `update ${target} t set removed_at = s.removed_at, removed_run_id = $2, removed_reason = s.removed_reason
         from ${shadow} s where ${match} and t.removed_at is null and s.removed_at is not null`,
        params,
      )
    ).rowCount ?? 0;
  counts.restored =
    (
      await client.query(
        `update ${target} t set removed_at = null, removed_run_id = null, removed_reason = null, updated_at = now(), updated_run_id = $2
         from ${shadow} s where ${match} and t.removed_at is not null and s.removed_at is null`,
        params,
      )
    ).rowCount ?? 0;
  counts.inserted =
    (
      await client.query(
        `insert into ${target}
           (account_id, record_key, occurrence, row_hash, ${own.join(', ')}, first_seen_run_id, first_seen_at, removed_at, removed_run_id, removed_reason)
         select $1, s.record_key, s.occurrence, s.row_hash, ${own.map((c) => `s.${c}`).join(', ')}, s.first_seen_run_id,
           coalesce((select r.started_at from tiktok_sync.sync_runs r where r.run_id = s.first_seen_run_id), now()),
           s.removed_at,
           case when s.removed_at is not null then $2::bigint end,
           s.removed_reason
         from ${shadow} s
         where not exists (select 1 from ${target} t where ${match})`,
        params,
      )
    ).rowCount ?? 0;
  counts.unchanged = shadowRows - counts.inserted - counts.updated;
  return counts;
}

/**
 * Unmodeled sections: contents the replay kept raw that are not stored yet are added (the current
 * one of its path unsuperseded); stored contents that came from the replayed archives but are no
 * longer kept raw (a parser now reads their section into a table) are marked superseded.
 */
async function applyRaw(
  client: pg.ClientBase,
  accountId: string,
  runId: string,
  archiveIds: readonly string[],
): Promise<TableCounts> {
  const counts = emptyCounts();
  counts.inserted =
    (
      await client.query(
        `with latest as (select path, max(seq) as seq from pg_temp.replay_raw group by path),
         firsts as (
           select distinct on (path, content_hash) * from pg_temp.replay_raw order by path, content_hash, seq
         )
         insert into tiktok_private.raw_sections
           (account_id, path, content_hash, content, first_seen_run_id, first_seen_archive_id, superseded_at, superseded_run_id)
         select $1, f.path, f.content_hash, f.content, f.first_run_id, f.archive_id,
           case when current.yes then null else now() end,
           case when current.yes then null else $2::bigint end
         from firsts f
         cross join lateral (
           select exists (
             select 1 from pg_temp.replay_raw r join latest l on l.path = r.path and l.seq = r.seq
             where r.path = f.path and r.content_hash = f.content_hash
           ) as yes
         ) current
         where not exists (
           select 1 from tiktok_private.raw_sections s
           where s.account_id = $1 and s.path = f.path and s.content_hash = f.content_hash
         )`,
        [accountId, runId],
      )
    ).rowCount ?? 0;
  counts.removed =
    (
      await client.query(
        `update tiktok_private.raw_sections s set superseded_at = now(), superseded_run_id = $2
         where s.account_id = $1 and s.superseded_at is null and s.first_seen_archive_id = any($3::bigint[])
           and not exists (
             select 1 from pg_temp.replay_raw r where r.path = s.path and r.content_hash = s.content_hash
           )`,
        [accountId, runId, archiveIds],
      )
    ).rowCount ?? 0;
  return counts;
}

function add(a: TableCounts | undefined, b: TableCounts): TableCounts {
  if (!a) return b;
  return {
    inserted: a.inserted + b.inserted,
    updated: a.updated + b.updated,
    unchanged: a.unchanged + b.unchanged,
    removed: a.removed + b.removed,
    restored: a.restored + b.restored,
  };
}
