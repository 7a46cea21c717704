import { type Kysely, sql } from 'kysely';

/**
 * Where a run that failed on an unusable archive put it aside (see src/ingest/quarantine.ts), so the
 * run record says both why the archive was refused and where it now is.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table tiktok_sync.sync_runs add column quarantined_to text;
    comment on column tiktok_sync.sync_runs.quarantined_to is 'For a run that failed because its archive is unusable (corrupt, unsafe, damaged): the file it was moved or copied to in the quarantine directory, next to a .reason.json that says why. Null otherwise.';
  `.execute(db);
}
