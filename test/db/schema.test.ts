import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATA_SCHEMAS, TABLE_SPECS } from '../../src/ingest/tables.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

describe('schema', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database.drop();
  });

  it('has a table with matching column types for every table spec the loader writes', async () => {
    const { rows } = await database.pool.query<{
      table_schema: string;
      table_name: string;
      column_name: string;
      data_type: string;
    }>(
      `select c.table_schema, c.table_name, c.column_name, c.data_type
       from information_schema.columns c
       join information_schema.tables t using (table_schema, table_name)
       where c.table_schema = any($1) and t.table_type = 'BASE TABLE'`,
      [DATA_SCHEMAS],
    );
    const types = new Map(rows.map((r) => [`${r.table_name}.${r.column_name}`, r.data_type]));
    const schemas = new Map(rows.map((r) => [r.table_name, r.table_schema]));
    const pgType = {
      text: 'text',
      timestamptz: 'timestamp with time zone',
      bigint: 'bigint',
      date: 'date',
      jsonb: 'jsonb',
    };
    for (const spec of Object.values(TABLE_SPECS)) {
      for (const column of spec.columns) {
        expect(types.get(`${spec.table}.${column.name}`), `${spec.table}.${column.name}`).toBe(
          pgType[column.type],
        );
      }
      if (spec.partColumn) expect(types.get(`${spec.table}.${spec.partColumn}`)).toBe('text');
      expect(schemas.get(spec.table), spec.table).toBe(spec.schema);
    }
  });

  it('has no data table or column that the catalog does not declare', async () => {
    const { rows } = await database.pool.query<{ table_name: string; column_name: string }>(
      `select c.table_name, c.column_name
       from information_schema.columns c
       join information_schema.tables t using (table_schema, table_name)
       where c.table_schema = any($1) and t.table_type = 'BASE TABLE'
         and c.table_name not in ('accounts', 'profile_snapshots', 'raw_sections', 'refused_records')`,
      [DATA_SCHEMAS],
    );
    const bookkeeping = new Set([
      'account_id',
      'record_key',
      'occurrence',
      'row_hash',
      'first_seen_at',
      'first_seen_run_id',
      'updated_at',
      'updated_run_id',
      'removed_at',
      'removed_run_id',
      'removed_reason',
      // Surrogate ids computed from the natural key, for BI tools' joins (migration 0014).
      'conversation_id',
      'session_id',
    ]);
    const declared = new Set<string>();
    for (const spec of Object.values(TABLE_SPECS)) {
      for (const column of spec.columns) declared.add(`${spec.table}.${column.name}`);
      if (spec.partColumn) declared.add(`${spec.table}.${spec.partColumn}`);
    }
    const undeclared = rows
      .filter((r) => !bookkeeping.has(r.column_name))
      .map((r) => `${r.table_name}.${r.column_name}`)
      .filter((name) => !declared.has(name));
    expect(undeclared).toEqual([]);
    const tables = new Set(rows.map((r) => r.table_name));
    expect([...tables].sort()).toEqual(Object.keys(TABLE_SPECS).sort());
  });

  it('comments every table, view and column of the data schema', async () => {
    const { rows } = await database.pool.query<{ what: string }>(
      `select c.relname || coalesce('.' || a.attname, '') as what
       from pg_class c
       join pg_namespace n on n.oid = c.relnamespace and n.nspname in ('tiktok', 'tiktok_sync', 'tiktok_private')
       left join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
       where c.relkind in ('r', 'v') and c.relname not like 'kysely%'
         and (case when a.attname is null then obj_description(c.oid, 'pg_class')
                   else col_description(c.oid, a.attnum) end) is null
         and (a.attname is not null or obj_description(c.oid, 'pg_class') is null)`,
    );
    expect(rows.map((r) => r.what)).toEqual([]);
  });

  it('leads every primary key and unique constraint of the data schema with account_id', async () => {
    const { rows } = await database.pool.query<{ name: string; first: string }>(
      `select con.conname as name, a.attname as first
       from pg_constraint con
       join pg_namespace n on n.oid = con.connamespace and n.nspname = any($1)
       join pg_attribute a on a.attrelid = con.conrelid and a.attnum = con.conkey[1]
       where con.contype in ('p', 'u') and con.conrelid <> 'tiktok.accounts'::regclass
         -- surrogate ids hash the account in, so they are unique on their own (migration 0014)
         and a.attname not in ('conversation_id', 'session_id')`,
      [DATA_SCHEMAS],
    );
    expect(rows.length).toBeGreaterThan(15);
    for (const row of rows) expect(row.first, row.name).toBe('account_id');
  });
});
