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
   * SQL expressions over the staged (text) columns that identify a record. Two records with equal
   * keys in one export are told apart by their occurrence number.
   */
  readonly key: readonly string[];
  /** Columns stored but not compared: a new value alone is not a change (e.g. signed, expiring URLs). */
  readonly volatile: readonly string[];
  /**
   * When the record happened (the first time column of the key, else the first time column): a
   * record older than everything an export holds has aged out of TikTok's retention rather than
   * been withdrawn. Undefined for tables without a time.
   */
  readonly timeColumn: string | undefined;
}

/** A key entry: a column, or the first non-null of several (`coalesce(video_id, link)`). */
function keyExpression(entry: string | readonly string[]): string {
  return typeof entry === 'string' ? entry : entry.length === 1 ? entry[0]! : `coalesce(${entry.join(', ')})`;
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
    // A table without a key holds one record per account (the profile): a constant key.
    key: def.key.length === 0 ? [`'${def.table}'`] : def.key.map(keyExpression),
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
 * An exact, immutable hash of text expressions: each value is length-prefixed (so no separator can
 * be forged by the data) and null is told apart from the empty string. Immutable, so Postgres can
 * compute it in a generated column while COPY loads the staging table.
 */
export function hashExpression(expressions: readonly string[]): string {
  const fields = expressions.map((e) => `coalesce(length(${e})::text || ':' || ${e}, '-')`);
  return `md5(${fields.join(` || ',' || `)})::uuid`;
}

/** Columns compared to decide whether a stored record changed. */
export function comparedColumns(spec: TableSpec): string[] {
  return spec.columns.map((c) => c.name).filter((name) => !spec.volatile.includes(name));
}

/**
 * The staging table of a spec: every field as text (COPY's cheapest input), plus the record key and
 * row hash computed by Postgres as rows arrive, and the occurrence number (fixed up after loading
 * for the rare keys that appear more than once).
 */
export function stageDdl(spec: TableSpec): string {
  const own = [...(spec.partColumn ? ['part'] : []), ...spec.columns.map((c) => c.name)];
  const key = hashExpression([...(spec.partColumn ? ['part'] : []), ...spec.key]);
  const row = hashExpression(comparedColumns(spec));
  return `create temp table stage_${spec.table} (
    ${own.map((c) => `${c} text`).join(', ')},
    record_key uuid generated always as (${key}) stored,
    row_hash uuid generated always as (${row}) stored,
    occurrence integer not null default 1
  ) on commit drop`;
}
