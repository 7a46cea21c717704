/**
 * The analysts' views: `tiktok.events`, the daily views in UTC and in the account's own zone, and
 * `tiktok.sync_freshness`, checked against the tables they summarise and under several session time
 * zones (as BI tools set them).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setAccountTimezone } from '../../src/db/account-admin.js';
import { connectTo } from '../../src/db/connect.js';
import { DEFAULT_ARCHIVE_LIMITS } from '../../src/ingest/archive.js';
import { importArchive } from '../../src/ingest/import-archive.js';
import { silentLogger } from '../../src/logger.js';
import { generateUser, writeExport } from '../../src/synthetic/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

let database: TestDatabase;
let dir: string;
const EPOCH = 1_764_000_000;

beforeAll(async () => {
  database = await createTestDatabase();
  dir = await mkdtemp(path.join(tmpdir(), 'views-test-'));
  const user = generateUser({ seed: 71, username: 'views.synthetic', scale: 300 });
  const zipPath = path.join(dir, `TikTok_Data_${EPOCH}.zip`);
  await writeExport(user, { era: '2025', format: 'json' }, zipPath);
  const handle = connectTo(database.url);
  try {
    await importArchive(
      { database: handle, logger: silentLogger(), limits: DEFAULT_ARCHIVE_LIMITS },
      { accountName: 'views', zipPath },
    );
  } finally {
    await handle.close();
  }
  await setAccountTimezone(database.pool, 'views', 'Asia/Tokyo');
});
afterAll(async () => {
  await database?.drop();
  await rm(dir, { recursive: true, force: true });
});

/** Runs the queries on one connection whose session time zone is `zone`. */
async function inZone<T>(zone: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    await client.query(`set timezone = '${zone}'`);
    return await work(client);
  } finally {
    await client.end();
  }
}

const rowsOf = async (client: pg.Client, text: string) =>
  (await client.query(text)).rows.map((row) => JSON.stringify(row));

describe('analyst views', () => {
  it('give the same answers whatever the session time zone', async () => {
    const answers = async (client: pg.Client) => ({
      daily: await rowsOf(
        client,
        'select day_utc::text, videos_watched, messages, events from tiktok.daily_activity order by day_utc',
      ),
      local: await rowsOf(
        client,
        'select day_local::text, videos_watched, events from tiktok.daily_activity_local order by day_local',
      ),
      hours: await rowsOf(
        client,
        `select hour_utc, hour_local, weekday_local, count(*)::int as n from tiktok.events
         group by 1, 2, 3 order by 1, 2, 3`,
      ),
    });
    const utc = await inZone('UTC', answers);
    expect(utc.daily.length).toBeGreaterThan(10);
    for (const zone of ['America/Los_Angeles', 'Asia/Kolkata', 'Pacific/Chatham']) {
      expect(await inZone(zone, answers), zone).toEqual(utc);
    }
  });

  it('count every timestamped record once in tiktok.events, in UTC and in the account zone', async () => {
    const pool = database.pool;
    const sources: [string, string, string][] = [
      ['watched', 'tiktok.watch_history', 'watched_at'],
      ['liked', 'tiktok.likes', 'liked_at'],
      ['searched', 'tiktok.searches', 'searched_at'],
      ['messaged', 'tiktok.dm_messages', 'sent_at'],
      ['logged_in', 'tiktok.logins', 'logged_in_at'],
      ['followed', 'tiktok.following', 'followed_at'],
    ];
    for (const [kind, table, column] of sources) {
      const { rows } = await pool.query(
        `select (select count(*)::int from ${table} where ${column} is not null) as source,
                (select count(*)::int from tiktok.events where kind = $1) as events`,
        [kind],
      );
      expect(rows[0].events, kind).toBe(rows[0].source);
      expect(rows[0].source, kind).toBeGreaterThan(0);
    }
    // Days and hours are computed in the zone they name, not the session's.
    const { rows } = await pool.query<{ at: Date; day_utc: string; hour_local: number; day_local: string }>(
      `select at, day_utc::text, hour_local, day_local::text from tiktok.events where kind = 'watched' limit 50`,
    );
    const tokyo = new Intl.DateTimeFormat('en-CA', {
      timeZone: 'Asia/Tokyo',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      hourCycle: 'h23',
    });
    for (const row of rows) {
      expect(row.day_utc).toBe(row.at.toISOString().slice(0, 10));
      const parts = Object.fromEntries(tokyo.formatToParts(row.at).map((p) => [p.type, p.value]));
      expect(row.day_local).toBe(`${parts.year}-${parts.month}-${parts.day}`);
      expect(row.hour_local).toBe(Number(parts.hour));
    }
  });

  it('tell how fresh the data is, per account', async () => {
    const { rows } = await database.pool.query(
      `select account, last_success_at is not null as synced, last_exported_at, exported_at_source,
         newest_export_at, successful_runs::int, rows_per_table
       from tiktok.sync_freshness where account = 'views'`,
    );
    const fresh = rows[0];
    expect(fresh).toMatchObject({ synced: true, exported_at_source: 'file_name', successful_runs: 1 });
    expect(fresh.last_exported_at).toEqual(new Date(EPOCH * 1000));
    expect(fresh.newest_export_at).toEqual(new Date(EPOCH * 1000));
    const { rows: watched } = await database.pool.query(
      'select count(*)::int as n from tiktok.watch_history where removed_at is null',
    );
    expect(fresh.rows_per_table.watch_history).toBe(watched[0].n);
  });

  it('refuses a time zone the database does not know, naming it', async () => {
    await expect(setAccountTimezone(database.pool, 'views', 'Mars/Olympus')).rejects.toThrow(
      /`Mars\/Olympus` is not a time zone this database knows/,
    );
    await expect(setAccountTimezone(database.pool, 'nobody', 'UTC')).rejects.toThrow(/nobody/);
  });
});
