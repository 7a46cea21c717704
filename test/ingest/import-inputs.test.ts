import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StageFailedError } from '../../src/errors.js';
import type { ImportResult } from '../../src/ingest/import-archive.js';
import { generateUser, renderJson, renderTxt, writeExport } from '../../src/synthetic/index.js';
import { tableCounts as countsOf } from '../helpers/counts.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { writeFolder } from '../helpers/folder.js';
import { importInto } from '../helpers/import.js';
import { dataTableWrites } from '../helpers/stats.js';
import { zipBytes } from '../helpers/zip.js';

const JUNK: [string, Buffer][] = [
  ['.DS_Store', Buffer.from([0, 0, 0, 1, 0x42, 0x75, 0x64, 0x31])],
  ['__MACOSX/._user_data_tiktok.json', Buffer.from([0, 5, 22, 7])],
  ['__MACOSX/Tiktok/._Activity', Buffer.from([0, 5, 22, 7])],
];

const changed = (result: ImportResult) =>
  Object.values(result.counts).reduce((n, c) => n + c.inserted + c.updated + c.removed + c.restored, 0);

describe('importArchive of a folder or a bare file', () => {
  let database: TestDatabase;
  let dir: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    dir = await mkdtemp(path.join(tmpdir(), 'import-inputs-test-'));
  });
  afterAll(async () => {
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  });

  async function load(zipPath: string, account: string, quarantineDir?: string) {
    return importInto(database.url, { accountName: account, zipPath }, { quarantineDir });
  }

  const tableCounts = (account: string) => countsOf(database.pool, account);

  async function following(account: string) {
    const { rows } = await database.pool.query(
      `select username, to_char(followed_at at time zone 'UTC', 'YYYY-MM-DD') as day, occurrence
       from tiktok.following t join tiktok.accounts a using (account_id)
       where a.name = $1 and t.removed_at is null order by username, occurrence`,
      [account],
    );
    return rows as { username: string; day: string; occurrence: number }[];
  }

  const user = generateUser({ seed: 21, username: 'inputs.synthetic', scale: 400 });

  describe('the same JSON export as a zip, an unzipped folder and a bare file', () => {
    let zipPath: string;
    let folder: string;
    let bare: string;
    let expected: Partial<Record<string, number>>;
    let json: string;
    /** Rows the zip's import wrote: what the folder's import must find unchanged. */
    let insertedFromZip = 0;

    beforeAll(async () => {
      zipPath = path.join(dir, 'TikTok_Data_1.zip');
      expected = (await writeExport(user, { era: '2025', format: 'json' }, zipPath)).expected;
      const rendered = renderJson(user, { era: '2025' });
      json = rendered.text;
      folder = await writeFolder(path.join(dir, 'TikTok_Data_1'), [[rendered.name, json], ...JUNK]);
      bare = path.join(await writeFolder(path.join(dir, 'kept'), []), rendered.name);
      await writeFile(bare, json);
    });

    it('stores the same rows from each, the numbers the export holds', async () => {
      const results = {
        zip: await load(zipPath, 'as-zip'),
        folder: await load(folder, 'as-folder'),
        bare: await load(bare, 'as-bare'),
      };
      insertedFromZip = Object.values(results.zip.counts).reduce((n, c) => n + c.inserted, 0);
      const reference = await tableCounts('as-zip');
      for (const [table, n] of Object.entries(expected)) expect(reference[table], table).toBe(n);
      expect(reference.watch_history).toBeGreaterThan(100);
      expect(await tableCounts('as-folder')).toEqual(reference);
      expect(await tableCounts('as-bare')).toEqual(reference);
      for (const result of Object.values(results)) {
        expect(result.info).toEqual({ format: 'json', era: '2025' });
        expect(result.records).toBe(results.zip.records);
      }
      // Only the folder's Finder and zip-tool files are reported, and never read.
      expect(
        results.folder.warnings.filter((w) => w.code === 'unknown_member').map((w) => [w.code, w.path]),
      ).toEqual([
        ['unknown_member', '.DS_Store'],
        ['unknown_member', '__MACOSX/._user_data_tiktok.json'],
        ['unknown_member', '__MACOSX/Tiktok/._Activity'],
      ]);

      const { rows } = await database.pool.query(
        `select a.name as account, r.file_name, r.size_bytes::int as size, encode(r.sha256, 'hex') as sha256,
                r.source, r.member_count::int as members
         from tiktok_sync.archives r join tiktok.accounts a using (account_id)
         where a.name like 'as-%' order by a.name`,
      );
      const digest = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
      const size = Buffer.byteLength(json);
      expect(rows).toEqual([
        {
          account: 'as-bare',
          file_name: 'user_data_tiktok.json',
          size,
          sha256: digest(json),
          source: bare,
          members: 1,
        },
        {
          account: 'as-folder',
          file_name: 'TikTok_Data_1',
          size,
          sha256: digest(`user_data_tiktok.json\0${size}\0${digest(json)}\n`),
          source: folder,
          members: 4,
        },
        {
          account: 'as-zip',
          file_name: 'TikTok_Data_1.zip',
          size: (await readFile(zipPath)).length,
          sha256: digest(await readFile(zipPath)),
          source: zipPath,
          members: 1,
        },
      ]);
    });

    it('writes nothing when the unzipped folder or the bare file of the archive last imported comes next', async () => {
      const before = await dataTableWrites(database.url);
      const counts = await tableCounts('as-zip');
      const fromFolder = await load(folder, 'as-zip');
      expect(fromFolder).toMatchObject({ skipped: false, newArchive: true });
      expect(changed(fromFolder)).toBe(0);
      const unchanged = Object.values(fromFolder.counts).reduce((n, c) => n + c.unchanged, 0);
      // Every row the zip stored, found again unchanged (the profile snapshot is not a row of the export).
      expect(unchanged).toBe(insertedFromZip - 1);
      // The same folder again is the archive last imported: not even read.
      expect(await load(folder, 'as-zip')).toMatchObject({ skipped: true, newArchive: false });
      expect(changed(await load(bare, 'as-zip'))).toBe(0);
      expect(await dataTableWrites(database.url)).toBe(before);
      expect(await tableCounts('as-zip')).toEqual(counts);
    });
  });

  describe('a TXT export whose lists are split into numbered parts', () => {
    const EXTRA = 'split.twice';
    let parts: Map<string, string>;
    let expected: Partial<Record<string, number>>;
    let activity: string;

    /** Splits a section file's records into parts of about equal size. */
    function split(text: string, count: number): string[][] {
      const records = text.trimEnd().split('\n\n');
      const size = Math.ceil(records.length / count);
      return Array.from({ length: count }, (_, i) => records.slice(i * size, (i + 1) * size));
    }
    const file = (records: string[]) => `${records.join('\n\n')}\n`;

    beforeAll(() => {
      const rendered = renderTxt(user, { era: '2025' });
      expected = rendered.expected;
      parts = new Map(rendered.files);
      const followingPath = [...parts.keys()].find((p) => p.endsWith('/Activity/Following.txt'))!;
      activity = path.posix.dirname(followingPath);
      const [one, two, ten] = split(parts.get(followingPath)!, 3);
      const [likesOne, likesTwo] = split(parts.get(`${activity}/Like List.txt`)!, 2);
      expect(one!.length + two!.length + ten!.length).toBe(expected.following);
      parts.delete(followingPath);
      parts.delete(`${activity}/Like List.txt`);
      // The same account in parts 2 and 10: which row is the first occurrence tells the read order.
      parts.set(
        `${activity}/Following_10.txt`,
        file([...ten!, `Date: 2020-01-10 00:00:00\nUsername: ${EXTRA}`]),
      );
      parts.set(
        `${activity}/Following_2.txt`,
        file([...two!, `Date: 2020-01-02 00:00:00\nUsername: ${EXTRA}`]),
      );
      parts.set(`${activity}/Following_1.txt`, file(one!));
      parts.set(`${activity}/Like List_2.txt`, file(likesTwo!));
      parts.set(`${activity}/Like List_1.txt`, file(likesOne!));
    });

    it('stores every record of every part once, in part order, from a zip and from a folder', async () => {
      const unsplit = path.join(dir, 'unsplit.zip');
      await writeExport(user, { era: '2025', format: 'txt' }, unsplit);
      await load(unsplit, 'txt-unsplit');
      // Listed 10, 2, 1: numeric part order must win over the zip's order and over sorting by name.
      const zipped = path.join(dir, 'parts.zip');
      await writeFile(zipped, await zipBytes([...parts].map(([name, data]) => ({ name, data }))));
      const fromZip = await load(zipped, 'txt-parts-zip');
      const fromFolder = await load(
        await writeFolder(path.join(dir, 'parts'), [...parts, ...JUNK]),
        'txt-parts',
      );
      for (const result of [fromZip, fromFolder]) {
        expect(result.warnings.filter((w) => w.code === 'unknown_section')).toEqual([]);
        expect(result.counts.following?.inserted).toBe(expected.following! + 2);
        expect(result.counts.likes?.inserted).toBe(expected.likes);
      }

      const counts = await tableCounts('txt-parts');
      for (const [table, n] of Object.entries(expected)) {
        expect(counts[table], table).toBe(table === 'following' ? n! + 2 : n);
      }
      expect(await tableCounts('txt-parts-zip')).toEqual(counts);
      expect(await tableCounts('txt-unsplit')).toEqual({ ...counts, following: expected.following });

      const rows = await following('txt-parts');
      expect(await following('txt-parts-zip')).toEqual(rows);
      expect(rows.filter((r) => r.username === EXTRA)).toEqual([
        { username: EXTRA, day: '2020-01-02', occurrence: 1 },
        { username: EXTRA, day: '2020-01-10', occurrence: 2 },
      ]);
      expect(rows.filter((r) => r.username !== EXTRA)).toEqual(await following('txt-unsplit'));
    });

    it('treats the parts as one section: a part that is gone removes its records, and they come back', async () => {
      const tenth = parts.get(`${activity}/Following_10.txt`)!.trimEnd().split('\n\n').length;
      const fewer = new Map(parts);
      fewer.delete(`${activity}/Following_10.txt`);
      const result = await load(await writeFolder(path.join(dir, 'fewer-parts'), fewer), 'txt-parts');
      expect(result.counts.following).toMatchObject({ inserted: 0, updated: 0, removed: tenth, restored: 0 });
      expect(result.counts.likes).toMatchObject({ inserted: 0, removed: 0 });
      expect(changed(result)).toBe(tenth);
      const back = await load(path.join(dir, 'parts'), 'txt-parts');
      expect(back.counts.following).toMatchObject({ inserted: 0, removed: 0, restored: tenth });
    });
  });

  it('leaves a folder that cannot be imported where it is, and copies nothing into quarantine', async () => {
    const quarantine = path.join(dir, 'quarantine');
    const broken = '{"Your Activity": {"Watch History": {"VideoList": [{"Date": oops';
    const folder = await writeFolder(path.join(dir, 'broken'), [['user_data_tiktok.json', broken], ...JUNK]);
    const listing = async () => (await readdir(folder, { recursive: true })).sort();
    const filesBefore = await listing();

    const error = await load(folder, 'broken', quarantine).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(StageFailedError);
    expect((error as StageFailedError).code).toBe('archive_invalid_json');
    expect(await listing()).toEqual(filesBefore);
    expect(await readFile(path.join(folder, 'user_data_tiktok.json'), 'utf8')).toBe(broken);
    expect(existsSync(quarantine)).toBe(false);
    const { rows } = await database.pool.query(
      `select status, error_code, source, quarantined_to from tiktok_sync.sync_runs order by run_id desc limit 1`,
    );
    expect(rows[0]).toEqual({
      status: 'failed',
      error_code: 'archive_invalid_json',
      source: folder,
      quarantined_to: null,
    });

    // The same file handed over alone is copied aside, as any file the user gives is.
    const bare = path.join(await writeFolder(path.join(dir, 'broken-bare'), []), 'user_data_tiktok.json');
    await writeFile(bare, broken);
    await load(bare, 'broken', quarantine).catch(() => {});
    const quarantined = await readdir(quarantine);
    expect(quarantined.filter((name) => name.endsWith('user_data_tiktok.json'))).toHaveLength(1);
    expect(existsSync(bare)).toBe(true);
  });
});
