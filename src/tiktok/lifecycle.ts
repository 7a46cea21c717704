import { rm } from 'node:fs/promises';
import type { Kysely } from 'kysely';
import { HOUR, MINUTE, SECOND } from '../duration.js';
import {
  ConfigError,
  coerceError,
  PipelineError,
  StageFailedError,
  TerminalError,
  TransientError,
} from '../errors.js';
import type { Logger } from '../logger.js';
import type { Clock } from './clock.js';
import type { DataRequestsTable, TikTokDatabase } from './db-types.js';
import { backoffDelay } from './http.js';
import type {
  Category,
  DataFormat,
  DataRequestStatus,
  DownloadedArchive,
  PortabilityClient,
} from './portability-client.js';
import type { CredentialSummary } from './tokens.js';
import type { RequestNotifier } from './webhook.js';

/** What each portability scope type lets Add ask for (docs/tiktok-api.md §0). */
const SCOPE_CATEGORIES: ReadonlyArray<readonly [type: string, categories: readonly Category[]]> = [
  ['activity', ['activity']],
  ['postsandprofile', ['video', 'profile']],
  ['directmessages', ['direct_message']],
];

export interface CategoryPlan {
  categories: Category[];
  /** `.single` scopes this Add uses up (each allows exactly one Add). */
  consumes: string[];
}

/**
 * Categories to request given the scopes still usable: `all_data` when `portability.all.*` is
 * granted, else the categories of each granted type. Ongoing scopes are preferred to single ones,
 * so a single scope is only spent when nothing ongoing covers its categories.
 */
export function categoriesForScopes(
  granted: readonly string[],
  consumed: readonly string[] = [],
): CategoryPlan {
  const usable = new Set(granted.filter((scope) => !consumed.includes(scope)));
  if (usable.has('portability.all.ongoing')) return { categories: ['all_data'], consumes: [] };
  if (usable.has('portability.all.single'))
    return { categories: ['all_data'], consumes: ['portability.all.single'] };
  const plan: CategoryPlan = { categories: [], consumes: [] };
  for (const [type, categories] of SCOPE_CATEGORIES) {
    if (usable.has(`portability.${type}.ongoing`)) plan.categories.push(...categories);
    else if (usable.has(`portability.${type}.single`)) {
      plan.categories.push(...categories);
      plan.consumes.push(`portability.${type}.single`);
    }
  }
  return plan;
}

/** The import step, bound by the caller: `(options) => importArchive(importContext, options)`. */
export type ImportArchiveFn = (options: {
  accountName: string;
  zipPath: string;
  kind: 'sync';
  source: string;
  requestId: string;
}) => Promise<{ runId?: string; archiveId?: string } | undefined | undefined>;

/** The parts of the client a sync uses. */
export type PortabilityApi = Pick<
  PortabilityClient,
  'addRequest' | 'checkStatus' | 'cancelRequest' | 'download'
>;

/** The parts of the token store a sync uses. */
export interface GrantStore {
  summary(accountId: string): Promise<CredentialSummary | undefined>;
  consumeScopes(accountId: string, scopes: readonly string[]): Promise<void>;
  markNeedsConsent(accountId: string, reason: string): Promise<void>;
}

export interface SyncContext {
  db: Kysely<TikTokDatabase>;
  /** Bound to the account's tokens ({@link TokenStore.forAccount}). */
  client: PortabilityApi;
  grants: GrantStore;
  importArchive: ImportArchiveFn;
  clock: Clock;
  logger: Logger;
  signal?: AbortSignal;
  /** Signalled by the webhook handler; without it the sync only polls. */
  notifier?: RequestNotifier;
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
  random?: () => number;
}

export type SyncOutcome =
  | {
      state: 'imported';
      requestId: string;
      archive: Omit<DownloadedArchive, 'path'> & { path: string | undefined };
      runId: string | undefined;
      archiveId: string | undefined;
      /** Requests that expired before download and were replaced during this call. */
      replaced: string[];
    }
  | { state: 'waiting'; requestId: string; replaced: string[] }
  | { state: 'cancelled'; requestId: string; replaced: string[] };

type Row = Pick<DataRequestsTable, 'request_id' | 'status' | 'data_format' | 'categories'> & {
  account_id: string;
};

/**
 * One sync of one account through the API: resume the account's in-flight request or Add a new one
 * → wait (poll Check with backoff and jitter, or wake on the webhook) → Download to a temp file →
 * import. An `expired` request is replaced by a new one; each step is recorded in
 * `tiktok_sync.data_requests`, so a crash or a `waiting` return resumes where it stopped.
 */
export async function syncAccount(context: SyncContext, options: SyncOptions): Promise<SyncOutcome> {
  const { db, logger } = context;
  const log = logger.child({ account: options.accountName, accountId: options.accountId });
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
  const maxReRequests = options.maxReRequests ?? 1;
  let row = await findInFlight(db, options.accountId);
  if (row) log.info({ requestId: row.request_id, status: row.status }, 'resuming the data request in flight');

  for (;;) {
    if (!row) row = await addRequest(context, options, grant, log);
    const requestId = row.request_id;
    const waited = await guard(context, options, requestId, () =>
      waitUntilReady(context, options, requestId, log),
    );
    if (waited === 'waiting') return { state: 'waiting', requestId, replaced };
    if (waited === 'cancelled') {
      await finish(context, options.accountId, requestId, 'cancelled');
      log.info({ requestId }, 'the data request was cancelled');
      return { state: 'cancelled', requestId, replaced };
    }
    if (waited === 'expired') await finish(context, options.accountId, requestId, 'expired');
    const archive =
      waited === 'expired'
        ? 'expired'
        : await guard(context, options, requestId, () => downloadArchive(context, options, requestId));
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
    try {
      const imported = await guard(context, options, requestId, () =>
        context.importArchive({
          accountName: options.accountName,
          zipPath: archive.path,
          kind: 'sync',
          source: `tiktok:request/${requestId}`,
          requestId,
        }),
      );
      const now = new Date(context.clock.now());
      await db
        .updateTable('tiktok_sync.data_requests')
        .set({
          status: 'imported',
          imported_at: now,
          finished_at: now,
          run_id: imported?.runId ?? null,
          archive_id: imported?.archiveId ?? null,
          error_code: null,
          error_message: null,
        })
        .where('account_id', '=', options.accountId)
        .where('request_id', '=', requestId)
        .execute();
      log.info({ requestId, bytes: archive.bytes, runId: imported?.runId }, 'data request imported');
      return {
        state: 'imported',
        requestId,
        archive: { ...archive, path: options.keepArchive ? archive.path : undefined },
        runId: imported?.runId,
        archiveId: imported?.archiveId,
        replaced,
      };
    } finally {
      if (!options.keepArchive) await rm(archive.path, { force: true });
    }
  }
}

/**
 * Cancels the account's in-flight request, at TikTok and in our records. Returns its id, or
 * undefined when nothing was in flight.
 */
export async function cancelInFlight(
  context: Pick<SyncContext, 'db' | 'client' | 'clock' | 'logger' | 'signal'>,
  accountId: string,
): Promise<string | undefined> {
  const row = await findInFlight(context.db, accountId);
  if (!row) return undefined;
  try {
    await context.client.cancelRequest(row.request_id, context.signal);
  } catch (error) {
    // Already over at TikTok (expired or cancelled elsewhere): record what it says.
    if (!(error instanceof TerminalError && error.code === 'invalid_params')) throw error;
    const status = await context.client.checkStatus(row.request_id, { signal: context.signal });
    if (status.status !== 'expired' && status.status !== 'cancelled') throw error;
    await finish(context, accountId, row.request_id, status.status);
    return row.request_id;
  }
  await finish(context, accountId, row.request_id, 'cancelled');
  context.logger.info({ accountId, requestId: row.request_id }, 'data request cancelled');
  return row.request_id;
}

async function findInFlight(db: Kysely<TikTokDatabase>, accountId: string): Promise<Row | undefined> {
  return db
    .selectFrom('tiktok_sync.data_requests')
    .select(['account_id', 'request_id', 'status', 'data_format', 'categories'])
    .where('account_id', '=', accountId)
    .where('finished_at', 'is', null)
    .executeTakeFirst();
}

async function addRequest(
  context: SyncContext,
  options: SyncOptions,
  grant: CredentialSummary,
  log: Logger,
): Promise<Row> {
  const fresh = (await context.grants.summary(options.accountId)) ?? grant;
  const plan = categoriesForScopes(fresh.scopes, fresh.consumedScopes);
  if (plan.categories.length === 0) {
    const reason = `No usable portability scope is left (granted: ${fresh.scopes.join(', ') || 'none'}; used up: ${fresh.consumedScopes.join(', ') || 'none'}); connect the account again with a portability scope.`;
    await context.grants.markNeedsConsent(options.accountId, reason);
    throw new TerminalError(
      'no_portability_scope',
      `Account \`${options.accountName}\` cannot request data: ${reason}`,
    );
  }
  if (options.categories && !options.categories.includes('all_data')) {
    const wanted = options.categories;
    if (plan.categories.includes('all_data')) plan.categories = [...wanted];
    else {
      plan.categories = plan.categories.filter((category) => wanted.includes(category));
      plan.consumes = plan.consumes.filter((scope) =>
        SCOPE_CATEGORIES.some(
          ([type, categories]) =>
            scope === `portability.${type}.single` && categories.some((c) => plan.categories.includes(c)),
        ),
      );
    }
    if (plan.categories.length === 0) {
      throw new TerminalError(
        'categories_not_granted',
        `Account \`${options.accountName}\` is configured to sync ${wanted.join(', ')}, which its grant (${fresh.scopes.join(', ')}) does not allow; change the account's categories or connect it again with the matching scopes.`,
      );
    }
  }
  const dataFormat = options.dataFormat ?? 'json';
  const added = await guard(context, options, undefined, () =>
    context.client.addRequest({ dataFormat, categories: plan.categories }, context.signal),
  );
  if (plan.consumes.length > 0) await context.grants.consumeScopes(options.accountId, plan.consumes);
  const row = {
    account_id: options.accountId,
    request_id: added.requestId,
    status: 'pending' as const,
    data_format: dataFormat,
    categories: plan.categories,
    scopes_consumed: plan.consumes,
    added_at: new Date(context.clock.now()),
  };
  try {
    await context.db.insertInto('tiktok_sync.data_requests').values(row).execute();
  } catch (error) {
    const { code, constraint } = error as { code?: string; constraint?: string };
    // Only the one-in-flight index means "another process made a request"; any other clash is a bug.
    if (code !== '23505' || constraint !== 'data_requests_one_in_flight') throw error;
    // Another process started a request for this account meanwhile: withdraw ours.
    await context.client.cancelRequest(added.requestId, context.signal).catch(() => {});
    throw new TransientError(
      'request_in_flight_elsewhere',
      `Account \`${options.accountName}\` got a data request from another process while this one made request \`${added.requestId}\` (now cancelled); the other one goes on.`,
      { cause: error },
    );
  }
  log.info(
    { requestId: added.requestId, categories: plan.categories, dataFormat, log_id: added.logId },
    'data request added',
  );
  return row;
}

async function waitUntilReady(
  context: SyncContext,
  options: SyncOptions,
  requestId: string,
  log: Logger,
): Promise<'ready' | 'expired' | 'cancelled' | 'waiting'> {
  const { clock } = context;
  const deadline = clock.now() + (options.waitMs ?? HOUR);
  const initial = options.pollInitialMs ?? 10 * SECOND;
  const max = options.pollMaxMs ?? 15 * MINUTE;
  for (let attempt = 0; ; attempt++) {
    const status = await context.client.checkStatus(requestId, { signal: context.signal });
    await recordCheck(context, options.accountId, requestId, status);
    switch (status.status) {
      case 'downloading':
        return 'ready';
      case 'expired':
      case 'cancelled':
        return status.status;
      default:
        break;
    }
    const left = deadline - clock.now();
    if (left <= 0) {
      log.info({ requestId }, 'TikTok is still preparing the data; the next sync resumes this request');
      return 'waiting';
    }
    const delay = Math.min(left, backoffDelay(attempt, initial, max, options.random));
    // Woken by the webhook or the timer: either way, the next Check confirms the state.
    await sleepOrWake(context, requestId, delay);
  }
}

async function sleepOrWake(context: SyncContext, requestId: string, delayMs: number): Promise<void> {
  const stop = new AbortController();
  const signal = context.signal ? AbortSignal.any([context.signal, stop.signal]) : stop.signal;
  const waits = [context.clock.sleep(delayMs, signal)];
  if (context.notifier) waits.push(context.notifier.wait(requestId, signal));
  try {
    await Promise.race(waits);
  } finally {
    stop.abort();
    await Promise.allSettled(waits);
  }
  context.signal?.throwIfAborted();
}

async function recordCheck(
  context: SyncContext,
  accountId: string,
  requestId: string,
  status: DataRequestStatus,
) {
  const now = new Date(context.clock.now());
  const ready = status.status === 'downloading';
  const query = context.db
    .updateTable('tiktok_sync.data_requests')
    .set((eb) => ({
      remote_status: status.status ?? null,
      last_checked_at: now,
      check_count: eb('check_count', '+', 1),
      ...(status.applyTime ? { apply_time: new Date(status.applyTime * 1000) } : {}),
      ...(status.collectTime ? { collect_time: new Date(status.collectTime * 1000) } : {}),
      ...(ready ? { ready_at: eb.fn.coalesce('ready_at', eb.val(now)) } : {}),
    }))
    .where('account_id', '=', accountId)
    .where('request_id', '=', requestId);
  await query.execute();
  if (ready) {
    await context.db
      .updateTable('tiktok_sync.data_requests')
      .set({ status: 'ready' })
      .where('account_id', '=', accountId)
      .where('request_id', '=', requestId)
      .where('status', '=', 'pending')
      .execute();
  }
}

async function downloadArchive(
  context: SyncContext,
  options: SyncOptions,
  requestId: string,
): Promise<DownloadedArchive | 'expired'> {
  let archive: DownloadedArchive;
  try {
    archive = await context.client.download(requestId, { signal: context.signal });
  } catch (error) {
    // TikTok refuses Download once a request expired (UNVERIFIED how): confirm with Check.
    if (error instanceof TerminalError && error.code === 'invalid_params') {
      const status = await context.client.checkStatus(requestId, { signal: context.signal });
      if (status.status === 'expired') {
        await finish(context, options.accountId, requestId, 'expired');
        return 'expired';
      }
    }
    throw error;
  }
  await context.db
    .updateTable('tiktok_sync.data_requests')
    .set({
      status: 'downloaded',
      downloaded_at: new Date(context.clock.now()),
      archive_bytes: archive.bytes,
      archive_sha256: Buffer.from(archive.sha256, 'hex'),
    })
    .where('account_id', '=', options.accountId)
    .where('request_id', '=', requestId)
    .execute();
  return archive;
}

async function finish(
  context: Pick<SyncContext, 'db' | 'clock'>,
  accountId: string,
  requestId: string,
  status: 'expired' | 'cancelled',
) {
  await context.db
    .updateTable('tiktok_sync.data_requests')
    .set({ status, finished_at: new Date(context.clock.now()) })
    .where('account_id', '=', accountId)
    .where('request_id', '=', requestId)
    .where('finished_at', 'is', null)
    .execute();
}

/** Failures about the grant or our configuration: the request itself is fine and resumes once fixed. */
const GRANT_CODES = new Set(['access_token_invalid', 'scope_not_authorized', 'scope_permission_missed']);
const KEEP_REQUEST_CODES = new Set([...GRANT_CODES, 'needs_consent', 'revoked', 'not_connected']);

/**
 * Runs one step; on failure records it on the request. A failure about the grant marks the account
 * `needs_consent`; other terminal failures end the request as `failed` (the next sync makes a new
 * one); transient ones leave it in flight to be resumed.
 */
async function guard<T>(
  context: SyncContext,
  options: SyncOptions,
  requestId: string | undefined,
  step: () => Promise<T>,
): Promise<T> {
  try {
    return await step();
  } catch (thrown) {
    if (context.signal?.aborted) throw thrown;
    const error = coerceError(thrown);
    const root =
      error instanceof StageFailedError && error.cause instanceof PipelineError ? error.cause : error;
    const code = root instanceof PipelineError ? root.code : 'unexpected_error';
    if (GRANT_CODES.has(code)) {
      await context.grants.markNeedsConsent(
        options.accountId,
        `TikTok answered \`${code}\`: ${root.message}`,
      );
    }
    if (requestId) {
      const failure = { code, message: root.message };
      const endsRequest =
        root instanceof TerminalError && !(root instanceof ConfigError) && !KEEP_REQUEST_CODES.has(code);
      await context.db
        .updateTable('tiktok_sync.data_requests')
        .set({
          error_code: failure.code,
          error_message: failure.message,
          ...(endsRequest ? { status: 'failed' as const, finished_at: new Date(context.clock.now()) } : {}),
        })
        .where('account_id', '=', options.accountId)
        .where('request_id', '=', requestId)
        .where('finished_at', 'is', null)
        .execute();
    }
    throw error;
  }
}
