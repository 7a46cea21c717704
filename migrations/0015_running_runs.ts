import { type Kysely, sql } from 'kysely';

/**
 * The runs still `running`, for the look every command takes at them as it starts
 * (src/ingest/runs.ts, closeStoppedRuns): one index entry per run in progress, however many runs the
 * table holds.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create index sync_runs_running on tiktok_sync.sync_runs (account_id, run_id) where status = 'running';
  `.execute(db);
}
