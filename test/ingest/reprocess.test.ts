import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Output } from '../../src/cli/output.js';
import { main } from '../../src/cli.js';
import type { KeptArchivesConfig } from '../../src/config.js';
import { connectTo } from '../../src/db/connect.js';
import { DEFAULT_ARCHIVE_LIMITS } from '../../src/ingest/archive.js';
import { type ReprocessResult, reprocessAccount } from '../../src/ingest/reprocess.js';
import { qualified } from '../../src/ingest/tables.js';
import { silentLogger } from '../../src/logger.js';
import type { TableName } from '../../src/parsers/records.js';
import { evolve, generateUser, writeExport } from '../../src/synthetic/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { writeFolder } from '../helpers/folder.js';
import { importInto } from '../helpers/import.js';
import { dataTableWrites } from '../helpers/stats.js';

let database: TestDatabase;
// Made at collection time: the kept-archive settings of each describe block name folders in it.
const dir = mkdtempSync(path.join(tmpdir(), 'reprocess-'));
const zips: string[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  // Three exports of one user, each a few days later: records come, and likes and follows go.
  let user = generateUser({ seed: 11, username: 'kept.synthetic', scale: 400 });
  for (let i = 0; i < 3; i++) {
    if (i > 0) user = evolve(user, { seed: 11 + i, days: 9 });
    const zip = path.join(dir, `TikTok_Data_${i + 1}.zip`);
    await writeExport(user, { era: '2025', format: 'json' }, zip);
    zips.push(zip);
  }
}, 60_000);

afterAll(async () => {
  vi.unstubAllEnvs();
  await database?.drop();
  await rm(dir, { recursive: true, force: true });
});

const keptIn = (name: string, keep: KeptArchivesConfig['keep']): KeptArchivesConfig => ({
  keep,
  dir: path.join(dir, name),
});

async function load(zipPath: string, account: string, kept: KeptArchivesConfig) {
  return importInto(database.url, { accountName: account, zipPath }, { kept });
}

async function reprocess(account: string, kept: KeptArchivesConfig): Promise<ReprocessResult> {
  const handle = connectTo(database.url);
  try {
    const { rows } = await handle.pool.query('select account_id from tiktok_sync.accounts where name = $1', [
      account,
    ]);
    return await reprocessAccount(
      { database: handle, logger: silentLogger(), limits: DEFAULT_ARCHIVE_LIMITS, kept },
      { accountId: rows[0].account_id, name: account },
    );
  } finally {
    await handle.close();
  }
}

const changes = (result: ReprocessResult) =>
  Object.fromEntries(
    Object.entries(result.counts)
      .map(([t, c]) => [t, c.inserted + c.updated + c.removed + c.restored] as const)
      .filter(([, n]) => n > 0),
  );

async function archives(account: string) {
  const { rows } = await database.pool.query(
    `select archive_id, encode(sha256, 'hex') as sha256, kept_path, first_run_id
     from tiktok_sync.archives a join tiktok_sync.accounts using (account_id)
     where name = $1 order by archive_id`,
    [account],
  );
  return rows as { archive_id: string; sha256: string; kept_path: string | null; first_run_id: string }[];
}

/** Every stored row of a table for the account: key, whether removed, the run that first saw it, a value. */
async function state(account: string, table: TableName, column: string) {
  const { rows } = await database.pool.query(
    `select record_key || ':' || occurrence as k, removed_at is not null as removed, first_seen_run_id, ${column}::text as v
     from ${qualified(table)} t join tiktok.accounts a using (account_id) where a.name = $1 order by 1`,
    [account],
  );
  return rows;
}

describe('kept archives', () => {
  const kept = keptIn('kept-all', 'all');

  beforeAll(async () => {
    for (const zip of zips) await load(zip, 'keeper', kept);
  }, 60_000);

  it('keeps each imported archive by its content hash, private to the owner', async () => {
    const rows = await archives('keeper');
    expect(rows).toHaveLength(3);
    for (const [i, row] of rows.entries()) {
      expect(row.kept_path).toBe(
        path.join(String(await accountId('keeper')), row.sha256, `TikTok_Data_${i + 1}.zip`),
      );
      const copy = path.join(kept.dir, row.kept_path!);
      expect(
        createHash('sha256')
          .update(await readFile(copy))
          .digest('hex'),
      ).toBe(row.sha256);
      expect((await stat(copy)).mode & 0o777).toBe(0o600);
      expect((await stat(path.dirname(copy))).mode & 0o777).toBe(0o700);
      expect((await stat(path.dirname(path.dirname(copy)))).mode & 0o777).toBe(0o700);
    }
  });

  it('writes no tuple when reprocessing with unchanged parsers', async () => {
    const before = await dataTableWrites(database.url);
    const result = await reprocess('keeper', kept);
    expect(await dataTableWrites(database.url)).toBe(before);
    expect(result.archives).toBe(3);
    expect(result.records).toBeGreaterThan(1000);
    expect(changes(result)).toEqual({});
    const { rows } = await database.pool.query(
      'select kind, status from tiktok_sync.sync_runs where run_id = $1',
      [result.runId],
    );
    expect(rows).toEqual([{ kind: 'reprocess', status: 'succeeded' }]);
  });

  it('fills a newly read section from every kept archive, removals included', async () => {
    // As if `likes` and `following` had been kept only raw when these archives were imported.
    const likes = await state('keeper', 'likes', 'liked_at');
    const following = await state('keeper', 'following', 'username');
    expect(likes.some((r) => r.removed)).toBe(true);
    expect(following.some((r) => r.removed)).toBe(true);
    const id = await accountId('keeper');
    await database.pool.query('delete from tiktok.likes where account_id = $1', [id]);
    await database.pool.query('delete from tiktok.following where account_id = $1', [id]);
    const [first] = await archives('keeper');
    await database.pool.query(
      `insert into tiktok_private.raw_sections (account_id, path, content_hash, content, first_seen_run_id, first_seen_archive_id)
       values ($1, 'Your Activity/Like List', md5('old raw likes')::uuid, '{"ItemFavoriteList": []}', $2, $3)`,
      [id, first!.first_run_id, first!.archive_id],
    );

    const result = await reprocess('keeper', kept);
    expect(changes(result)).toEqual({ likes: likes.length, following: following.length, raw_sections: 1 });
    expect(result.counts.likes!.inserted).toBe(likes.length);
    // The same rows as three imports gave: keys, removals and the run that first saw each.
    expect(await state('keeper', 'likes', 'liked_at')).toEqual(likes);
    expect(await state('keeper', 'following', 'username')).toEqual(following);
    const { rows } = await database.pool.query(
      `select superseded_run_id from tiktok_private.raw_sections where account_id = $1 and path = 'Your Activity/Like List'`,
      [id],
    );
    expect(rows).toEqual([{ superseded_run_id: result.runId }]);
  });

  it('brings a parser fix to stored rows, and only to them', async () => {
    const id = await accountId('keeper');
    const { rows } = await database.pool.query(
      `update tiktok.searches set term = 'misread', row_hash = md5('misread')::uuid
       where (account_id, record_key, occurrence) in (select account_id, record_key, occurrence from tiktok.searches where account_id = $1 limit 2)
       returning record_key`,
      [id],
    );
    expect(rows).toHaveLength(2);
    const result = await reprocess('keeper', kept);
    expect(changes(result)).toEqual({ searches: 2 });
    expect(result.counts.searches!.updated).toBe(2);
    const fixed = await database.pool.query(
      "select count(*)::int as n from tiktok.searches where account_id = $1 and term = 'misread'",
      [id],
    );
    expect(fixed.rows[0].n).toBe(0);
  });

  it('is what `tiktok-sync reprocess` runs, per account', async () => {
    vi.stubEnv('DATABASE_URL', database.url);
    vi.stubEnv('TIKTOK_SYNC_DATA_DIR', dir);
    vi.stubEnv('TIKTOK_SYNC_KEEP_ARCHIVES', 'all');
    const stdout: string[] = [];
    const output: Output = {
      out: (l = '') => stdout.push(l),
      err: (l = '') => stdout.push(l),
      interactive: false,
    };
    // The kept copies of `keeper` live in kept-all; the CLI's are in <dataDir>/archives.
    await main(['node', 'tiktok-sync', 'import', zips[0]!, '--account', 'cli-kept'], output);
    stdout.length = 0;
    expect(await main(['node', 'tiktok-sync', 'reprocess', '--account', 'cli-kept'], output)).toBe(0);
    expect(stdout.join('\n')).toMatch(
      /Reprocessed 1 kept archive\(s\) of account `cli-kept` .*nothing changed\./,
    );
    expect(await main(['node', 'tiktok-sync', 'reprocess', '--account', 'nobody'], output)).not.toBe(0);
    expect(stdout.join('\n')).toContain('There is no account named `nobody`');
  });
});

describe('retention', () => {
  it('keeps the last N archives of each account, and none when told so', async () => {
    const lastTwo = keptIn('kept-two', 2);
    for (const zip of zips) await load(zip, 'pruned', lastTwo);
    const rows = await archives('pruned');
    expect(rows.map((r) => r.kept_path !== null)).toEqual([false, true, true]);
    const id = await accountId('pruned');
    await expect(stat(path.join(lastTwo.dir, String(id), rows[0]!.sha256))).rejects.toThrow(/ENOENT/);
    // History from the pruned archive stays as it is: reprocessing the other two changes nothing.
    const before = await dataTableWrites(database.url);
    const result = await reprocess('pruned', lastTwo);
    expect(result.archives).toBe(2);
    expect(changes(result)).toEqual({});
    expect(await dataTableWrites(database.url)).toBe(before);

    await load(zips[2]!, 'pruned', { ...lastTwo, keep: 'none' });
    expect((await archives('pruned')).map((r) => r.kept_path)).toEqual([null, null, null]);
    expect((await reprocess('pruned', lastTwo)).runId).toBeUndefined();
  });
});

describe('other forms', () => {
  it('keeps an unzipped folder and a bare JSON file as they were given, and reprocesses them', async () => {
    const kept = keptIn('kept-forms', 'all');
    const searches = (terms: string[]) =>
      JSON.stringify({
        'Your Activity': {
          Searches: {
            SearchList: terms.map((t, i) => ({ Date: `2024-02-0${i + 1} 10:00:00`, SearchTerm: t })),
          },
        },
      });
    const folder = await writeFolder(path.join(dir, 'TikTok_Data_unzipped'), [
      ['TikTok/Activity/Searches.txt', 'Date: 2024-02-01 10:00:00\nSearch Term: one\n'],
      ['TikTok/Activity/Browsing History.txt', ''],
    ]);
    const bare = path.join(dir, 'user_data_tiktok.json');
    await writeFile(bare, searches(['one', 'two']));
    await load(folder, 'forms', kept);
    await load(bare, 'forms', kept);
    const rows = await archives('forms');
    expect(rows.map((r) => path.basename(r.kept_path!))).toEqual([
      'TikTok_Data_unzipped',
      'user_data_tiktok.json',
    ]);
    const copied = path.join(kept.dir, rows[0]!.kept_path!, 'TikTok/Activity/Searches.txt');
    expect(await readFile(copied, 'utf8')).toContain('Search Term: one');
    expect((await stat(copied)).mode & 0o777).toBe(0o600);
    expect((await stat(path.dirname(copied))).mode & 0o777).toBe(0o700);
    const result = await reprocess('forms', kept);
    expect(result.archives).toBe(2);
    expect(changes(result)).toEqual({});
  });
});

async function accountId(name: string): Promise<string> {
  const { rows } = await database.pool.query('select account_id from tiktok_sync.accounts where name = $1', [
    name,
  ]);
  return rows[0].account_id;
}
