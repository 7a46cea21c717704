import { type Kysely, sql } from 'kysely';

/** Every data table, schema-qualified (as of this migration). */
const DATA_TABLES = [
  'tiktok.watch_history',
  'tiktok.likes',
  'tiktok.favorites',
  'tiktok.searches',
  'tiktok.shares',
  'tiktok.comments',
  'tiktok.followers',
  'tiktok.following',
  'tiktok.blocks',
  'tiktok.logins',
  'tiktok.posts',
  'tiktok.dm_conversations',
  'tiktok.dm_messages',
  'tiktok.live_sessions',
  'tiktok.live_comments',
  'tiktok.purchases',
  'tiktok.settings',
  'tiktok.hashtags',
  'tiktok.off_tiktok_activity',
  'tiktok.devices',
  'tiktok.reposts',
  'tiktok.ad_visits',
  'tiktok.ad_interests',
  'tiktok.product_browsing',
  'tiktok.shop_orders',
  'tiktok.shop_vouchers',
  'tiktok.shop_activity',
  'tiktok.location_reviews',
  'tiktok.section_values',
  'tiktok_private.profile',
  'tiktok_private.shop_addresses',
  'tiktok_private.payment_methods',
  'tiktok_private.locations',
  'tiktok_private.private_values',
];

/**
 * Removals in the export's time, with a reason. `removed_at` was the time of our import; it becomes
 * the time TikTok made the first export without the record (tiktok_sync.archives.exported_at), and
 * `removed_reason` tells a record the user withdrew (`withdrawn`: younger than the oldest record the
 * same section still holds in that export) from one that fell out of TikTok's retention window
 * (`aged_out`: older than that). Null where it cannot be told: a section without times, a record
 * without one, a section that holds nothing to compare with. Existing removals keep their times and
 * get no reason.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const table of DATA_TABLES) {
    await sql`
      alter table ${sql.raw(table)}
        add column removed_reason text check (removed_reason in ('withdrawn', 'aged_out'));
      comment on column ${sql.raw(table)}.removed_reason is 'Why the record left the exports: withdrawn (younger than the oldest record its section still held, so the user removed it) or aged_out (older: it fell out of TikTok''s retention window); null while current, or when it cannot be told.';
      comment on column ${sql.raw(table)}.removed_at is 'When TikTok made the first export that no longer held this record (null while the latest export holds it); the record is kept.';
    `.execute(db);
  }
}
