import { type Kysely, sql } from 'kysely';

/**
 * Two schemas: `tiktok` holds the users' data (what analysts read), `tiktok_sync` holds bookkeeping
 * (archives, runs) and, later, secrets. An analyst role can be granted the first without the second.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create schema if not exists tiktok;
    create schema if not exists tiktok_sync;
    comment on schema tiktok is 'TikTok users'' data from their Data Portability exports, one row per record, de-duplicated across exports. Read-only for analysts.';
    comment on schema tiktok_sync is 'Bookkeeping of tiktok-portability-sync: accounts, archives, sync runs. Not for analysts.';

    create table tiktok_sync.accounts (
      account_id bigint generated always as identity primary key,
      name text not null unique check (name <> ''),
      open_id text unique,
      created_at timestamptz not null default now()
    );
    comment on table tiktok_sync.accounts is 'One row per TikTok account whose data we keep.';
    comment on column tiktok_sync.accounts.account_id is 'Our id of the account; every data table carries it.';
    comment on column tiktok_sync.accounts.name is 'The name the operator gave the account (--account).';
    comment on column tiktok_sync.accounts.open_id is 'TikTok''s open_id of the user for our app, once the account is connected through OAuth.';
    comment on column tiktok_sync.accounts.created_at is 'When the account was first added.';

    create table tiktok_sync.sync_runs (
      account_id bigint not null references tiktok_sync.accounts (account_id),
      run_id bigint generated always as identity,
      kind text not null check (kind in ('import', 'sync')),
      status text not null default 'running' check (status in ('running', 'succeeded', 'failed')),
      stage text not null default 'start',
      source text not null,
      archive_id bigint,
      request_id text,
      started_at timestamptz not null default now(),
      finished_at timestamptz,
      stage_timings jsonb not null default '{}',
      counts jsonb not null default '{}',
      warnings jsonb not null default '[]',
      warning_count integer not null default 0,
      error_code text,
      error_message text,
      primary key (account_id, run_id),
      unique (run_id)
    );
    comment on table tiktok_sync.sync_runs is 'One row per import or sync: where it got to, how long each stage took, what it changed, and why it failed.';
    comment on column tiktok_sync.sync_runs.account_id is 'The account synced.';
    comment on column tiktok_sync.sync_runs.run_id is 'Id of the run; data rows point to the run that first saw, changed or removed them.';
    comment on column tiktok_sync.sync_runs.kind is 'import: a local zip file; sync: a request made through the Data Portability API.';
    comment on column tiktok_sync.sync_runs.status is 'running, succeeded or failed.';
    comment on column tiktok_sync.sync_runs.stage is 'The last stage reached (open, parse, stage, merge, finish…); for a failed run, where it stopped.';
    comment on column tiktok_sync.sync_runs.source is 'Where the archive came from: a file path or an API request.';
    comment on column tiktok_sync.sync_runs.archive_id is 'The archive this run imported, once known.';
    comment on column tiktok_sync.sync_runs.request_id is 'TikTok''s data request id (int64, as text), for API syncs.';
    comment on column tiktok_sync.sync_runs.started_at is 'When the run started.';
    comment on column tiktok_sync.sync_runs.finished_at is 'When the run ended, successfully or not.';
    comment on column tiktok_sync.sync_runs.stage_timings is 'Milliseconds spent in each stage, by stage name.';
    comment on column tiktok_sync.sync_runs.counts is 'Per table: rows inserted, updated, unchanged, removed and restored.';
    comment on column tiktok_sync.sync_runs.warnings is 'Warnings grouped by code and path (unknown sections and keys, stripped NUL characters…), with counts.';
    comment on column tiktok_sync.sync_runs.warning_count is 'Total number of warnings.';
    comment on column tiktok_sync.sync_runs.error_code is 'Machine-readable reason of a failure.';
    comment on column tiktok_sync.sync_runs.error_message is 'What went wrong and what to do, for a failed run.';

    create table tiktok_sync.archives (
      account_id bigint not null references tiktok_sync.accounts (account_id),
      archive_id bigint generated always as identity,
      sha256 bytea not null,
      size_bytes bigint not null,
      source text not null,
      file_name text,
      format text not null check (format in ('json', 'txt')),
      era text not null,
      member_count integer not null,
      record_count bigint not null,
      first_run_id bigint not null,
      imported_at timestamptz not null default now(),
      primary key (account_id, archive_id),
      unique (account_id, sha256),
      unique (archive_id)
    );
    comment on table tiktok_sync.archives is 'Every distinct export archive imported, identified by its SHA-256.';
    comment on column tiktok_sync.archives.account_id is 'The account the archive belongs to.';
    comment on column tiktok_sync.archives.archive_id is 'Our id of the archive.';
    comment on column tiktok_sync.archives.sha256 is 'SHA-256 of the zip file.';
    comment on column tiktok_sync.archives.size_bytes is 'Size of the zip file in bytes.';
    comment on column tiktok_sync.archives.source is 'Where it came from: a file path or an API request id.';
    comment on column tiktok_sync.archives.file_name is 'The zip file''s name.';
    comment on column tiktok_sync.archives.format is 'json or txt, as detected from its members.';
    comment on column tiktok_sync.archives.era is 'Export layout detected: 2021-2023 (user_data.json), 2025 or 2026 (user_data_tiktok.json), txt, or unknown.';
    comment on column tiktok_sync.archives.member_count is 'Number of files in the zip.';
    comment on column tiktok_sync.archives.record_count is 'Number of records parsed from it.';
    comment on column tiktok_sync.archives.first_run_id is 'The run that first imported it.';
    comment on column tiktok_sync.archives.imported_at is 'When it was first imported.';
  `.execute(db);
}
