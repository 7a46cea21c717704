import {
  CATALOG,
  type ColumnType,
  TABLE_NAMES,
  type TableDef,
  type TableName,
} from '../parsers/catalog/index.js';

/**
 * How each parsed row lands in its table: which columns, of what type, and which of them form the
 * record's natural key, derived from the catalog (src/parsers/catalog). The merge (see merge.ts) is
 * generated from this one description, so every table follows the same de-duplication rules. The
 * DDL lives in migrations/; a test checks that the two agree, both ways.
 */

export type { ColumnType } from '../parsers/catalog/index.js';

export interface ColumnSpec {
  /** Column in the table. */
  readonly name: string;
  /** Field of the parsed row (records.ts) that fills it. */
  readonly field: string;
  readonly type: ColumnType;
}

export interface TableSpec {
  readonly table: TableName;
  /** `tiktok`, or `tiktok_private` for what analysts do not get unless asked. */
  readonly schema: 'tiktok' | 'tiktok_private';
  /** The column that holds `RecordEvent.part` (favorite kind, DM kind…), if the table has parts. */
  readonly partColumn: string | undefined;
  readonly columns: readonly ColumnSpec[];
  /**
   * The fields that identify a record (hashed into its record key, record-hash.ts): per entry, the
   * fields of which the first non-null counts; a table without a key has the constant `constantKey`.
   * Two records with equal keys in one export are told apart by their occurrence number.
   */
  readonly keyFields: readonly (readonly string[])[];
  readonly constantKey: string | undefined;
  /** Columns stored but not compared: a new value alone is not a change (e.g. signed, expiring URLs). */
  readonly volatile: readonly string[];
  /**
   * When the record happened (the first time column of the key, else the first time column): a
   * record older than everything an export holds has aged out of TikTok's retention rather than
   * been withdrawn. Undefined for tables without a time.
   */
  readonly timeColumn: string | undefined;
}

function timeColumnOf(def: TableDef): string | undefined {
  const times = Object.entries(def.columns)
    .filter(([, c]) => c.type === 'timestamptz')
    .map(([name]) => name);
  return (
    def.key.find((entry): entry is string => typeof entry === 'string' && times.includes(entry)) ?? times[0]
  );
}

function specOf(def: TableDef): TableSpec {
  const columns: ColumnSpec[] = Object.entries(def.columns).map(([name, c]) => ({
    name,
    field: name,
    type: c.type,
  }));
  if (def.extra !== false) columns.push({ name: 'extra', field: 'extra', type: 'jsonb' });
  return {
    table: def.table as TableName,
    schema: def.schema,
    partColumn: def.part,
    columns,
    keyFields: def.key.map((entry) => (typeof entry === 'string' ? [entry] : entry)),
    // A table without a key holds one record per account (the profile): a constant key.
    constantKey: def.key.length === 0 ? def.table : undefined,
    volatile: Object.entries(def.columns)
      .filter(([, c]) => c.volatile)
      .map(([name]) => name),
    timeColumn: timeColumnOf(def),
  };
}

/** The staging and merge spec of every table, from the catalog. */
export const TABLE_SPECS: Readonly<Record<TableName, TableSpec>> = Object.fromEntries(
  TABLE_NAMES.map((name) => [name, specOf(CATALOG[name])]),
) as Record<TableName, TableSpec>;

/** The stored table of a spec, schema-qualified. */
export const targetTable = (spec: TableSpec) => `${spec.schema}.${spec.table}`;

/** A data table, schema-qualified. */
export const qualified = (table: TableName) => targetTable(TABLE_SPECS[table]);

/** The schemas that hold the export's data (the bookkeeping is in `tiktok_sync`). */
export const DATA_SCHEMAS: readonly TableSpec['schema'][] = ['tiktok', 'tiktok_private'];

export const stageTable = (table: TableName | 'raw' | 'refused') => `pg_temp.stage_${table}`;

/**
 * The record key and row hash in SQL: an exact hash of text expressions, each value length-prefixed
 * (so no separator can be forged by the data) and null told apart from the empty string. The import
 * computes the same hashes in Node (record-hash.ts; a test holds the two equal); this form is for SQL
 * that derives them from stored text.
 */
function hashExpression(expressions: readonly string[]): string {
  const fields = expressions.map((e) => `coalesce(length(${e})::text || ':' || ${e}, '-')`);
  return `md5(${fields.join(` || ',' || `)})::uuid`;
}

/** Columns compared to decide whether a stored record changed. */
export function comparedColumns(spec: TableSpec): string[] {
  return spec.columns.map((c) => c.name).filter((name) => !spec.volatile.includes(name));
}

/** A key entry in SQL: a column, or the first non-null of several (`coalesce(video_id, link)`). */
const keyEntry = (fields: readonly string[]) =>
  fields.length === 1 ? fields[0]! : `coalesce(${fields.join(', ')})`;

/** The record key in SQL, over a row's text columns named as in the staging table (`part` first). */
export function recordKeyExpression(spec: TableSpec): string {
  const key = spec.constantKey !== undefined ? [`'${spec.constantKey}'`] : spec.keyFields.map(keyEntry);
  return hashExpression([...(spec.partColumn ? ['part'] : []), ...key]);
}

/** The row hash in SQL, over a row's text columns. */
export const rowHashExpression = (spec: TableSpec): string => hashExpression(comparedColumns(spec));

/**
 * The staging table of a spec: what the merge has to look at (records new in a way only Postgres can
 * settle, changed, or back after a removal; see stage.ts), every field as text (COPY's cheapest
 * input), with the record key and row hash computed in Node (record-hash.ts) and the occurrence
 * number, null where it is left to the merge (a key this export may repeat).
 */
export function stageDdl(spec: TableSpec): string {
  return `create temp table stage_${spec.table} (
    ${stagedColumns(spec)
      .map((c) => `${c} text`)
      .join(', ')},
    record_key uuid not null,
    row_hash uuid not null,
    occurrence integer
  ) on commit drop`;
}

/** The text columns of a staged row, in COPY order: the part (if any), then the spec's columns. */
export function stagedColumns(spec: TableSpec): string[] {
  return [...(spec.partColumn ? ['part'] : []), ...spec.columns.map((c) => c.name)];
}

/** The stored columns of the same fields: the table's part column for `part`. */
export function ownColumns(spec: TableSpec): string[] {
  return [...(spec.partColumn ? [spec.partColumn] : []), ...spec.columns.map((c) => c.name)];
}
