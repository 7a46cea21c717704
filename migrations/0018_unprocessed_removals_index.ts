import { type Kysely, sql } from 'kysely';

/**
 * The daemon looks for `authorization.removed` events still to act on at every tick
 * (src/tiktok/webhook-events.ts, `retryAuthorizationRemovals`); webhook events are kept for good,
 * so without this index that look would read the whole, growing table each time.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create index webhook_events_unprocessed_removals_idx on tiktok_sync.webhook_events (event_id)
      where event = 'authorization.removed' and processed_at is null;
  `.execute(db);
}
