import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cmdGrantAnalyst, grantAnalyst } from '../../src/cli/grant-analyst.js';
import type { Output } from '../../src/cli/output.js';
import { loadConfig } from '../../src/config.js';
import { ensureAccount } from '../../src/db/accounts.js';
import { DEFAULT_ARCHIVE_LIMITS } from '../../src/ingest/archive.js';
import { importArchive } from '../../src/ingest/import-archive.js';
import { silentLogger } from '../../src/logger.js';
import { generateUser, writeExport } from '../../src/synthetic/index.js';
import type { TikTokTables } from '../../src/tiktok/db-types.js';
import { Secret } from '../../src/tiktok/secret.js';
import { TokenStore } from '../../src/tiktok/tokens.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

const ROLE = `analyst_${randomBytes(4).toString('hex')}`;
const PASSWORD = `pw-${randomBytes(12).toString('hex')}`;

let database: TestDatabase;
let dir: string;
let analyst: pg.Client;

beforeAll(async () => {
  database = await createTestDatabase();
  dir = await mkdtemp(path.join(tmpdir(), 'analyst-'));
  const zip = path.join(dir, 'export.zip');
  await writeExport(
    generateUser({ seed: 9, username: 'analyst.synthetic', scale: 300 }),
    { era: '2025', format: 'json' },
    zip,
  );
  await importArchive(
    { database, logger: silentLogger(), limits: DEFAULT_ARCHIVE_LIMITS },
    { accountName: 'ana', zipPath: zip },
  );
  // Encrypted tokens to hide.
  const accountId = await ensureAccount(database.db, 'ana');
  const store = new TokenStore({
    db: database.db.withTables<TikTokTables>(),
    oauth: { refresh: async () => Promise.reject(new Error('unused')) } as never,
    encryptionKey: randomBytes(32),
  });
  await store.saveGrant(accountId, {
    accessToken: new Secret('act.analyst-must-not-see'),
    refreshToken: new Secret('rft.analyst-must-not-see'),
    openId: 'open-ana',
    scopes: ['portability.all.ongoing'],
    accessTokenExpiresAt: Date.now() + 86_400_000,
    refreshTokenExpiresAt: Date.now() + 365 * 86_400_000,
    tokenType: 'Bearer',
  });
  // The role an administrator would make, with a password to log in.
  await database.pool.query(`create role ${ROLE} login password '${PASSWORD}'`);
});

afterAll(async () => {
  await analyst?.end().catch(() => {});
  await database.pool.query(`drop owned by ${ROLE}`).catch(() => {});
  await database.drop();
  const admin = new pg.Client({ connectionString: inject('adminUrl') });
  await admin.connect();
  await admin.query(`drop role if exists ${ROLE}`);
  await admin.end();
  await rm(dir, { recursive: true, force: true });
});

async function denied(query: string): Promise<string | undefined> {
  try {
    await analyst.query(query);
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
}

describe('tiktok-sync grant-analyst', () => {
  it('grants the data tables and views, and says how to use the role', async () => {
    const lines: string[] = [];
    const output: Output = { out: (line = '') => lines.push(line), err: () => {}, interactive: false };
    const config = loadConfig({ env: { DATABASE_URL: database.url }, cwd: dir });
    await cmdGrantAnalyst(
      { config, logger: silentLogger(), database, signal: new AbortController().signal },
      output,
      ROLE,
    );
    expect(lines.join('\n')).toMatch(
      new RegExp(`Role \`${ROLE}\` can read the \\d+ tables and views of schema tiktok`),
    );
    expect(lines.join('\n')).not.toContain(PASSWORD);
    // Running it again changes nothing.
    expect((await grantAnalyst(database.pool, ROLE)).created).toBe(false);
  });

  it('lets the role log in and read every table and view of schema tiktok', async () => {
    const url = new URL(database.url);
    url.username = ROLE;
    url.password = PASSWORD;
    analyst = new pg.Client({ connectionString: url.toString() });
    await analyst.connect();
    const { rows } = await database.pool.query<{ name: string }>(
      `select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'tiktok' and c.relkind in ('r', 'v') order by 1`,
    );
    expect(rows.map((r) => r.name)).toEqual(
      expect.arrayContaining(['likes', 'watch_history', 'accounts', 'daily_activity']),
    );
    for (const { name } of rows) {
      await expect(analyst.query(`select count(*) from tiktok.${name}`), name).resolves.toBeDefined();
    }
    const watched = await analyst.query('select count(*)::int as n from tiktok.watch_history');
    expect(watched.rows[0].n).toBeGreaterThan(0);
    const accounts = await analyst.query('select * from tiktok.accounts');
    expect(Object.keys(accounts.rows[0])).toEqual([
      'account_id',
      'name',
      'open_id',
      'created_at',
      'timezone',
    ]);
    const fresh = await analyst.query(
      'select account, last_success_at, rows_per_table from tiktok.sync_freshness',
    );
    expect(fresh.rows[0].last_success_at).not.toBeNull();
    expect(fresh.rows[0].rows_per_table.watch_history).toBe(watched.rows[0].n);
  });

  it('finds every join it needs as a foreign key in information_schema, as BI tools do', async () => {
    const { rows } = await analyst.query<{
      from_table: string;
      from_column: string;
      to_table: string;
      to_column: string;
    }>(
      `select kcu.table_name as from_table, kcu.column_name as from_column,
              ccu.table_name as to_table, ccu.column_name as to_column
       from information_schema.referential_constraints rc
       join information_schema.key_column_usage kcu
         on kcu.constraint_schema = rc.constraint_schema and kcu.constraint_name = rc.constraint_name
       join information_schema.key_column_usage ccu
         on ccu.constraint_schema = rc.unique_constraint_schema and ccu.constraint_name = rc.unique_constraint_name
         and ccu.ordinal_position = kcu.position_in_unique_constraint
       where kcu.table_schema = 'tiktok'`,
    );
    const joins = new Set(
      rows.map((r) => `${r.from_table}.${r.from_column} -> ${r.to_table}.${r.to_column}`),
    );
    // Every data table of schema tiktok refers to its account.
    const { rows: tables } = await database.pool.query<{ name: string }>(
      `select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where n.nspname = 'tiktok' and c.relkind = 'r' and c.relname <> 'accounts'`,
    );
    expect(tables.length).toBeGreaterThan(25);
    for (const { name } of tables) expect(joins, name).toContain(`${name}.account_id -> accounts.account_id`);
    expect(joins).toContain('dm_messages.conversation_id -> dm_conversations.conversation_id');
    expect(joins).toContain('live_comments.session_id -> live_sessions.session_id');
    // The account table itself is readable: the joins end somewhere the role can go.
    const named = await analyst.query(
      `select count(*)::int as n from tiktok.dm_messages m join tiktok.dm_conversations c using (conversation_id)`,
    );
    const all = await analyst.query('select count(*)::int as n from tiktok.dm_messages');
    expect(named.rows[0].n).toBe(all.rows[0].n);
    expect(all.rows[0].n).toBeGreaterThan(0);
  });

  it('keeps the tokens and the bookkeeping out of its reach', async () => {
    expect(await denied('select * from tiktok_sync.credentials')).toBe('42501');
    expect(await denied('select access_token_ciphertext from tiktok_sync.credentials')).toBe('42501');
    expect(await denied('select * from tiktok_sync.sync_runs')).toBe('42501');
    expect(await denied('select * from tiktok_sync.accounts')).toBe('42501');
  });

  it('keeps contact data, places, payments and raw sections apart unless asked for', async () => {
    for (const table of [
      'profile',
      'raw_sections',
      'refused_records',
      'locations',
      'shop_addresses',
      'payment_methods',
      'private_values',
    ]) {
      expect(await denied(`select * from tiktok_private.${table}`), table).toBe('42501');
    }
    // The analysts' profile is a view without email, phone and birth date.
    const { rows, fields } = await analyst.query('select * from tiktok.profile');
    expect(rows).toHaveLength(1);
    expect(fields.map((f) => f.name)).toEqual(expect.arrayContaining(['username', 'follower_count']));
    for (const column of ['email', 'phone', 'birth_date', 'extra']) {
      expect(fields.map((f) => f.name)).not.toContain(column);
    }
    const locations = await database.pool.query('select count(*)::int as n from tiktok_private.locations');
    expect(locations.rows[0].n).toBeGreaterThan(0);

    expect((await grantAnalyst(database.pool, ROLE, { includePrivate: true })).includesPrivate).toBe(true);
    const granted = await analyst.query('select email from tiktok_private.profile');
    expect(granted.rows).toHaveLength(1);
    expect(await denied("update tiktok_private.profile set email = 'x'")).toBe('42501');

    // Granting again without the option takes it back.
    await grantAnalyst(database.pool, ROLE);
    expect(await denied('select email from tiktok_private.profile')).toBe('42501');
    expect(await denied('select * from tiktok_private.raw_sections')).toBe('42501');
  });

  it('refuses every write', async () => {
    expect(
      await denied(
        `insert into tiktok.searches (account_id, first_seen_run_id, searched_at, term) values (1, 1, now(), 'x')`,
      ),
    ).toBe('42501');
    expect(await denied("update tiktok.watch_history set title = 'x'")).toBe('42501');
    expect(await denied('delete from tiktok.likes')).toBe('42501');
    expect(await denied('truncate tiktok.likes')).toBe('42501');
    expect(await denied("update tiktok_sync.credentials set status = 'revoked'")).toBe('42501');
    expect(await denied('create table tiktok.mine (x int)')).toBe('42501');
    expect(await denied('create table public.mine (x int)')).toBe('42501');
  });

  it('reads tables added after the grant', async () => {
    await database.pool.query(
      'create table tiktok.added_later (x int); insert into tiktok.added_later values (1)',
    );
    const { rows } = await analyst.query('select x from tiktok.added_later');
    expect(rows).toEqual([{ x: 1 }]);
    expect(await denied('insert into tiktok.added_later values (2)')).toBe('42501');
  });

  it('refuses a role name that is not a plain identifier', async () => {
    await expect(grantAnalyst(database.pool, 'x; drop table tiktok.likes')).rejects.toMatchObject({
      code: 'role_name_invalid',
    });
  });
});
