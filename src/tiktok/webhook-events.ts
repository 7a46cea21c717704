import { createHash } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import { isForgottenUser } from '../db/forgotten.js';
import type { Logger } from '../logger.js';
import type { Clock } from './clock.js';
import type { TikTokDatabase } from './db-types.js';
import type { RequestNotifier, WebhookEvent } from './webhook.js';

export const DOWNLOAD_READY = 'portability.download.ready';
export const AUTHORIZATION_REMOVED = 'authorization.removed';

/** Reasons of `authorization.removed` (docs/tiktok-api.md §3). */
const REMOVAL_REASONS: Record<number, string> = {
  0: 'for an unknown reason',
  1: 'because the user disconnected the app',
  2: 'because the account was deleted',
  3: "because the user's age changed",
  4: 'because the account was banned',
  5: 'by the developer',
};

/** `event:request_id` for download.ready (TikTok may re-send it with another create_time), else a content hash. */
export function dedupeKey(event: WebhookEvent): string {
  if (event.event === DOWNLOAD_READY && event.requestId) return `${event.event}:${event.requestId}`;
  const hash = createHash('sha256')
    .update(`${event.userOpenId ?? ''}\n${event.createTime ?? ''}\n${event.rawContent}`)
    .digest('hex');
  return `${event.event}:${hash}`;
}

/**
 * Stores a verified event once. A repeat delivery only bumps `delivery_count`; `duplicate` tells the
 * caller not to act again.
 */
export async function recordWebhookEvent(
  db: Kysely<TikTokDatabase>,
  event: WebhookEvent,
  nowMs: number,
): Promise<{ eventId: string; duplicate: boolean; accountId: string | null }> {
  let accountId: string | null = null;
  if (event.requestId) {
    const found = await db
      .selectFrom('tiktok_sync.data_requests')
      .select('account_id')
      .where('request_id', '=', event.requestId)
      .executeTakeFirst();
    accountId = found?.account_id ?? null;
  }
  if (!accountId && event.userOpenId) {
    const found = await db
      .selectFrom('tiktok.accounts')
      .select('account_id')
      .where('open_id', '=', event.userOpenId)
      .executeTakeFirst();
    accountId = found?.account_id ?? null;
  }
  const now = new Date(nowMs);
  const row = await db
    .insertInto('tiktok_sync.webhook_events')
    .values({
      dedupe_key: dedupeKey(event),
      event: event.event,
      account_id: accountId,
      request_id: event.requestId ?? null,
      user_openid: event.userOpenId ?? null,
      create_time: event.createTime === undefined ? null : new Date(event.createTime * 1000),
      content: event.rawContent,
      received_at: now,
      last_received_at: now,
    })
    .onConflict((oc) =>
      oc.column('dedupe_key').doUpdateSet({
        delivery_count: sql`tiktok_sync.webhook_events.delivery_count + 1`,
        last_received_at: now,
      }),
    )
    .returning(['event_id', 'delivery_count', 'processed_at', 'account_id'])
    .executeTakeFirstOrThrow();
  // A repeat of an event whose first delivery was never processed (crash in between) is acted on.
  return {
    eventId: row.event_id,
    duplicate: row.delivery_count > 1 && row.processed_at !== null,
    accountId: row.account_id,
  };
}

export async function markWebhookEventProcessed(db: Kysely<TikTokDatabase>, eventId: string, nowMs: number) {
  await db
    .updateTable('tiktok_sync.webhook_events')
    .set({ processed_at: new Date(nowMs) })
    .where('event_id', '=', eventId)
    .execute();
}

export interface WebhookProcessorContext {
  db: Kysely<TikTokDatabase>;
  clock: Clock;
  logger: Logger;
  /** Wakes a sync waiting for this request. */
  notifier?: RequestNotifier;
  /**
   * Called for `authorization.removed`: the `sync.onAuthorizationRemoved` policy (src/forget/policy.ts),
   * e.g. {@link TokenStore.markRevoked}. When it answers `later` (or throws), the event stays
   * unprocessed and {@link retryAuthorizationRemovals} calls it again (what else it resolves to is
   * ignored).
   */
  onAuthorizationRemoved?(accountId: string, reason: string): Promise<unknown>;
}

/** The sentence an `authorization.removed` event's reason code stands for. */
function removalReason(content: Record<string, unknown>): string {
  const code = Number(content.reason);
  return `TikTok removed the authorization ${REMOVAL_REASONS[code] ?? `(reason ${String(content.reason)})`}; connect the account again to resume syncing.`;
}

/**
 * The default `onEvent` for {@link createWebhookHandler}: records the event (de-duplicated), marks
 * the request ready and wakes its waiting sync, or marks the account's grant revoked.
 */
export function processWebhookEvents(context: WebhookProcessorContext) {
  return async (event: WebhookEvent): Promise<void> => {
    const { db, clock, logger } = context;
    // A forgotten user's events are not stored: they would bring back what was forgotten.
    if (event.userOpenId && (await isForgottenUser(db, event.userOpenId, event.createTime))) {
      logger.info({ event: event.event }, 'webhook event of a forgotten TikTok user ignored; nothing stored');
      return;
    }
    const recorded = await recordWebhookEvent(db, event, clock.now());
    if (recorded.duplicate) {
      logger.debug({ event: event.event, requestId: event.requestId }, 'duplicate webhook delivery ignored');
      return;
    }
    if (event.event === DOWNLOAD_READY && event.requestId) {
      await db
        .updateTable('tiktok_sync.data_requests')
        .set({ status: 'ready', remote_status: 'downloading', ready_at: new Date(clock.now()) })
        .where('request_id', '=', event.requestId)
        .where('status', '=', 'pending')
        .execute();
      context.notifier?.notify(event.requestId);
      logger.info(
        { requestId: event.requestId, accountId: recorded.accountId },
        'TikTok says the data request is ready',
      );
    } else if (event.event === AUTHORIZATION_REMOVED && recorded.accountId) {
      logger.warn(
        { accountId: recorded.accountId, reason: event.content.reason },
        'TikTok authorization removed',
      );
      const done = await context.onAuthorizationRemoved?.(recorded.accountId, removalReason(event.content));
      if (done === 'later') return;
    } else {
      logger.info({ event: event.event, accountId: recorded.accountId }, 'webhook event recorded');
    }
    await markWebhookEventProcessed(db, recorded.eventId, clock.now());
  };
}

/**
 * Acts again on `authorization.removed` events whose handling failed (under the `forget` policy, an
 * account a daemon was still syncing): each is handed to `onAuthorizationRemoved` and marked
 * processed once that succeeds. One created before the account's grant was (a connect since) is
 * about an older grant: it is only marked processed. Events of an account forgotten meanwhile are
 * gone with it. Returns how many were handled.
 */
export async function retryAuthorizationRemovals(context: WebhookProcessorContext): Promise<number> {
  if (!context.onAuthorizationRemoved) return 0;
  const pending = await context.db
    .selectFrom('tiktok_sync.webhook_events as e')
    .leftJoin('tiktok_sync.credentials as c', 'c.account_id', 'e.account_id')
    .select([
      'e.event_id',
      'e.account_id',
      'e.content',
      sql<boolean>`coalesce(coalesce(e.create_time, e.received_at) < c.granted_at, false)`.as('stale'),
    ])
    // Literal, so that the partial index of migration 0018 serves it: the tick reads only what waits.
    .where('e.event', '=', sql.lit(AUTHORIZATION_REMOVED))
    .where('e.processed_at', 'is', null)
    .where('e.account_id', 'is not', null)
    .orderBy('e.event_id')
    .execute();
  let handled = 0;
  for (const row of pending) {
    if (row.stale) {
      await markWebhookEventProcessed(context.db, row.event_id, context.clock.now());
      continue;
    }
    let content: Record<string, unknown> = {};
    try {
      content = JSON.parse(row.content) as Record<string, unknown>;
    } catch {
      // a content that is not JSON says no reason
    }
    try {
      if ((await context.onAuthorizationRemoved(row.account_id!, removalReason(content))) === 'later')
        continue;
    } catch (error) {
      context.logger.error(
        { err: error, accountId: row.account_id },
        'acting on an authorization.removed event failed again',
      );
      continue;
    }
    await markWebhookEventProcessed(context.db, row.event_id, context.clock.now());
    handled++;
  }
  return handled;
}
