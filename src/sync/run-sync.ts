/**
 * One sync of one account, top to bottom. This is the file where a sync happens:
 *
 *   request → wait → download → unpack → parse → merge → reconcile → record
 *
 * (src/sync/stages.ts says what each stage does.) The first three talk to TikTok and are recorded in
 * `tiktok_sync.data_requests`, so a sync that stops (crash, shutdown, TikTok still preparing) resumes
 * at the request in flight; the last five are the import of the downloaded zip
 * (src/ingest/import-archive.ts), which `tiktok-sync import` enters directly at `unpack`. The CLI,
 * the demo and the daemon all call {@link runSync} and use its {@link SyncResult} as it is.
 */
import { rm } from 'node:fs/promises';
import type { Kysely } from 'kysely';
import { TerminalError, TransientError } from '../errors.js';
import type { ImportOptions, ImportResult } from '../ingest/import-archive.js';
import type { Logger } from '../logger.js';
import type { Clock } from '../tiktok/clock.js';
import type { TikTokDatabase } from '../tiktok/db-types.js';
import type { Category, DataFormat, DownloadedArchive } from '../tiktok/portability-client.js';
import type { RequestNotifier } from '../tiktok/webhook.js';
import { downloadArchive } from './download.js';
import {
  addRequest,
  findInFlight,
  finishRequest,
  type GrantStore,
  guard,
  type PortabilityApi,
  type RequestRow,
} from './request.js';
import { StageRunner, type StageTimings } from './stages.js';
import { waitUntilReady } from './wait.js';

/** The import stages, for an archive downloaded by a sync (bound by the caller to its import context). */
export type ImportExportFn = (
  options: ImportOptions & { kind: 'sync'; source: string; requestId: string },
) => Promise<ImportResult>;

export interface SyncContext {
  db: Kysely<TikTokDatabase>;
  /** Bound to the account's tokens ({@link TokenStore.forAccount}). */
  client: PortabilityApi;
  grants: GrantStore;
  importExport: ImportExportFn;
  clock: Clock;
  logger: Logger;
  signal?: AbortSignal | undefined;
  /** Signalled by the webhook handler; without it the sync only polls. */
  notifier?: RequestNotifier | undefined;
}

export interface SyncOptions {
  accountId: string;
  accountName: string;
  dataFormat?: DataFormat;
  /** First Check interval; doubles (with jitter) up to `pollMaxMs`. */
  pollInitialMs?: number;
  pollMaxMs?: number;
  /**
   * How long this call waits for TikTok to prepare the data before returning `waiting` (the request
   * stays recorded and the next call resumes it). Default 1 h.
   */
  waitMs?: number;
  /**
   * Ask for these categories only (those the grant allows); default: everything the grant allows.
   * A grant of `portability.all.*` allows every category.
   */
  categories?: readonly Category[];
  /** New requests made in one call after an `expired` one (default 1). */
  maxReRequests?: number;
  /** Keep the downloaded zip instead of deleting it after the import. */
  keepArchive?: boolean;
  /** Store the export even when the removal guard would hold it back (src/ingest/removal-guard.ts). */
  acceptRemovals?: boolean | undefined;
  random?: () => number;
}

interface SyncResultBase {
  requestId: string;
  /** Requests that expired before download and were replaced during this call. */
  replaced: string[];
  /** Milliseconds per stage: the API stages on the sync's clock, the import stages measured. */
  timings: StageTimings;
}

export type SyncResult =
  | (SyncResultBase & {
      state: 'imported';
      archive: Omit<DownloadedArchive, 'path'> & { path: string | undefined };
      /** What the import did: the run, counts per table, warnings. */
      imported: ImportResult;
    })
  | (SyncResultBase & { state: 'waiting' })
  | (SyncResultBase & { state: 'cancelled' });

/** Runs one sync of one account (see the module comment). */
export async function runSync(context: SyncContext, options: SyncOptions): Promise<SyncResult> {
  const { db, logger } = context;
  const log = logger.child({ account: options.accountName, accountId: options.accountId });
  const stages = new StageRunner(() => context.clock.now());
  const grant = await context.grants.summary(options.accountId);
  if (grant?.status !== 'active') {
    throw new TerminalError(
      grant ? 'needs_consent' : 'not_connected',
      grant
        ? `Account \`${options.accountName}\` cannot sync: its TikTok grant is ${grant.status} (${grant.statusReason ?? 'no reason recorded'}).`
        : `Account \`${options.accountName}\` is not connected to TikTok; connect it first.`,
      { details: { accountId: options.accountId } },
    );
  }
  const replaced: string[] = [];
  const done = (requestId: string) => ({ requestId, replaced, timings: stages.timings });
  const maxReRequests = options.maxReRequests ?? 1;
  let row: RequestRow | undefined = await findInFlight(db, options.accountId);
  if (row) log.info({ requestId: row.request_id, status: row.status }, 'resuming the data request in flight');

  for (;;) {
    // request: the one in flight, or a new one.
    const request = row ?? (await stages.run('request', () => addRequest(context, options, grant, log)));
    const requestId = request.request_id;

    // wait: until TikTok has prepared the data, or this call's wait is over.
    const waited = await stages.run('wait', () =>
      guard(context, options, requestId, () => waitUntilReady(context, options, requestId, log)),
    );
    if (waited === 'waiting') return { state: 'waiting', ...done(requestId) };
    if (waited === 'cancelled') {
      await finishRequest(context, options.accountId, requestId, 'cancelled');
      log.info({ requestId }, 'the data request was cancelled');
      return { state: 'cancelled', ...done(requestId) };
    }

    // download: within the request's window; an expired request is replaced by a new one.
    let archive: DownloadedArchive | 'expired' = 'expired';
    if (waited === 'expired') await finishRequest(context, options.accountId, requestId, 'expired');
    else {
      archive = await stages.run('download', () =>
        guard(context, options, requestId, () => downloadArchive(context, options, requestId)),
      );
    }
    if (archive === 'expired') {
      if (replaced.length >= maxReRequests) {
        throw new TransientError(
          'request_expired',
          `Request \`${requestId}\` for account \`${options.accountName}\` expired before download, as did the ${replaced.length} made to replace it; the next sync will try again.`,
          { details: { requestId } },
        );
      }
      log.warn(
        { requestId },
        `Request \`${requestId}\` for account \`${options.accountName}\` expired before download; a new request is made.`,
      );
      replaced.push(requestId);
      row = undefined;
      continue;
    }

    // unpack → parse → merge → reconcile → record: the import of the downloaded zip.
    try {
      const imported = await guard(context, options, requestId, () =>
        context.importExport({
          accountName: options.accountName,
          zipPath: archive.path,
          kind: 'sync',
          source: `tiktok:request/${requestId}`,
          requestId,
          acceptRemovals: options.acceptRemovals,
        }),
      );
      Object.assign(stages.timings, imported.stageTimings);
      await recordImported(context, options.accountId, requestId, imported);
      log.info({ requestId, bytes: archive.bytes, runId: imported.runId }, 'data request imported');
      return {
        state: 'imported',
        ...done(requestId),
        archive: { ...archive, path: options.keepArchive ? archive.path : undefined },
        imported,
      };
    } finally {
      if (!options.keepArchive) await rm(archive.path, { force: true });
    }
  }
}

/** The request is over: its archive is imported, by the named run. */
async function recordImported(
  context: SyncContext,
  accountId: string,
  requestId: string,
  imported: ImportResult,
): Promise<void> {
  const now = new Date(context.clock.now());
  await context.db
    .updateTable('tiktok_sync.data_requests')
    .set({
      status: 'imported',
      imported_at: now,
      finished_at: now,
      run_id: imported.runId,
      archive_id: imported.archiveId,
      error_code: null,
      error_message: null,
    })
    .where('account_id', '=', accountId)
    .where('request_id', '=', requestId)
    .execute();
}
