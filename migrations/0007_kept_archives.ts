import { type Kysely, sql } from 'kysely';

/**
 * Imported archives kept by content hash (src/ingest/kept-archives.ts), and reprocess runs
 * (src/ingest/reprocess.ts) that read them again into the current schema.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table tiktok_sync.archives
      add column kept_path text,
      add column kept_at timestamptz;
    comment on column tiktok_sync.archives.kept_path is 'Where a copy of the archive is kept for tiktok-sync reprocess, relative to the kept-archives directory (archive.keptDir); null when it is not kept (archive.keep: none, or pruned by keep: N).';
    comment on column tiktok_sync.archives.kept_at is 'When the copy in kept_path was made.';

    alter table tiktok_sync.sync_runs drop constraint sync_runs_kind_check;
    alter table tiktok_sync.sync_runs add constraint sync_runs_kind_check
      check (kind in ('import', 'sync', 'reprocess'));
    comment on column tiktok_sync.sync_runs.kind is 'import: a local export; sync: a request made through the Data Portability API; reprocess: the kept archives of the account read again by the current parsers (archive_id is then the last of them).';
  `.execute(db);
}
