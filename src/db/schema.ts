import type { ColumnType, Generated, JSONColumnType } from 'kysely';

/** Types of the tables the application reads and writes through kysely (bookkeeping). */
export interface Database {
  'tiktok.accounts': AccountsTable;
  'tiktok_sync.archives': ArchivesTable;
  'tiktok_sync.sync_runs': SyncRunsTable;
}

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export interface AccountsTable {
  account_id: ColumnType<string, never, never>;
  name: string;
  open_id: string | null;
  created_at: Generated<Date>;
  /** IANA time zone of the account's local days and hours in the views (default UTC). */
  timezone: Generated<string>;
}

export interface ArchivesTable {
  account_id: string;
  archive_id: ColumnType<string, never, never>;
  sha256: Buffer;
  size_bytes: string | number;
  source: string;
  file_name: string | null;
  format: 'json' | 'txt';
  era: string;
  member_count: number;
  record_count: string | number;
  first_run_id: string;
  imported_at: Generated<Date>;
  kept_path: string | null;
  kept_at: Date | null;
  exported_at: Date;
  exported_at_source: ExportTimeSource;
  present_parts: ColumnType<PresentParts | null, string | null, string | null>;
  export_root: string | null;
}

/** Where an archive's export time comes from, most trusted first (src/ingest/export-order.ts). */
export type ExportTimeSource = 'collect_time' | 'apply_time' | 'file_name' | 'member_times' | 'import_time';

/** The sections an export held, even when empty: table → parts, and `raw_sections` → paths. */
export type PresentParts = Record<string, string[]>;

export type RunStatus = 'running' | 'succeeded' | 'failed';

export interface TableCounts {
  inserted: number;
  updated: number;
  unchanged: number;
  removed: number;
  restored: number;
}

/** Counts of a table that nothing happened to yet. */
export const emptyCounts = (): TableCounts => ({
  inserted: 0,
  updated: 0,
  unchanged: 0,
  removed: 0,
  restored: 0,
});

export interface WarningSummary {
  code: string;
  /** The section or file. */
  path: string;
  /** The field, for warnings about values (the value policy counts them per section and field). */
  field?: string;
  message: string;
  count: number;
}

export interface SyncRunsTable {
  account_id: string;
  run_id: ColumnType<string, never, never>;
  kind: 'import' | 'sync' | 'reprocess';
  status: Generated<RunStatus>;
  stage: Generated<string>;
  source: string;
  archive_id: string | null;
  request_id: string | null;
  started_at: Generated<Date>;
  finished_at: Timestamp | null;
  stage_timings: JSONColumnType<Record<string, number>>;
  counts: JSONColumnType<Record<string, TableCounts>>;
  warnings: JSONColumnType<WarningSummary[]>;
  warning_count: Generated<number>;
  error_code: string | null;
  error_message: string | null;
  /** Where an unusable archive was put aside (migration 0005). */
  quarantined_to: Generated<string | null>;
}
