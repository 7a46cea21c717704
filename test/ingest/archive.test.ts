import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArchiveError } from '../../src/errors.js';
import { type ExportArchive, openArchive, type ReadArchiveOptions } from '../../src/ingest/archive.js';
import type { ParseEvent, RecordEvent, WarningEvent } from '../../src/parsers/records.js';
import { zipBytes } from '../helpers/zip.js';

/** Renames an entry in place (same length), in both its local and central headers. */
function rename(zip: Buffer, from: string, to: string): Buffer {
  expect(Buffer.byteLength(from)).toBe(Buffer.byteLength(to));
  const out = Buffer.from(zip);
  const needle = Buffer.from(from);
  let at = out.indexOf(needle);
  expect(at).toBeGreaterThanOrEqual(0);
  while (at >= 0) {
    Buffer.from(to).copy(out, at);
    at = out.indexOf(needle, at + 1);
  }
  return out;
}

/** Rewrites the uncompressed size the central directory declares for every entry. */
function declareSize(zip: Buffer, size: number): Buffer {
  const out = Buffer.from(zip);
  for (let at = out.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])); at >= 0; ) {
    out.writeUInt32LE(size, at + 24);
    at = out.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]), at + 4);
  }
  return out;
}

let dir: string;
let counter = 0;

async function writeZip(bytes: Buffer): Promise<string> {
  const file = path.join(dir, `export-${++counter}.zip`);
  await writeFile(file, bytes);
  return file;
}

async function readAll(archive: ExportArchive): Promise<ParseEvent[]> {
  const events: ParseEvent[] = [];
  try {
    for await (const e of archive.events()) events.push(e);
  } finally {
    await archive.close();
  }
  return events;
}

async function openFails(bytes: Buffer, options: ReadArchiveOptions = {}): Promise<ArchiveError> {
  const file = await writeZip(bytes);
  try {
    const archive = await openArchive(file, options);
    await readAll(archive);
  } catch (error) {
    expect(error).toBeInstanceOf(ArchiveError);
    return error as ArchiveError;
  }
  throw new Error('expected the archive to be rejected');
}

const records = (events: ParseEvent[]) => events.filter((e): e is RecordEvent => e.kind === 'record');
const warnings = (events: ParseEvent[]) => events.filter((e): e is WarningEvent => e.kind === 'warning');

const V1 = '7312345678901234567';

const JSON_2026 = JSON.stringify({
  Comment: { Comments: { CommentsList: [] } },
  'Likes and Favorites': {
    'Like List': {
      ItemFavoriteList: [{ date: '2026-01-02 10:00:00', link: `https://www.tiktokv.com/share/video/${V1}/` }],
    },
  },
  'Your Activity': {
    'Watch History': {
      VideoList: [{ Date: '2026-01-01 10:00:00', Link: `https://www.tiktokv.com/share/video/${V1}/` }],
    },
  },
});

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'archive-test-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('archive', () => {
  it('streams the records of a JSON export and reports format and era', async () => {
    const file = await writeZip(
      await zipBytes([{ name: 'TikTok_Data_1/user_data_tiktok.json', data: JSON_2026 }]),
    );
    const archive = await openArchive(file);
    expect(archive.members).toEqual(['TikTok_Data_1/user_data_tiktok.json']);
    expect(archive.info).toEqual({ format: 'json', era: 'unknown' });
    const events = await readAll(archive);
    expect(archive.info).toEqual({ format: 'json', era: '2026' });
    expect(records(events).map((e) => [e.table, e.row])).toEqual([
      [
        'likes',
        {
          liked_at: '2026-01-02T10:00:00Z',
          video_id: V1,
          link: `https://www.tiktokv.com/share/video/${V1}/`,
          extra: null,
        },
      ],
      [
        'watch_history',
        {
          watched_at: '2026-01-01T10:00:00Z',
          video_id: V1,
          link: `https://www.tiktokv.com/share/video/${V1}/`,
          title: null,
          extra: null,
        },
      ],
    ]);
    expect(events.filter((e) => e.kind === 'section').map((e) => e.kind === 'section' && e.table)).toEqual([
      'comments',
      'likes',
      'watch_history',
    ]);
  });

  it('reads a TXT tree file by file and skips other files with a warning', async () => {
    const file = await writeZip(
      await zipBytes([
        { name: 'TikTok_Data_1/Tiktok/', data: '' },
        {
          name: 'TikTok_Data_1/Tiktok/Activity/Video Browsing History.txt',
          data: `Date: 2021-01-01 00:00:00\nLink: https://www.tiktokv.com/share/video/${V1}/\n`,
        },
        { name: 'TikTok_Data_1/Tiktok/.DS_Store', data: Buffer.from([0, 0, 0, 1]) },
        { name: 'TikTok_Data_1/Tiktok/Posts/cover.jpg', data: Buffer.from([0xff, 0xd8]) },
        { name: '__MACOSX/TikTok_Data_1/._user_data.json', data: Buffer.from([0, 5, 22, 7]) },
        {
          name: 'TikTok_Data_1/Tiktok/Direct Messages/Direct Messages.txt',
          data: '>>> Chat History with ana::\n\n2021-01-02 00:00:00 ana: hi\n',
        },
      ]),
    );
    const archive = await openArchive(file);
    expect(archive.info).toEqual({ format: 'txt', era: '2021-2023' });
    const events = await readAll(archive);
    expect(records(events).map((e) => e.table)).toEqual(['watch_history', 'dm_conversations', 'dm_messages']);
    expect(warnings(events).map((w) => [w.code, w.path])).toEqual([
      ['unknown_member', 'TikTok_Data_1/Tiktok/.DS_Store'],
      ['unknown_member', 'TikTok_Data_1/Tiktok/Posts/cover.jpg'],
      ['unknown_member', '__MACOSX/TikTok_Data_1/._user_data.json'],
    ]);
  });

  it('reads every JSON member when an export is split into several', async () => {
    const file = await writeZip(
      await zipBytes([
        {
          name: 'activity.json',
          data: JSON.stringify({ 'Your Activity': { Searches: { SearchList: [] } } }),
        },
        {
          name: 'messages.json',
          data: JSON.stringify({ 'Direct Message': { 'Direct Messages': { ChatHistory: {} } } }),
        },
      ]),
    );
    const events = await readAll(await openArchive(file));
    expect(events.filter((e) => e.kind === 'section').map((e) => e.kind === 'section' && e.path)).toEqual([
      'Your Activity/Searches',
      'Direct Message/Direct Messages',
      'Direct Message/Direct Messages',
    ]);
  });

  it('warns about duplicate entry names with the same content and reads them once', async () => {
    const one = JSON.stringify({
      'Your Activity': { Searches: { SearchList: [{ Date: '2024-01-01 00:00:00', SearchTerm: 'a' }] } },
    });
    const file = await writeZip(
      rename(
        await zipBytes([
          { name: 'a.json', data: one },
          { name: 'b.json', data: one },
        ]),
        'b.json',
        'a.json',
      ),
    );
    const events = await readAll(await openArchive(file));
    expect(warnings(events).map((w) => w.code)).toEqual(['duplicate_member']);
    expect(records(events)).toHaveLength(1);
  });

  it('reads numbered TXT parts in part order where the first was listed, whatever the zip order', async () => {
    const following = (at: string, username: string) => `Date: ${at}\nUsername: ${username}\n`;
    const file = await writeZip(
      await zipBytes([
        { name: 'Tiktok/Activity/Following_10.txt', data: following('2024-01-10 00:00:00', 'ten') },
        { name: 'Tiktok/Activity/Like List_2.txt', data: 'Date: 2024-02-02 00:00:00\nLink: https://x/2\n' },
        { name: 'Tiktok/Activity/Following_2.txt', data: following('2024-01-02 00:00:00', 'two') },
        { name: 'Tiktok/Activity/Searches.txt', data: 'Date: 2024-03-01 00:00:00\nSearch Term: x\n' },
        { name: 'Tiktok/Activity/Following_1.txt', data: following('2024-01-01 00:00:00', 'one') },
        { name: 'Tiktok/Activity/Like List_1.txt', data: 'Date: 2024-02-01 00:00:00\nLink: https://x/1\n' },
      ]),
    );
    const archive = await openArchive(file);
    expect(archive.members).toEqual([
      'Tiktok/Activity/Following_1.txt',
      'Tiktok/Activity/Following_2.txt',
      'Tiktok/Activity/Following_10.txt',
      'Tiktok/Activity/Like List_1.txt',
      'Tiktok/Activity/Like List_2.txt',
      'Tiktok/Activity/Searches.txt',
    ]);
    const events = await readAll(archive);
    const label = ({ table, row }: RecordEvent) =>
      'username' in row ? row.username : 'liked_at' in row ? row.liked_at : table;
    expect(records(events).map(label)).toEqual([
      'one',
      'two',
      'ten',
      '2024-02-01T00:00:00Z',
      '2024-02-02T00:00:00Z',
      'searches',
    ]);
    expect(warnings(events)).toEqual([]);
  });

  it('reports progress in archive bytes up to the total', async () => {
    const file = await writeZip(await zipBytes([{ name: 'user_data_tiktok.json', data: JSON_2026 }]));
    const seen: [number, number][] = [];
    await readAll(await openArchive(file, { onProgress: (done, total) => seen.push([done, total]) }));
    const last = seen[seen.length - 1]!;
    expect(last[0]).toBe(last[1]);
    expect(last[1]).toBeGreaterThan(0);
    for (let i = 1; i < seen.length; i++) expect(seen[i]![0]).toBeGreaterThanOrEqual(seen[i - 1]![0]);
  });

  it('rejects a file that is not a zip', async () => {
    const error = await openFails(Buffer.from('{"this is": "json, not a zip"}'));
    expect(error.code).toBe('archive_not_zip');
    expect(error.message).toContain('is not a zip file');
  });

  it('rejects an empty file as not a zip', async () => {
    expect((await openFails(Buffer.alloc(0))).code).toBe('archive_not_zip');
  });

  it('rejects a truncated zip', async () => {
    const bytes = await zipBytes([{ name: 'user_data_tiktok.json', data: JSON_2026 }]);
    const error = await openFails(bytes.subarray(0, bytes.length - 30));
    expect(error.code).toBe('archive_truncated');
  });

  it('rejects entry names that climb out with ..', async () => {
    const bytes = rename(await zipBytes([{ name: 'zz/x.json', data: '{}' }]), 'zz/x.json', '../x.json');
    const error = await openFails(bytes);
    expect(error.code).toBe('archive_unsafe_path');
    expect(error.message).toContain('`../x.json`');
  });

  it('rejects absolute entry names, drive letters and backslash climbs', async () => {
    const abs = rename(await zipBytes([{ name: 'xabs.json', data: '{}' }]), 'xabs.json', '/abs.json');
    expect((await openFails(abs)).code).toBe('archive_unsafe_path');
    const drive = rename(await zipBytes([{ name: 'Cx/abs.json', data: '{}' }]), 'Cx/abs.json', 'C:/abs.json');
    expect((await openFails(drive)).code).toBe('archive_unsafe_path');
    const back = rename(
      await zipBytes([{ name: 'a/zz/x.json', data: '{}' }]),
      'a/zz/x.json',
      'a\\..\\x.json',
    );
    expect((await openFails(back)).code).toBe('archive_unsafe_path');
  });

  it('rejects a zip bomb by compression ratio before reading it', async () => {
    const bytes = await zipBytes([
      { name: 'user_data_tiktok.json', data: Buffer.alloc(4 * 1024 * 1024, 0x20) },
    ]);
    const error = await openFails(bytes);
    expect(error.code).toBe('archive_too_large');
    expect(error.message).toContain('ratio');
  });

  it('rejects an archive whose declared total is above the limit', async () => {
    const bytes = await zipBytes([
      { name: 'a.json', data: JSON_2026 },
      { name: 'b.json', data: JSON_2026 },
    ]);
    const error = await openFails(bytes, { limits: { maxUncompressedBytes: JSON_2026.length + 10 } });
    expect(error.code).toBe('archive_too_large');
  });

  it('stops a member that inflates to more than its header declares', async () => {
    const error = await openFails(
      declareSize(await zipBytes([{ name: 'user_data_tiktok.json', data: JSON_2026 }]), 40),
    );
    expect(error.code).toBe('archive_too_large');
    expect(error.message).toContain('user_data_tiktok.json');
  });

  it('rejects more entries than the limit', async () => {
    const bytes = await zipBytes([
      { name: 'a.json', data: '{}' },
      { name: 'b.json', data: '{}' },
      { name: 'c.json', data: '{}' },
    ]);
    expect((await openFails(bytes, { limits: { maxEntries: 2 } })).code).toBe('archive_too_large');
  });

  it('rejects a zip with no JSON or TXT member', async () => {
    const error = await openFails(await zipBytes([{ name: 'video.mp4', data: Buffer.from([0, 0, 0, 24]) }]));
    expect(error.code).toBe('archive_no_export');
  });

  it('names the member and key path when its JSON breaks part-way', async () => {
    const items = Array.from({ length: 3000 }, () => ({ Date: '2024-01-01 00:00:00', Link: 'x' }));
    const list = JSON.stringify(items).slice(0, -1);
    const broken = `{"Your Activity": {"Watch History": {"VideoList": ${list}, }`;
    const error = await openFails(
      await zipBytes([{ name: 'TikTok_Data_1/user_data_tiktok.json', data: broken }]),
    );
    expect(error.code).toBe('archive_invalid_json');
    expect(error.message).toContain('`TikTok_Data_1/user_data_tiktok.json`');
    expect(error.message).toContain('Your Activity/Watch History/VideoList');
  });

  it('reads past wrong types and bad dates, keeping what it cannot read', async () => {
    const wrong = JSON.stringify({ 'Your Activity': { 'Watch History': { VideoList: 'nope' } } });
    const kept = await readAll(
      await openArchive(await writeZip(await zipBytes([{ name: 'u.json', data: wrong }]))),
    );
    expect(kept.filter((e) => e.kind === 'raw')).toEqual([
      { kind: 'raw', path: 'Your Activity/Watch History/VideoList', json: '"nope"' },
    ]);
    const date = JSON.stringify({
      'Your Activity': { 'Watch History': { VideoList: [{ Date: 'soon', Link: 'x' }] } },
    });
    const events = await readAll(
      await openArchive(await writeZip(await zipBytes([{ name: 'u.json', data: date }]))),
    );
    expect(records(events).map((e) => e.row)).toEqual([
      { watched_at: null, video_id: null, link: 'x', title: null, extra: '{"Date":"soon"}' },
    ]);
    expect(
      events
        .filter((e) => e.kind === 'warning')
        .map((e) => [(e as WarningEvent).code, (e as WarningEvent).field]),
    ).toEqual([['bad_date', 'Date']]);
  });

  it('stores members uncompressed as well as deflated', async () => {
    const file = await writeZip(
      await zipBytes([{ name: 'user_data_tiktok.json', data: JSON_2026, compress: false }]),
    );
    expect(records(await readAll(await openArchive(file)))).toHaveLength(2);
  });

  it('stops when the signal is aborted', async () => {
    const items = Array.from({ length: 20_000 }, (_, i) => ({
      Date: '2024-01-01 00:00:00',
      Link: `https://www.tiktokv.com/share/video/${7300000000000000000n + BigInt(i)}/`,
    }));
    const data = JSON.stringify({ 'Your Activity': { 'Watch History': { VideoList: items } } });
    const file = await writeZip(await zipBytes([{ name: 'u.json', data }]));
    const controller = new AbortController();
    const archive = await openArchive(file, { signal: controller.signal });
    let count = 0;
    const run = async () => {
      for await (const e of archive.events()) {
        if (e.kind === 'record' && ++count === 100) controller.abort();
      }
    };
    await expect(run()).rejects.toMatchObject({ name: 'AbortError' });
    expect(count).toBeLessThan(20_000);
    await archive.close();
  });
});
