/**
 * What the parsers produce: a stream of {@link ParseEvent}s, one row shape per target table (declared
 * in catalog/), whatever the export era (2021–23 `user_data.json`, late-2025 and 2026
 * `user_data_tiktok.json`) or format (JSON, TXT).
 *
 * Conventions for every row (the value policy, docs/data-model.md):
 * - Timestamps are ISO-8601 UTC strings (`2024-05-01T12:34:56Z`); export dates carry no zone or a
 *   trailing ` UTC`, and both mean UTC.
 * - TikTok ids and counts are decimal strings, never JS numbers (ids exceed 2^53).
 * - A value that cannot be read — a sentinel or impossible date, a placeholder (`N/A`, `None`,
 *   `null`), the wrong type — becomes `null`, its original stays in `extra` under its own key, and a
 *   warning counts it per section and field. `""` and JSON `null` are simply empty.
 * - Text has NUL characters removed (Postgres rejects `\u0000`); each removal is reported as a warning.
 * - `extra` holds the record's keys that we do not model, as JSON text with numbers kept exact, or
 *   `null` when there are none; unknown keys are also reported as warnings.
 * - A record whose natural key is all null is refused: kept whole as a {@link RefusedEvent}.
 */
import type { TableName, TableRows } from './catalog/index.js';

export { TABLE_NAMES, type TableName, type TableRows } from './catalog/index.js';

/** ISO-8601 UTC timestamp string, e.g. `2024-05-01T12:34:56Z`. */
export type Timestamp = string;
/** Decimal digits, kept as text so that 19-digit ids survive exactly. */
export type Int64 = string;
/** JSON text (numbers written exactly as they appeared in the export). */
export type JsonText = string;

/**
 * A section of the export was present (even when empty: `null`, `[]`, `{}`). The loader only marks
 * rows as removed in (table, part) pairs that the export announced this way, so categories absent
 * from an export are left alone.
 */
export interface SectionEvent {
  kind: 'section';
  table: TableName;
  /** Sub-kind within the table (favorite kind, DM kind, live kind…); `''` when the table has none. */
  part: string;
  /** Where it was found, e.g. `Your Activity/Watch History` or `Activity/Browsing History.txt`. */
  path: string;
}

export type RecordEvent = {
  [T in TableName]: { kind: 'record'; table: T; part: string; row: TableRows[T] };
}[TableName];

/** An unmodeled section kept as JSON (one per archive and section path). */
export interface RawEvent {
  kind: 'raw';
  /** e.g. `Ads and data/Off TikTok Activity` or `TikTok Shopping/Order History.txt`. */
  path: string;
  json: JsonText;
}

/** Something odd but survivable: an unknown key or section, a stripped NUL, an unparseable leaf. */
export interface WarningEvent {
  kind: 'warning';
  code: 'unknown_section' | 'unknown_key' | 'nul_stripped' | 'bad_value' | 'unknown_member' | string;
  message: string;
  /** The section (or file) it concerns; warnings are counted per code, path and field. */
  path: string;
  /** The field it concerns, for warnings about one value (`Date`, `UserName`). */
  field?: string;
}

/** A record that could not be stored in its table (nothing identifies it), kept whole instead. */
export interface RefusedEvent {
  kind: 'refused';
  /** Where it was, e.g. `Your Activity/Watch History/VideoList[12]`. */
  path: string;
  /** The table it was meant for. */
  table: TableName;
  /** The record as JSON text, exactly as exported. */
  json: JsonText;
  /** Why it was refused, as a sentence. */
  reason: string;
}

export type ParseEvent = SectionEvent | RecordEvent | RawEvent | WarningEvent | RefusedEvent;

/** What format detection found. */
export interface ArchiveInfo {
  format: 'json' | 'txt';
  /** `2021-2023`, `2025`, `2026`, or `unknown`. */
  era: string;
}
