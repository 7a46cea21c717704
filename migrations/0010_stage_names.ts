import { type Kysely, sql } from 'kysely';

/** The run's stage column speaks of the sync pipeline's stages (src/sync/stages.ts). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    comment on column tiktok_sync.sync_runs.stage is 'The last stage reached: request, wait, download (syncs through the API), then unpack, parse, merge, reconcile, record; for a failed run, where it stopped. ''start'' until the first stage begins.';
    comment on column tiktok_sync.sync_runs.stage_timings is 'Milliseconds spent in each stage, by stage name (see stage).';
  `.execute(db);
}
