import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArchiveError } from '../../src/errors.js';
import { DEFAULT_ARCHIVE_LIMITS, type ExportArchive, openArchive } from '../../src/ingest/archive.js';
import { archiveIdentity, archiveSource } from '../../src/ingest/archive-source.js';
import type { ParseEvent, RecordEvent, WarningEvent } from '../../src/parsers/records.js';
import { generateUser, renderJson, renderTxt } from '../../src/synthetic/index.js';
import { writeFolder } from '../helpers/folder.js';
import { zipBytes } from '../helpers/zip.js';

let dir: string;
let serial = 0;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'archive-source-test-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A path named `name` in a directory of its own. */
function fresh(name: string): string {
  const parent = path.join(dir, String(++serial));
  mkdirSync(parent);
  return path.join(parent, name);
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

async function openFails(inputPath: string, limits = {}): Promise<ArchiveError> {
  try {
    await readAll(await openArchive(inputPath, { limits }));
  } catch (error) {
    expect(error).toBeInstanceOf(ArchiveError);
    return error as ArchiveError;
  }
  throw new Error(`expected ${inputPath} to be refused`);
}

const records = (events: ParseEvent[]) => events.filter((e): e is RecordEvent => e.kind === 'record');
const warnings = (events: ParseEvent[]) => events.filter((e): e is WarningEvent => e.kind === 'warning');
/** Records as comparable strings, in a fixed order (zip and folder list files differently). */
const sortedRecords = (events: ParseEvent[]) =>
  records(events)
    .map((e) => JSON.stringify([e.table, e.part, e.row]))
    .sort();

const user = generateUser({ seed: 11, username: 'folder.synthetic', scale: 60 });
const JUNK: [string, Buffer][] = [
  ['.DS_Store', Buffer.from([0, 0, 0, 1, 0x42, 0x75, 0x64, 0x31])],
  ['__MACOSX/Tiktok/._Activity', Buffer.from([0, 5, 22, 7])],
];

function following(...names: [string, string][]): string {
  return `${names.map(([at, username]) => `Date: ${at}\nUsername: ${username}`).join('\n\n')}\n`;
}

describe('archive sources', () => {
  it('reads an unzipped TXT folder like the zip it came from, skipping Finder and zip-tool files', async () => {
    const { files } = renderTxt(user, { era: '2025' });
    const zipped = fresh('export.zip');
    await writeFile(zipped, await zipBytes([...files].map(([name, data]) => ({ name, data }))));
    const folder = await writeFolder(fresh('unzipped'), [...files, ...JUNK]);

    const fromZip = await readAll(await openArchive(zipped));
    const folderArchive = await openArchive(folder);
    expect(folderArchive.info).toEqual({ format: 'txt', era: 'unknown' });
    const fromFolder = await readAll(folderArchive);
    expect(records(fromFolder).length).toBeGreaterThan(100);
    expect(sortedRecords(fromFolder)).toEqual(sortedRecords(fromZip));
    expect(
      warnings(fromFolder)
        .filter((w) => w.code !== 'placeholder')
        .map((w) => [w.code, w.path]),
    ).toEqual([
      ['unknown_member', '.DS_Store'],
      ['unknown_member', '__MACOSX/Tiktok/._Activity'],
    ]);
    // The folder's files are read sorted by path, whatever order the file system lists them in.
    const members = folderArchive.members.filter((m) => !JUNK.some(([junk]) => junk === m));
    expect(members).toEqual([...files.keys()].sort());
  });

  it('reads an unzipped JSON folder, a bare JSON file and a bare TXT file', async () => {
    const { name, text, records: count } = renderJson(user, { era: '2026' });
    const folder = await writeFolder(fresh('json-folder'), [[`TikTok_Data_1/${name}`, text], ...JUNK]);
    const bare = fresh(name);
    await writeFile(bare, text);
    const fromFolder = await openArchive(folder);
    const fromFile = await openArchive(bare);
    expect(fromFile.members).toEqual([name]);
    const folderEvents = await readAll(fromFolder);
    const fileEvents = await readAll(fromFile);
    // The synthetic count covers the tables it knows; newer tables (devices, off_tiktok_activity…) add to it.
    expect(records(fileEvents).length).toBeGreaterThanOrEqual(count);
    expect(sortedRecords(folderEvents)).toEqual(sortedRecords(fileEvents));
    expect(fromFile.info).toEqual({ format: 'json', era: '2026' });

    const txt = fresh('Following.txt');
    await writeFile(txt, following(['2024-01-01 00:00:00', 'ana'], ['2024-01-02 00:00:00', 'bo']));
    const txtEvents = await readAll(await openArchive(txt));
    expect(records(txtEvents).map((e) => [e.table, e.row])).toEqual([
      ['following', { followed_at: '2024-01-01T00:00:00Z', username: 'ana', extra: null }],
      ['following', { followed_at: '2024-01-02T00:00:00Z', username: 'bo', extra: null }],
    ]);
  });

  it('tells a zip by its first bytes, not by its name', async () => {
    const json = JSON.stringify({ 'Your Activity': { Searches: { SearchList: [] } } });
    const zipNamedJson = fresh('user_data_tiktok.json');
    await writeFile(zipNamedJson, await zipBytes([{ name: 'user_data_tiktok.json', data: json }]));
    expect((await archiveSource(zipNamedJson)).kind).toBe('zip');
    const emptyZip = fresh('empty.json');
    await writeFile(emptyZip, await zipBytes([]));
    expect((await archiveSource(emptyZip)).kind).toBe('zip');
    const jsonNamedZip = fresh('export.zip');
    await writeFile(jsonNamedZip, json);
    expect((await archiveSource(jsonNamedZip)).kind).toBe('zip');
    const error = await openFails(jsonNamedZip);
    expect(error.code).toBe('archive_not_zip');
    expect(error.message).toContain('the folder it unzips to');
  });

  it('reads numbered TXT parts of a folder in part order, not in name order', async () => {
    const folder = await writeFolder(fresh('parts'), [
      ['Tiktok/Activity/Following_10.txt', following(['2024-01-10 00:00:00', 'ten'])],
      ['Tiktok/Activity/Following_2.txt', following(['2024-01-02 00:00:00', 'two'])],
      ['Tiktok/Activity/Following_1.txt', following(['2024-01-01 00:00:00', 'one'])],
      ['Tiktok/Activity/Searches.txt', 'Date: 2024-03-01 00:00:00\nSearch Term: after\n'],
    ]);
    const archive = await openArchive(folder);
    expect(archive.members).toEqual([
      'Tiktok/Activity/Following_1.txt',
      'Tiktok/Activity/Following_2.txt',
      'Tiktok/Activity/Following_10.txt',
      'Tiktok/Activity/Searches.txt',
    ]);
    const events = await readAll(archive);
    expect(records(events).map((e) => ('username' in e.row ? e.row.username : e.table))).toEqual([
      'one',
      'two',
      'ten',
      'searches',
    ]);
    expect(warnings(events)).toEqual([]);
  });

  it('refuses a character device and a FIFO before opening them, saying what to give instead', async () => {
    const devNull = await openFails('/dev/null');
    expect(devNull.code).toBe('archive_not_regular');
    expect(devNull.message).toBe(
      '`/dev/null` is a character device, not a file or folder, so it was not read. `import` takes a TikTok export as its `.zip`, the folder it unzips to, or a `.json` or `.txt` file from it.',
    );
    // Opening a FIFO with no writer would wait forever: the test would time out.
    const fifo = fresh('export.json');
    execFileSync('mkfifo', [fifo]);
    const error = await openFails(fifo);
    expect(error.code).toBe('archive_not_regular');
    expect(error.message).toContain(`\`${fifo}\` is a FIFO (named pipe)`);
  });

  it('checks what it opened, so that a path swapped for a FIFO or a device after the look is refused unread', async () => {
    // What archiveSource saw was a file; by the time it is hashed, the path is a FIFO (or a device).
    const fifo = fresh('swapped.zip');
    execFileSync('mkfifo', [fifo]);
    for (const swapped of [fifo, '/dev/zero']) {
      const error = await archiveIdentity(
        { kind: 'zip', path: swapped, name: path.basename(swapped) },
        DEFAULT_ARCHIVE_LIMITS,
      ).catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(ArchiveError);
      expect((error as ArchiveError).code).toBe('archive_not_regular');
      expect((error as ArchiveError).message).toMatch(
        /is a (FIFO \(named pipe\)|character device), not a regular file, so it was not read\./,
      );
    }
  });

  it('stops hashing as soon as the signal aborts, with its reason', async () => {
    const big = fresh('big.zip');
    await writeFile(big, '');
    await truncate(big, 4 * 1024 ** 3); // sparse: seconds to hash, no disk used
    const stop = new AbortController();
    const reason = new Error('stopped');
    const started = performance.now();
    const hashing = archiveIdentity(
      { kind: 'zip', path: big, name: 'big.zip' },
      DEFAULT_ARCHIVE_LIMITS,
      stop.signal,
    );
    setTimeout(() => stop.abort(reason), 50);
    await expect(hashing).rejects.toBe(reason);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('explains a missing path and an empty folder', async () => {
    const missing = await openFails(path.join(dir, 'nope'));
    expect(missing.code).toBe('archive_missing');
    expect(missing.message).toMatch(/^Cannot read `.*nope` \(ENOENT\); check the path\. `import` takes/);
    const empty = fresh('empty');
    await mkdir(empty);
    const error = await openFails(empty);
    expect(error.code).toBe('archive_no_export');
    expect(error.message).toBe(
      `\`${empty}\` is an empty folder, not a TikTok export. Give the folder a TikTok export unzips to (it holds \`user_data_tiktok.json\`, or a \`Tiktok\` folder of \`.txt\` files), or the \`.zip\` itself.`,
    );
    const junkOnly = await writeFolder(fresh('junk-only'), JUNK);
    expect((await openFails(junkOnly)).message).toContain('holds no `.json` or `.txt` file at any depth');
  });

  it('skips links and special files inside a folder, and refuses a link that leads out of it', async () => {
    const folder = await writeFolder(fresh('links'), [
      ['Tiktok/Activity/Following.txt', following(['2024-01-01 00:00:00', 'once'])],
    ]);
    await symlink('Following.txt', path.join(folder, 'Tiktok/Activity/Follower.txt'));
    await symlink('../Activity', path.join(folder, 'Tiktok/Again'));
    await symlink('missing.txt', path.join(folder, 'Tiktok/broken.txt'));
    execFileSync('mkfifo', [path.join(folder, 'Tiktok/pipe.txt')]);
    const events = await readAll(await openArchive(folder));
    expect(records(events).map((e) => [e.table, e.row])).toEqual([
      ['following', { followed_at: '2024-01-01T00:00:00Z', username: 'once', extra: null }],
    ]);
    expect(warnings(events).map((w) => [w.code, w.path])).toEqual([
      ['link_skipped', 'Tiktok/Activity/Follower.txt'],
      ['link_skipped', 'Tiktok/Again'],
      ['link_skipped', 'Tiktok/broken.txt'],
      ['not_a_file', 'Tiktok/pipe.txt'],
    ]);

    const outside = fresh('secret.txt');
    await writeFile(outside, 'Date: 2024-01-01 00:00:00\nSearch Term: not yours\n');
    await symlink(outside, path.join(folder, 'Tiktok/Activity/Searches.txt'));
    const error = await openFails(folder);
    expect(error.code).toBe('archive_unsafe_path');
    expect(error.message).toContain(
      `holds \`Tiktok/Activity/Searches.txt\`, a link to \`${outside}\` outside`,
    );
  });

  it('holds a folder to the entry and size limits', async () => {
    const folder = await writeFolder(fresh('limits'), [
      ['a/Following.txt', following(['2024-01-01 00:00:00', 'a'])],
      ['b/Searches.txt', 'Date: 2024-03-01 00:00:00\nSearch Term: limits\n'],
    ]);
    // Two folders and two files.
    expect(records(await readAll(await openArchive(folder, { limits: { maxEntries: 4 } })))).toHaveLength(2);
    const entries = await openFails(folder, { maxEntries: 3 });
    expect(entries.code).toBe('archive_too_large');
    expect(entries.message).toContain('more than 3 files and folders');
    const bytes = await openFails(folder, { maxUncompressedBytes: 50 });
    expect(bytes.code).toBe('archive_too_large');
    const file = path.join(folder, 'a/Following.txt');
    expect((await openFails(file, { maxUncompressedBytes: 10 })).code).toBe('archive_too_large');
  });

  it("gives a folder one identity from its files' paths and contents, ignoring junk files", async () => {
    const files: [string, string][] = [
      ['Tiktok/Activity/Following.txt', following(['2024-01-01 00:00:00', 'a'])],
      ['Tiktok/Activity/Searches.txt', 'Date: 2024-03-01 00:00:00\nSearch Term: x\n'],
    ];
    const identity = async (folder: string) =>
      archiveIdentity(await archiveSource(folder), DEFAULT_ARCHIVE_LIMITS);
    const first = await identity(await writeFolder(fresh('id'), files));
    const reversed = await identity(await writeFolder(fresh('id'), [...JUNK, ...[...files].reverse()]));
    expect(reversed).toEqual(first);
    const size = files.reduce((n, [, data]) => n + Buffer.byteLength(data), 0);
    const lines = files
      .map(([name, data]) => `${name}\0${Buffer.byteLength(data)}\0${sha256(data)}\n`)
      .sort()
      .join('');
    expect(first).toEqual({ sha256: sha256(lines), sizeBytes: size });

    const changed = await identity(
      await writeFolder(fresh('id'), [
        files[0]!,
        [files[1]![0], 'Date: 2024-03-01 00:00:00\nSearch Term: y\n'],
      ]),
    );
    expect(changed.sha256).not.toBe(first.sha256);
    const moved = await identity(
      await writeFolder(fresh('id'), [files[0]!, ['Tiktok/Other/Searches.txt', files[1]![1]]]),
    );
    expect(moved.sha256).not.toBe(first.sha256);
  });

  it('gives a bare file the SHA-256 of its bytes', async () => {
    const file = fresh('user_data_tiktok.json');
    await writeFile(file, '{"Your Activity":{}}');
    expect(await archiveIdentity(await archiveSource(file), DEFAULT_ARCHIVE_LIMITS)).toEqual({
      sha256: sha256(await readFile(file)),
      sizeBytes: 20,
    });
  });
});

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
