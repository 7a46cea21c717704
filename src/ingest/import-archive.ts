import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { sql } from 'kysely';
import { ensureAccount } from '../db/accounts.js';
import type { DatabaseHandle } from '../db/connect.js';
import type { TableCounts, WarningSummary } from '../db/schema.js';
import { ArchiveError, coerceError, PipelineError, StageFailedError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ArchiveInfo, TableName, WarningEvent } from '../parsers/records.js';
import { type ArchiveLimits, openArchive } from './archive.js';
import { mergeAll } from './merge.js';
import { Stager } from './stage.js';
import { TABLE_SPECS } from './tables.js';

export interface ImportContext {
  readonly database: DatabaseHandle;
  readonly logger: Logger;
  readonly limits: ArchiveLimits;
  readonly signal?: AbortSignal | undefined;
  /** The archive reader; the zip reader by default. Tests may pass another source of parse events. */
  readonly open?: typeof openArchive;
}

export interface ImportOptions {
  accountName: string;
  zipPath: string;
  kind?: 'import' | 'sync';
  /** Where the archive came from, for the run and archive records; defaults to the file path. */
  source?: string;
  /** TikTok's data request id, for syncs through the API. */
  requestId?: string;
  /** Archive bytes read so far, for a progress bar. */
  onProgress?: (doneBytes: number, totalBytes: number) => void;
}

export interface ImportResult {
  accountId: string;
  runId: string;
  archiveId: string;
  /** False when this exact archive (same SHA-256) had been imported before. */
  newArchive: boolean;
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
  const run = await db
    .insertInto('tiktok_sync.sync_runs')
    .values({
      account_id: accountId,
      kind: options.kind ?? 'import',
      source,
      archive_id: null,
      request_id: options.requestId ?? null,
      stage_timings: JSON.stringify({}),
      counts: JSON.stringify({}),
      warnings: JSON.stringify([]),
      finished_at: null,
      error_code: null,
      error_message: null,
    })
    .returning('run_id')
    .executeTakeFirstOrThrow();
  const runId = run.run_id;
  const log = logger.child({ account: options.accountName, run: runId });
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
  const client = await pool.connect();
  try {
    const size = (
      await stat(options.zipPath).catch((error) => {
        throw new ArchiveError(
          'archive_missing',
          `Cannot read \`${options.zipPath}\` (${error.code ?? error.message}); check the path.`,
          {
            cause: error,
          },
        );
      })
    ).size;
    const sha256 = await timed('hash', () => hashFile(options.zipPath));
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
          path.basename(options.zipPath),
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
    throw failure;
  } finally {
    client.release();
  }
}

async function hashFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

/** Groups warnings by code and path, keeping the first message of each group. */
class WarningCollector {
  readonly #groups = new Map<string, WarningSummary>();
  total = 0;

  add(event: WarningEvent): void {
    this.total += 1;
    const key = `${event.code}\u0001${event.path}`;
    const group = this.#groups.get(key);
    if (group) group.count += 1;
    else if (this.#groups.size < MAX_WARNING_GROUPS) {
      this.#groups.set(key, { code: event.code, path: event.path, message: event.message, count: 1 });
    }
  }

  summary(): WarningSummary[] {
    return [...this.#groups.values()].sort((a, b) => b.count - a.count);
  }
}
