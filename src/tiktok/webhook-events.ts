import { createHash } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
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
  /** Called for `authorization.removed` (e.g. {@link TokenStore.markRevoked}). */
  onAuthorizationRemoved?(accountId: string, reason: string): Promise<void>;
}

/**
 * The default `onEvent` for {@link createWebhookHandler}: records the event (de-duplicated), marks
 * the request ready and wakes its waiting sync, or marks the account's grant revoked.
 */
export function processWebhookEvents(context: WebhookProcessorContext) {
  return async (event: WebhookEvent): Promise<void> => {
    const { db, clock, logger } = context;
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
      const code = Number(event.content.reason);
      const reason = `TikTok removed the authorization ${REMOVAL_REASONS[code] ?? `(reason ${String(event.content.reason)})`}; connect the account again to resume syncing.`;
      await context.onAuthorizationRemoved?.(recorded.accountId, reason);
      logger.warn(
        { accountId: recorded.accountId, reason: event.content.reason },
        'TikTok authorization removed',
      );
    } else {
      logger.info({ event: event.event, accountId: recorded.accountId }, 'webhook event recorded');
    }
    await markWebhookEventProcessed(db, recorded.eventId, clock.now());
  };
}
