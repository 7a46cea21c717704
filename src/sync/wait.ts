/**
 * The `wait` stage: Check the request until TikTok has prepared the data, with backoff and jitter,
 * woken early by the signed `portability.download.ready` webhook (docs/tiktok-api.md §2, §4). Each
 * Check is recorded on the request, so a sync that stops here resumes where it was.
 */
import { HOUR, MINUTE, SECOND } from '../duration.js';
import type { Logger } from '../logger.js';
import { backoffDelay } from '../tiktok/http.js';
import type { DataRequestStatus } from '../tiktok/portability-client.js';
import type { SyncContext, SyncOptions } from './run-sync.js';

/** `ready`: Download may start; `waiting`: the call's wait is over, the next sync resumes. */
export type WaitOutcome = 'ready' | 'expired' | 'cancelled' | 'waiting';

export async function waitUntilReady(
  context: SyncContext,
  options: SyncOptions,
  requestId: string,
  log: Logger,
): Promise<WaitOutcome> {
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
