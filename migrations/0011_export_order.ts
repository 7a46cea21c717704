import { type Kysely, sql } from 'kysely';

/**
 * When TikTok made each export, and which parts of which sections it held, so that exports are
 * merged in their own order (src/ingest/export-order.ts): an export older than one already stored
 * adds what was never seen, but never marks the newer export's records removed, never updates them
 * with older values and never replaces the current profile. Also which export root was read when an
 * archive held several (`import --member`).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table tiktok_sync.archives
      add column exported_at timestamptz,
      add column exported_at_source text
        check (exported_at_source in ('collect_time', 'apply_time', 'file_name', 'member_times', 'import_time')),
      add column present_parts jsonb,
      add column export_root text;
    update tiktok_sync.archives set
      exported_at = coalesce(
        to_timestamp(nullif(substring(file_name from '^TikTok_Data_(\\d{9,11})\\.zip$'), '')::bigint),
        imported_at),
      exported_at_source = case
        when file_name ~ '^TikTok_Data_\\d{9,11}\\.zip$' then 'file_name' else 'import_time' end;
    alter table tiktok_sync.archives
      alter column exported_at set not null,
      alter column exported_at_source set not null;
    create index archives_account_exported_idx on tiktok_sync.archives (account_id, exported_at);
    comment on column tiktok_sync.archives.exported_at is 'When TikTok made the export, as well as it can be told (exported_at_source says how); exports are merged in this order.';
    comment on column tiktok_sync.archives.exported_at_source is 'Where exported_at comes from, most trusted first: collect_time or apply_time (the data request''s Check), file_name (TikTok_Data_<unix seconds>.zip), member_times (the newest time of the files in it), import_time (nothing better: when it was imported).';
    comment on column tiktok_sync.archives.present_parts is 'The sections (table → parts) and unmodeled section paths (raw_sections) the export held, even when empty; null for archives imported before this was recorded (then taken as holding every part).';
    comment on column tiktok_sync.archives.export_root is 'The export read, when the archive held several and one was picked (import --member); null when it held one.';

    alter table tiktok.profile_snapshots add column exported_at timestamptz;
    update tiktok.profile_snapshots s set exported_at = a.exported_at
      from tiktok_sync.archives a where a.archive_id = s.archive_id;
    update tiktok.profile_snapshots set exported_at = captured_at where exported_at is null;
    alter table tiktok.profile_snapshots alter column exported_at set not null;
    comment on column tiktok.profile_snapshots.exported_at is 'When TikTok made the export the counts came from (tiktok_sync.archives.exported_at); snapshots are in this order.';
  `.execute(db);
}
