import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

const TABLES = ['credentials', 'data_requests', 'webhook_events'];

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.drop();
});

describe('migration 0003', () => {
  it('comments every table and column it creates', async () => {
    const missing = await database.pool.query(
      `select c.relname, a.attname
         from pg_class c
         join pg_namespace n on n.oid = c.relnamespace and n.nspname = 'tiktok_sync'
         left join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
        where c.relname = any($1) and c.relkind = 'r'
          and (obj_description(c.oid, 'pg_class') is null or col_description(c.oid, a.attnum) is null)`,
      [TABLES],
    );
    expect(missing.rows).toEqual([]);
  });

  it('leads every key of the account tables with account_id', async () => {
    const keys = await database.pool.query(
      `select t.relname as table, i.relname as index, pg_get_indexdef(x.indexrelid) as def
         from pg_index x
         join pg_class t on t.oid = x.indrelid
         join pg_class i on i.oid = x.indexrelid
         join pg_namespace n on n.oid = t.relnamespace and n.nspname = 'tiktok_sync'
        where t.relname in ('credentials', 'data_requests') and (x.indisprimary or x.indisunique)`,
    );
    expect(keys.rows.length).toBeGreaterThanOrEqual(3);
    for (const row of keys.rows) expect(row.def).toMatch(/\(account_id[,)]/);
  });

  it('allows one unfinished request per account', async () => {
    await database.pool.query(`insert into tiktok_sync.accounts (name) values ('one')`);
    const insert = (id: string) =>
      database.pool.query(
        `insert into tiktok_sync.data_requests (account_id, request_id, status, data_format, categories, added_at)
         select account_id, $1, 'pending', 'json', '{all_data}', now() from tiktok_sync.accounts where name = 'one'`,
        [id],
      );
    await insert('7412345678901234567');
    await expect(insert('7412345678901242486')).rejects.toMatchObject({ code: '23505' });
    await expect(insert('74123456789012345678901')).rejects.toMatchObject({ code: '23514' });
  });
});
