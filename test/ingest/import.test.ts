import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArchiveError } from '../../src/errors.js';
import { qualified } from '../../src/ingest/tables.js';
import type { TableName } from '../../src/parsers/records.js';
import {
  type Era,
  type ExportFormat,
  evolve,
  generateUser,
  type RenderOptions,
  writeExport,
} from '../../src/synthetic/index.js';
import { tableCounts as countsOf } from '../helpers/counts.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { importInto } from '../helpers/import.js';
import { dataTableWrites } from '../helpers/stats.js';

const VARIANTS: [Era, ExportFormat][] = [
  ['2021-2023', 'json'],
  ['2025', 'json'],
  ['2026', 'json'],
  ['2021-2023', 'txt'],
  ['2025', 'txt'],
  ['2026', 'txt'],
];

describe('importArchive', () => {
  let database: TestDatabase;
  let dir: string;
  let serial = 0;

  beforeAll(async () => {
    database = await createTestDatabase();
    dir = await mkdtemp(path.join(tmpdir(), 'import-test-'));
  });
  afterAll(async () => {
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  });

  async function exportOf(user: ReturnType<typeof generateUser>, options: RenderOptions) {
    serial += 1;
    const zipPath = path.join(dir, `export-${serial}.zip`);
    const stats = await writeExport(user, options, zipPath);
    return { zipPath, stats };
  }

  async function load(
    zipPath: string,
    account: string,
    options: { force?: boolean; acceptRemovals?: boolean } = {},
  ) {
    return importInto(database.url, { accountName: account, zipPath, ...options });
  }

  const tableCounts = (account: string) => countsOf(database.pool, account);

  /** The natural keys stored for an account, to compare two imports of the same data. */
  async function keys(account: string, table: TableName): Promise<string[]> {
    const { rows } = await database.pool.query(
      `select record_key || ':' || occurrence as k from ${qualified(table)} t join tiktok.accounts a using (account_id)
       where a.name = $1 and t.removed_at is null order by 1`,
      [account],
    );
    return rows.map((r) => r.k);
  }

  const user = generateUser({ seed: 42, username: 'ana.synthetic', scale: 600 });

  it.each(VARIANTS)('loads every section of a %s %s export into its table', async (era, format) => {
    const account = `${era}-${format}`;
    const { zipPath, stats } = await exportOf(user, { era, format });
    const result = await load(zipPath, account);
    expect(result.info).toMatchObject({ format, era: format === 'txt' ? expect.any(String) : era });
    const counts = await tableCounts(account);
    for (const [table, expected] of Object.entries(stats.expected)) {
      expect(counts[table], `${table} in ${era} ${format}`).toBe(expected);
    }
    // Modeled sections produced rows; unmodeled ones were kept raw, nothing dropped.
    expect(counts.watch_history).toBeGreaterThan(100);
    const raw = await database.pool.query(
      'select count(*)::int as n from tiktok_private.raw_sections r join tiktok.accounts a using (account_id) where a.name = $1',
      [account],
    );
    expect(raw.rows[0].n).toBeGreaterThan(0);
  });

  it('maps the JSON eras and TXT of the same data to the same records', async () => {
    for (const table of [
      'watch_history',
      'likes',
      'dm_messages',
      'searches',
      'followers',
      'following',
      'comments',
    ] as const) {
      const reference = await keys('2025-json', table);
      expect(reference.length, table).toBeGreaterThan(0);
      for (const [era, format] of VARIANTS) {
        if (table === 'comments' && era === '2026') continue; // 2026 adds fields to comments' text form
        expect(await keys(`${era}-${format}`, table), `${table} in ${era} ${format}`).toEqual(reference);
      }
    }
  });

  it('keeps 19-digit ids exact', async () => {
    const { rows } = await database.pool.query(
      `select video_id::text as id, link from tiktok.watch_history where video_id is not null limit 50`,
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(row.id).toMatch(/^\d{19}$/);
      expect(row.link).toContain(row.id);
    }
  });

  it('skips the archive last imported, and writes nothing when forced to merge it again', async () => {
    const { zipPath } = await exportOf(user, { era: '2025', format: 'json' });
    await load(zipPath, 'again');
    const before = await dataTableWrites(database.url);
    const skipped = await load(zipPath, 'again');
    expect(skipped).toMatchObject({ skipped: true, newArchive: false, counts: {} });
    const result = await load(zipPath, 'again', { force: true });
    expect(await dataTableWrites(database.url)).toBe(before);
    expect(result).toMatchObject({ skipped: false, newArchive: false });
    const changed = Object.values(result.counts).reduce(
      (n, c) => n + c.inserted + c.updated + c.removed + c.restored,
      0,
    );
    expect(changed).toBe(0);
  });

  it('applies exactly what changed in a later export, and keeps history past the retention window', async () => {
    const base = generateUser({ seed: 7, username: 'bo.synthetic', scale: 800 });
    const later = evolve(base, { seed: 8, days: 12 });
    const change = later.lastChange!;
    const first = await exportOf(base, { era: '2025', format: 'json' });
    await load(first.zipPath, 'evolving');
    const second = await exportOf(later, { era: '2025', format: 'json', retentionDays: 30 });
    // Searches and logins all left the export: the removal guard holds it back, naming them. Most of
    // the watch history left too, but it is older than the export reaches back to: aged out.
    const held = await load(second.zipPath, 'evolving').catch((error: unknown) => error as ArchiveError);
    expect(held).toMatchObject({ code: 'export_removal_guard' });
    expect((held as Error).message).toMatch(
      /searches: all 24 records removed; logins: all 12 records removed/,
    );
    expect((held as Error).message).not.toContain('watch_history');
    expect((await tableCounts('evolving')).watch_history).toBe(first.stats.expected.watch_history);
    const result = await load(second.zipPath, 'evolving', { acceptRemovals: true });

    expect(result.counts.likes?.inserted).toBe(change.added.likes ?? 0);
    expect(result.counts.likes?.removed).toBe(change.removed.likes ?? 0);
    expect(result.counts.following?.removed).toBe(change.removed.following ?? 0);
    expect(result.counts.dm_messages?.inserted).toBe(change.added.dmMessages ?? 0);
    expect(result.counts.posts?.updated).toBe(change.postLikes ? 1 : 0);
    // Watch history older than 30 days left the export: marked removed, still stored.
    const watch = result.counts.watch_history!;
    expect(watch.removed).toBeGreaterThan(0);
    const stored = await database.pool.query(
      `select count(*)::int as n, count(*) filter (where removed_at is null)::int as current
       from tiktok.watch_history join tiktok.accounts a using (account_id) where a.name = 'evolving'`,
    );
    expect(stored.rows[0].current).toBe(second.stats.expected.watch_history);
    expect(stored.rows[0].n).toBe(first.stats.expected.watch_history! + watch.inserted);
    // Follower counts changed: a second profile snapshot.
    const snapshots = await database.pool.query(
      `select follower_count::int from tiktok.profile_snapshots join tiktok.accounts a using (account_id)
       where a.name = 'evolving' order by archive_id`,
    );
    expect(snapshots.rows.map((r) => r.follower_count)).toEqual([
      change.followerCount.before,
      change.followerCount.after,
    ]);
    // An older archive than the latest is read again, not skipped, but it is older than what is
    // stored: it cannot bring back what the newer export withdrew, nor remove what it added.
    const older = await load(first.zipPath, 'evolving');
    expect(older.skipped).toBe(false);
    expect(older.older).toBe(true);
    expect(older.counts.likes).toMatchObject({ restored: 0, removed: 0, updated: 0, inserted: 0 });
    expect(older.counts.watch_history).toMatchObject({ restored: 0, removed: 0, inserted: 0 });
  });

  it('leaves sections alone that a category-limited export does not contain', async () => {
    const full = await exportOf(user, { era: '2025', format: 'json' });
    await load(full.zipPath, 'partial');
    const dmsOnly = await exportOf(user, { era: '2025', format: 'json', categories: ['direct_message'] });
    const result = await load(dmsOnly.zipPath, 'partial');
    expect(result.counts.dm_messages).toMatchObject({ inserted: 0, removed: 0 });
    const removed = Object.values(result.counts).reduce((n, c) => n + c.removed, 0);
    expect(removed).toBe(0);
    expect((await tableCounts('partial')).watch_history).toBe(full.stats.expected.watch_history);
  });
});
