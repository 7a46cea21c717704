import { type Kysely, sql } from 'kysely';

/**
 * The interval the planned next sync was computed with, so that a daemon started with another
 * interval for the account (a config change) plans that sync again instead of waiting out the old one.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table tiktok_sync.sync_schedule add column planned_interval text;
    comment on column tiktok_sync.sync_schedule.planned_interval is 'The interval (sync.interval or the account''s own, as written in the config) that next_due_at was planned with after the last import; when the config says another, the next sync is planned again from the last success. Null before the first import.';
  `.execute(db);
}
