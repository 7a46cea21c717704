/**
 * The load ceiling: the parser's rows, encoded with the project's own COPY encoding, loaded with plain
 * `COPY` into the real target tables (same columns, indexes and foreign key as the merge writes). The
 * COPY text is written in a setup step, so the timed load does no parsing and no encoding.
 *
 * What is not the merge's: `record_key` and `row_hash` are MD5-derived UUIDs of the row's position
 * (unique, and as randomly spread over the primary-key index as the real hashes), computed in the
 * setup step; `occurrence` is left to its default (1); `first_seen_run_id` is 1.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { copyField } from '../src/db/copy.js';
import { DEFAULT_ARCHIVE_LIMITS, openArchive } from '../src/ingest/archive.js';
import { DATA_SCHEMAS, qualified, TABLE_SPECS } from '../src/ingest/tables.js';
import type { TableName } from '../src/parsers/records.js';
import { BENCH_APPLICATION } from './protocol.js';

interface CopyTable {
  table: TableName;
  columns: string[];
  file: string;
  rows: number;
}

export interface CopyManifest {
  records: number;
  tables: CopyTable[];
}

const MANIFEST = 'manifest.json';
const FLUSH_CHARS = 1 << 20;

interface ColumnInfo {
  table_name: string;
  column_name: string;
  data_type: string;
  required: boolean;
}

/** A value for a required column that the parser does not fill (bookkeeping columns). */
type Filler = (table: string, row: number) => string;

function fillerFor(column: ColumnInfo, accountId: string): Filler {
  if (column.column_name === 'account_id') return () => accountId;
  if (column.data_type === 'uuid') {
    const salt = column.column_name;
    return (table, row) => createHash('md5').update(`${table}:${salt}:${row}`).digest('hex');
  }
  if (column.data_type === 'bigint' || column.data_type === 'integer') return () => '1';
  throw new Error(
    `${column.table_name}.${column.column_name} (${column.data_type}) is required and has no default; bench/copy-baseline.ts does not know how to fill it. Add a filler for it.`,
  );
}

/** Parses the archive once and writes one COPY text file per table, plus a manifest. */
export async function writeCopyFiles(
  zipPath: string,
  databaseUrl: string,
  outDir: string,
): Promise<CopyManifest> {
  await mkdir(outDir, { recursive: true });
  const client = new pg.Client({ connectionString: databaseUrl, application_name: BENCH_APPLICATION });
  await client.connect();
  let accountId: string;
  let columns: ColumnInfo[];
  try {
    accountId = (
      await client.query<{ account_id: string }>(
        "insert into tiktok_sync.accounts (name) values ('bench-copy') returning account_id",
      )
    ).rows[0]!.account_id;
    columns = (
      await client.query<ColumnInfo>(
        `select table_name, column_name, data_type,
           (is_nullable = 'NO' and column_default is null and is_generated = 'NEVER' and is_identity = 'NO') as required
         from information_schema.columns where table_schema = any($1) order by ordinal_position`,
        [DATA_SCHEMAS],
      )
    ).rows;
  } finally {
    await client.end();
  }

  const writers = new Map<
    TableName,
    { out: WriteStream; pending: string; table: CopyTable; fill: Filler[] }
  >();
  const writerFor = (table: TableName) => {
    let writer = writers.get(table);
    if (writer) return writer;
    const spec = TABLE_SPECS[table];
    const own = [...(spec.partColumn ? [spec.partColumn] : []), ...spec.columns.map((c) => c.name)];
    const extra = columns.filter((c) => c.table_name === table && c.required && !own.includes(c.column_name));
    const file = path.join(outDir, `${table}.copy`);
    writer = {
      out: createWriteStream(file),
      pending: '',
      table: { table, columns: [...extra.map((c) => c.column_name), ...own], file, rows: 0 },
      fill: extra.map((c) => fillerFor(c, accountId)),
    };
    writers.set(table, writer);
    return writer;
  };
  const flush = async (writer: { out: WriteStream; pending: string }) => {
    const chunk = writer.pending;
    writer.pending = '';
    if (!writer.out.write(chunk)) await once(writer.out, 'drain');
  };

  let records = 0;
  const archive = await openArchive(zipPath, { limits: DEFAULT_ARCHIVE_LIMITS });
  try {
    for await (const event of archive.events()) {
      if (event.kind !== 'record') continue;
      records += 1;
      const writer = writerFor(event.table);
      const spec = TABLE_SPECS[event.table];
      const values = event.row as unknown as Record<string, string | null>;
      const n = writer.table.rows++;
      let line = '';
      for (const fill of writer.fill) line += `${fill(event.table, n)}\t`;
      if (spec.partColumn) line += `${copyField(event.part)}\t`;
      for (const column of spec.columns) line += `${copyField(values[column.field])}\t`;
      writer.pending += `${line.slice(0, -1)}\n`;
      if (writer.pending.length >= FLUSH_CHARS) await flush(writer);
    }
  } finally {
    await archive.close();
  }
  for (const writer of writers.values()) {
    await flush(writer);
    writer.out.end();
    await once(writer.out, 'finish');
  }
  const manifest: CopyManifest = { records, tables: [...writers.values()].map((w) => w.table) };
  await writeFile(path.join(outDir, MANIFEST), JSON.stringify(manifest, null, 2));
  return manifest;
}

export async function readManifest(outDir: string): Promise<CopyManifest> {
  return JSON.parse(await readFile(path.join(outDir, MANIFEST), 'utf8')) as CopyManifest;
}

/** Loads every table's COPY file into its target, table after table, in one transaction. */
export async function loadCopyFiles(
  client: pg.ClientBase,
  manifest: CopyManifest,
): Promise<Record<string, number>> {
  const perTableMs: Record<string, number> = {};
  await client.query('begin');
  for (const table of manifest.tables) {
    const started = performance.now();
    const copy = client.query(
      copyFrom(`copy ${qualified(table.table)} (${table.columns.join(', ')}) from stdin`),
    );
    await pipeline(createReadStream(table.file, { highWaterMark: 1 << 20 }), copy);
    perTableMs[table.table] = Math.round(performance.now() - started);
  }
  await client.query('commit');
  return perTableMs;
}
