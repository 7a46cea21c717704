import type { Kysely } from 'kysely';
import type { AccountSyncConfig, SyncConfig } from '../config.js';
import { HOUR } from '../duration.js';
import { REMOVAL_GUARD_CODE } from '../ingest/removal-guard.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { cancelInFlight, findInFlight, type GrantStore } from '../sync/request.js';
import { runSync, type SyncContext, type SyncResult } from '../sync/run-sync.js';
import type { Clock } from '../tiktok/clock.js';
import type { TikTokDatabase } from '../tiktok/db-types.js';
import { backoffDelay } from '../tiktok/http.js';
import type { Claim, Release } from './claims.js';
import { classifyFailure, retryDelay } from './failure.js';
import { nextSlot, type SyncInterval } from './interval.js';

/** One claim's work on one account; never throws (every failure becomes a {@link Release}). */
export type AccountWork = (claim: Claim, signal: AbortSignal) => Promise<Release>;

export interface AccountWorkOptions {
  db: Kysely<TikTokDatabase>;
  sync: SyncConfig;
  /** Backoff of Checks while TikTok prepares the data (config `tiktok.pollInitialSeconds`/`pollMaxSeconds`). */
  poll: { initialMs: number; maxMs: number };
  /** Default data format (config `tiktok.dataFormat`); accounts may override it. */
  dataFormat: 'json' | 'text';
  /** Keep downloaded archives (the retention sweep deletes them later). */
  keepArchives: boolean;
  grants: GrantStore;
  /** The context of one sync of the account (services.ts), stopped by `signal`. */
  syncContext(accountId: string, signal: AbortSignal): SyncContext;
  clock: Clock;
  logger: Logger;
  metrics?: Metrics | undefined;
  random?: () => number;
}

/**
 * What a daemon does with a claimed account: cancel a request TikTok kept pending too long, run one
 * sync ({@link runSync}, which resumes the request in flight),
 * and turn the outcome into the schedule's next state:
 *
 * - imported: next due one interval later (plus jitter); an account whose grant has no `.ongoing`
 *   scope is complete after its one export;
 * - waiting (TikTok still preparing): released at once, next Check after a growing delay, or as soon as
 *   the webhook marks the request ready;
 * - transient failure: retried with exponential backoff and jitter, honouring Retry-After;
 * - terminal failure: the account stops, with the reason in `status` and the metrics;
 * - grant failure: the account waits for the user to connect again (its credentials say why);
 * - aborted (shutdown, lease lost): nothing recorded; the account stays due for the next daemon.
 */
export function createAccountWork(options: AccountWorkOptions): AccountWork {
  const { db, clock, metrics } = options;
  const random = options.random ?? Math.random;

  return async (claim, signal) => {
    const log = options.logger.child({ account: claim.accountName, accountId: claim.accountId });
    const settings: AccountSyncConfig = options.sync.accounts[claim.accountName] ?? {};
    const interval: SyncInterval = settings.interval ?? options.sync.interval;
    const started = clock.now();
    const context = options.syncContext(claim.accountId, signal);
    try {
      await cancelIfPendingTooLong(context, claim, options, log);
      const outcome = await runSync(context, {
        accountId: claim.accountId,
        accountName: claim.accountName,
        dataFormat: settings.dataFormat ?? options.dataFormat,
        ...(settings.categories ? { categories: settings.categories } : {}),
        pollInitialMs: options.poll.initialMs,
        pollMaxMs: options.poll.maxMs,
        waitMs: options.sync.checkWaitMs,
        keepArchive: options.keepArchives,
        acceptRemovals: settings.acceptRemovals,
        random,
      });
      const now = clock.now();
      metrics?.stageSeconds.observe({ stage: 'claim' }, (now - started) / 1000);
      switch (outcome.state) {
        case 'imported': {
          await observeImport(options, claim.accountId, outcome);
          const grant = await options.grants.summary(claim.accountId);
          const complete = !(grant?.scopes ?? []).some((scope) => scope.endsWith('.ongoing'));
          const slot = nextSlot(interval, now, claim.slotAt.getTime());
          log.info(
            {
              requestId: outcome.requestId,
              runId: outcome.imported.runId,
              nextSlot: new Date(slot).toISOString(),
            },
            complete
              ? 'export imported; the grant allows no further export, so the account is complete'
              : 'export imported',
          );
          return {
            outcome: complete ? 'complete' : 'imported',
            nextDueAt: slot + Math.round(random() * options.sync.jitterMs),
            slotAt: slot,
            plannedInterval: interval.text,
            attempts: 0,
            backoffUntil: null,
            success: { runId: outcome.imported.runId, requestId: outcome.requestId },
            complete,
          };
        }
        case 'waiting': {
          const checks = await checkCount(db, claim.accountId, outcome.requestId);
          const delay = backoffDelay(
            Math.max(0, checks - 1),
            options.poll.initialMs,
            options.poll.maxMs,
            random,
          );
          return { outcome: 'waiting', nextDueAt: now + delay, attempts: 0, backoffUntil: null };
        }
        case 'cancelled': {
          // Cancelled at TikTok (not by us): make a new request after a short backoff.
          const attempts = claim.attempts + 1;
          const retryAt = now + retryDelay(attempts, options.sync.retry, undefined, random);
          return {
            outcome: 'cancelled',
            nextDueAt: retryAt,
            attempts,
            backoffUntil: retryAt,
            error: {
              code: 'request_cancelled',
              message: `Request \`${outcome.requestId}\` was cancelled at TikTok; a new request will be made.`,
            },
          };
        }
      }
    } catch (thrown) {
      const now = clock.now();
      if (signal.aborted) {
        log.info({ reason: String(signal.reason) }, 'work on the account abandoned; it stays due');
        return {
          outcome: 'abandoned',
          nextDueAt: claim.nextDueAt.getTime(),
          attempts: claim.attempts,
          backoffUntil: null,
        };
      }
      const failure = classifyFailure(thrown);
      metrics?.failures.inc({ kind: failure.kind, code: failure.code });
      const error = { code: failure.code, message: failure.message };
      if (failure.kind === 'transient') {
        const attempts = claim.attempts + 1;
        const retryAt = now + retryDelay(attempts, options.sync.retry, failure.retryAfterMs, random);
        log.warn(
          { code: failure.code, attempts, retryAt: new Date(retryAt).toISOString() },
          `${failure.message} (attempt ${attempts}; retrying after ${Math.round((retryAt - now) / 1000)} s)`,
        );
        return { outcome: 'retrying', nextDueAt: retryAt, attempts, backoffUntil: retryAt, error };
      }
      if (failure.kind === 'consent') {
        // The credentials row (needs_consent or revoked) keeps the account from being claimed until
        // the user connects again; make sure it says so even when the failure came from elsewhere.
        const grant = await options.grants.summary(claim.accountId).catch(() => undefined);
        if (grant?.status === 'active') {
          await options.grants.markNeedsConsent(claim.accountId, failure.message).catch(() => {});
        }
        log.warn({ code: failure.code }, failure.message);
        return {
          outcome: 'needs_consent',
          nextDueAt: now,
          attempts: 0,
          backoffUntil: null,
          error,
        };
      }
      log.error(
        { code: failure.code },
        failure.code === REMOVAL_GUARD_CODE
          ? `${failure.message} The account needs attention: nothing was stored and it is not synced again until you look (then: tiktok-sync run --retry-stopped ${claim.accountName}).`
          : `${failure.message} The account is stopped until this is fixed (then: tiktok-sync run --retry-stopped).`,
      );
      return {
        outcome: 'stopped',
        nextDueAt: now,
        attempts: claim.attempts,
        backoffUntil: null,
        error,
        stop: { code: failure.code, reason: failure.message },
      };
    }
  };
}

async function cancelIfPendingTooLong(
  context: SyncContext,
  claim: Claim,
  options: AccountWorkOptions,
  log: Logger,
): Promise<void> {
  const inFlight = await findInFlight(options.db, claim.accountId);
  if (inFlight?.status !== 'pending') return;
  const age = options.clock.now() - inFlight.added_at.getTime();
  if (age <= options.sync.pendingLimitMs) return;
  await cancelInFlight(context, claim.accountId);
  options.metrics?.requestsCancelled.inc({ reason: 'pending_limit' });
  log.warn(
    { requestId: inFlight.request_id, ageHours: Math.round(age / HOUR) },
    `Request \`${inFlight.request_id}\` for account \`${claim.accountName}\` stayed pending for ${Math.round(age / HOUR)} h, beyond the limit of ${Math.round(options.sync.pendingLimitMs / HOUR)} h (sync.pendingLimit); it was cancelled and a new request is made.`,
  );
}

async function checkCount(db: Kysely<TikTokDatabase>, accountId: string, requestId: string) {
  const row = await db
    .selectFrom('tiktok_sync.data_requests')
    .select('check_count')
    .where('account_id', '=', accountId)
    .where('request_id', '=', requestId)
    .executeTakeFirst();
  return row?.check_count ?? 1;
}

/** Rows by table and change kind, stage timings, and how long TikTok took to prepare the data. */
async function observeImport(
  options: AccountWorkOptions,
  accountId: string,
  outcome: Extract<SyncResult, { state: 'imported' }>,
) {
  const { metrics, db } = options;
  if (!metrics) return;
  const request = await db
    .selectFrom('tiktok_sync.data_requests')
    .select(['added_at', 'ready_at'])
    .where('account_id', '=', accountId)
    .where('request_id', '=', outcome.requestId)
    .executeTakeFirst();
  if (request?.ready_at) {
    metrics.stageSeconds.observe(
      { stage: 'request_wait' },
      Math.max(0, request.ready_at.getTime() - request.added_at.getTime()) / 1000,
    );
  }
  for (const [table, counts] of Object.entries(outcome.imported.counts)) {
    for (const [change, value] of Object.entries(counts)) {
      if (value > 0) metrics.rows.inc({ table, change }, value);
    }
  }
  for (const [stage, ms] of Object.entries(outcome.imported.stageTimings)) {
    metrics.stageSeconds.observe({ stage }, (ms ?? 0) / 1000);
  }
}
