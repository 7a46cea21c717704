/**
 * The vocabulary of the section catalog: a table is declared once — its columns with their types and
 * the keys every era writes for them, its natural key, its part column, and the export sections
 * (JSON key paths and TXT file names of every era) that fill it. The lookups of the parsers
 * (sections.ts), the row mapping (row-mappers.ts), the row types (records.ts) and the staging and
 * merge specs (ingest/tables.ts) all derive from these declarations.
 */

export type ColumnType = 'text' | 'timestamptz' | 'bigint' | 'date' | 'jsonb';

/** Every value of a row is text (ids and counts as decimal digits, dates as ISO-8601 UTC) or null. */
export type Value = string | null;

export interface ColumnDef {
  readonly type: ColumnType;
  /**
   * Keys TikTok writes for this column, in every era and format (compared case-, space- and
   * punctuation-insensitively). The first one that holds a value fills the column; the others stay
   * in `extra`. Empty for derived columns.
   */
  readonly from: readonly string[];
  /** A column computed from the others (e.g. the video id inside a link), with the row's part. */
  readonly derive?: (row: Readonly<Record<string, Value>>, part: string) => Value;
  /** Stored but not compared: a new value alone is not a change (signed, expiring URLs). */
  readonly volatile?: boolean;
}

/** What a container of a section holds and how it is read. `lenient`: the shape is unverified. */
export type Target =
  /** A list of flat records, one row each, into `table` (with `part`). */
  | { kind: 'records'; table: string; part: string; lenient?: boolean }
  /** One object that is itself one record (`LocationData`, `ProfileMap`). */
  | { kind: 'record'; table: string; part: string }
  /** An object of settings-like leaves → key/value rows of `table` (nested keys joined with ` / `). */
  | { kind: 'values'; table: string; part: string }
  /** A string of `|`-separated items (or a list of strings) → one row per item in column `column`. */
  | { kind: 'items'; table: string; part: string; column: string }
  /** `{ "Chat History with <peer>:": [ {Date, From, Content} ] }`. */
  | { kind: 'chats'; part: 'direct' | 'group'; lenient?: boolean }
  /** `[ { "Chat Title", "Messages": [ {Date, Content} ] } ]`. */
  | { kind: 'tako' }
  /** `{ "<room id>": { WatchTime, Link, Comments: [...] } }`. */
  | { kind: 'watch_live' };

/** Container keys (aliases joined with `|`) mapped to a target or to deeper keys. */
export type ContainerSpec = Target | { readonly [aliases: string]: ContainerSpec };

/** One section of the export, as TikTok names it in every era and format. */
export interface SectionSpec {
  /** Unique id, used in messages and tests. */
  readonly id: string;
  /** Categories (top-level keys) that held it, oldest first (documentation; lookups go by name). */
  readonly categories: readonly string[];
  /** Section keys as TikTok writes them; TXT files carry the same names (`Like List.txt`). */
  readonly names: readonly string[];
  /** Unmodeled: kept whole in `raw_sections`, with the reason it is not modeled. */
  readonly raw?: string;
  /** Settings leaves → `settings` rows. */
  readonly settings?: true;
  readonly containers?: { readonly [aliases: string]: ContainerSpec };
  /** A list under an unexpected key, where the container name is unverified. */
  readonly anyList?: Target;
  /** What a TXT file of this section holds, when it is not the section's sole target. */
  readonly txt?: Target;
}

export interface TableDef {
  readonly table: string;
  /** `tiktok_private` holds what analysts do not get unless asked: contact data, places, payments. */
  readonly schema: 'tiktok' | 'tiktok_private';
  /** The column that holds the part (favorite kind, DM kind…), if the table has parts. */
  readonly part?: string;
  readonly columns: { readonly [column: string]: ColumnDef };
  /**
   * The natural key: each entry is a column, or a list of columns of which the first non-null one
   * counts (`['video_id', 'link']`). A record whose key entries are all null cannot be told apart
   * from others and is refused (kept in `refused_records`).
   */
  readonly key: readonly (string | readonly string[])[];
  /** Keys kept in `extra` without an `unknown_key` warning (known, but not worth a column). */
  readonly knownExtra?: readonly string[];
  /** False for tables without an `extra` column. */
  readonly extra?: boolean;
  readonly sections: readonly SectionSpec[];
}

export const text = (...from: string[]): ColumnDef => ({ type: 'text', from });
export const ts = (...from: string[]): ColumnDef => ({ type: 'timestamptz', from });
export const int = (...from: string[]): ColumnDef => ({ type: 'bigint', from });
export const date = (...from: string[]): ColumnDef => ({ type: 'date', from });
export const derived = (type: ColumnType, derive: NonNullable<ColumnDef['derive']>): ColumnDef => ({
  type,
  from: [],
  derive,
});
export const volatile = (column: ColumnDef): ColumnDef => ({ ...column, volatile: true });

export const records = (table: string, part = '', lenient = false): Target => ({
  kind: 'records',
  table,
  part,
  lenient,
});

/** Keys every era uses for a record's date. */
export const DATE = ['Date', 'Time'] as const;

/** A table declaration with its column names kept in the type (the row types derive from them). */
export function defineTable<const C extends { readonly [column: string]: ColumnDef }>(
  def: TableDef & { readonly columns: C },
): TableDef & { readonly columns: C } {
  return def;
}
