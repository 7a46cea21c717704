import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StageFailedError } from '../../src/errors.js';
import type { ImportResult } from '../../src/ingest/import-archive.js';
import { type QuarantineReason, reasonPath } from '../../src/ingest/quarantine.js';
import { qualified } from '../../src/ingest/tables.js';
import type { TableName } from '../../src/parsers/records.js';
import { generateUser, writeExport } from '../../src/synthetic/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { importInto } from '../helpers/import.js';
import { renameEntry } from '../helpers/zip.js';
import { dataChecksums, type TableChecksum } from './support/checksums.js';
import { damageData, incompressible, markEncrypted, replaceBytes, setMethod, zipOf } from './support/zips.js';

const MB = 1024 * 1024;
const VIDEO = 'https://www.tiktokv.com/share/video/7312345678901234567/';
const json = (value: unknown) => JSON.stringify(value);
const watch = (list: unknown) => json({ 'Your Activity': { 'Watch History': { VideoList: list } } });
const searches = (list: unknown) => json({ 'Your Activity': { Searches: { SearchList: list } } });
const DATA = 'user_data_tiktok.json';
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

let refusing: TestDatabase;
let accepting: TestDatabase;
let dir: string;
let quarantine: string;
let good: string;
let before: Record<string, TableChecksum>;
let serial = 0;

beforeAll(async () => {
  [refusing, accepting] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  dir = await mkdtemp(path.join(tmpdir(), 'bad-input-'));
  quarantine = path.join(dir, 'quarantine');
  good = path.join(dir, 'good.zip');
  await writeExport(
    generateUser({ seed: 5, username: 'victim.synthetic', scale: 2_000 }),
    { era: '2025', format: 'json' },
    good,
  );
  await load(refusing, good, 'victim');
  before = await dataChecksums(refusing.url);
}, 60_000);

afterAll(async () => {
  await refusing?.drop();
  await accepting?.drop();
  await rm(dir, { recursive: true, force: true });
});

async function write(bytes: Buffer | Promise<Buffer>, name = `bad-${++serial}.zip`): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, await bytes);
  return file;
}

async function load(
  database: TestDatabase,
  zipPath: string,
  accountName: string,
  kind: 'import' | 'sync' = 'import',
): Promise<ImportResult> {
  return importInto(
    database.url,
    {
      accountName,
      zipPath,
      kind,
      ...(kind === 'sync' ? { source: 'tiktok:request/1', requestId: '1' } : {}),
    },
    { quarantineDir: quarantine },
  );
}

async function lastRun(database: TestDatabase) {
  const { rows } = await database.pool.query(
    `select run_id, status, stage, error_code, error_message, quarantined_to, warnings
       from tiktok_sync.sync_runs order by run_id desc limit 1`,
  );
  return rows[0];
}

/** Every case of the import's bad-input list, and the new ones: [name, archive, code, how it arrived]. */
const REFUSED: [string, () => Promise<Buffer>, string, 'import' | 'sync'][] = [
  ['not a zip', async () => Buffer.from('hello, this is not a zip file at all'), 'archive_not_zip', 'import'],
  ['an empty file', async () => Buffer.alloc(0), 'archive_not_zip', 'sync'],
  ['a truncated zip', async () => (await readFile(good)).subarray(0, 3000), 'archive_truncated', 'sync'],
  [
    'an entry name with ..',
    async () =>
      renameEntry(await zipOf([{ name: 'xx/evil.json', data: '{}' }]), 'xx/evil.json', '../evil.json'),
    'archive_unsafe_path',
    'import',
  ],
  [
    'an absolute entry name',
    async () =>
      renameEntry(await zipOf([{ name: 'etc/evil.json', data: '{}' }]), 'etc/evil.json', '/tc/evil.json'),
    'archive_unsafe_path',
    'import',
  ],
  [
    'invalid JSON part-way',
    async () =>
      zipOf([
        { name: DATA, data: `${watch([{ Date: '2024-01-01 00:00:00', Link: VIDEO }]).slice(0, -5)}, oops` },
      ]),
    'archive_invalid_json',
    'import',
  ],
  [
    'a zip bomb',
    async () => zipOf([{ name: DATA, data: json({ a: '0'.repeat(50 * MB) }) }]),
    'archive_too_large',
    'sync',
  ],
  [
    'an encrypted entry',
    async () => markEncrypted(await zipOf([{ name: DATA, data: '{}' }])),
    'archive_encrypted',
    'import',
  ],
  [
    'an unknown compression method',
    async () => setMethod(await zipOf([{ name: DATA, data: '{}' }]), 12),
    'archive_unsupported',
    'import',
  ],
  [
    'no export file in it',
    async () => zipOf([{ name: 'video.mp4', data: Buffer.from([0, 0, 0, 24]) }]),
    'archive_no_export',
    'import',
  ],
  [
    'deeply nested JSON',
    async () =>
      zipOf([{ name: DATA, data: `{"Ads and data":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}` }]),
    'archive_too_deep',
    'import',
  ],
  [
    'deeply nested JSON inside a record',
    async () =>
      zipOf([
        {
          name: DATA,
          data: watch([{ Date: '2024-01-01 00:00:00', Link: VIDEO, Deep: 0 }]).replace(
            '"Deep":0',
            `"Deep":${'['.repeat(5_000)}${']'.repeat(5_000)}`,
          ),
        },
      ]),
    'archive_too_deep',
    'import',
  ],
  [
    'binary garbage named .json',
    async () =>
      zipOf([
        { name: DATA, data: Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 7919 + 13) % 256)) },
      ]),
    'archive_invalid_json',
    'sync',
  ],
  [
    'two different entries of the same name',
    async () =>
      renameEntry(
        await zipOf([
          { name: 'a.json', data: searches([{ Date: '2024-01-01 00:00:00', SearchTerm: 'a' }]) },
          { name: 'b.json', data: searches([{ Date: '2024-01-02 00:00:00', SearchTerm: 'b' }]) },
        ]),
        'b.json',
        'a.json',
      ),
    'archive_duplicate_member',
    'import',
  ],
  [
    'a bad CRC (a date changed, the JSON still valid)',
    async () =>
      replaceBytes(
        await zipOf([
          { name: DATA, data: watch([{ Date: '2024-01-01 00:00:00', Link: VIDEO }]), compress: false },
        ]),
        '2024-01-01',
        '2024-01-09',
      ),
    'archive_corrupt',
    'sync',
  ],
  [
    'damaged compressed data',
    async () =>
      damageData(
        await zipOf([
          {
            name: DATA,
            data: watch(
              Array.from({ length: 200 }, (_, i) => ({
                Date: `2024-01-01 00:00:${String(i % 60).padStart(2, '0')}`,
                Link: VIDEO,
              })),
            ),
          },
        ]),
      ),
    'archive_corrupt',
    'sync',
  ],
  [
    'a conversation name too long for an index',
    async () =>
      zipOf([
        {
          name: DATA,
          data: json({
            'Direct Message': {
              'Direct Messages': {
                ChatHistory: {
                  [`Chat History with ${incompressible(10_000)}:`]: [
                    { Date: '2024-01-01 00:00:00', From: 'a', Content: 'hi' },
                  ],
                },
              },
            },
          }),
        },
      ]),
    'archive_rejected_value',
    'import',
  ],
  [
    'a number beyond what Postgres can hold',
    async () =>
      zipOf([{ name: DATA, data: '{"Ads and data":{"Ad Interests":{"AdInterestCategories":1e999999}}}' }]),
    'archive_rejected_value',
    'import',
  ],
];

describe('bad inputs', () => {
  it.each(REFUSED)(
    'refuses %s with one clear error, keeps stored data, quarantines the archive and records it',
    async (_name, make, code, kind) => {
      const bytes = await make();
      const file = await write(bytes);
      const error = await load(refusing, file, 'victim', kind).catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(StageFailedError);
      expect((error as StageFailedError).code).toBe(code);
      expect((error as Error).message).not.toMatch(/\n/);

      expect(await dataChecksums(refusing.url)).toEqual(before);
      const run = await lastRun(refusing);
      expect(run).toMatchObject({ status: 'failed', error_code: code });
      expect(run.quarantined_to).toEqual(expect.stringContaining(quarantine));
      expect(existsSync(run.quarantined_to)).toBe(true);
      // The copy is named by the SHA-256 of the bytes, whether the import had hashed them already.
      expect(path.basename(run.quarantined_to).startsWith(`${sha256(bytes)}-`)).toBe(true);
      // A download of ours is moved; a file the user handed over is copied and left where it was.
      expect(existsSync(file)).toBe(kind === 'import');
      const reason = JSON.parse(
        await readFile(reasonPath(run.quarantined_to, run.run_id), 'utf8'),
      ) as QuarantineReason;
      expect(reason).toMatchObject({
        runId: run.run_id,
        account: 'victim',
        kind,
        code,
        action: kind === 'sync' ? 'moved' : 'copied',
        originalPath: file,
      });
      expect(reason.message).toBe(run.error_message);
    },
  );

  it('stores one copy of an archive that fails again, with the reason of each run', async () => {
    const bytes = Buffer.from('the same broken archive, handed over twice and downloaded once');
    const copies = async () =>
      (await readdir(quarantine)).filter((name) => name.startsWith(sha256(bytes)) && !name.endsWith('.json'));
    const runs: { run_id: string; quarantined_to: string }[] = [];
    for (const [name, kind] of [
      ['twice.zip', 'import'],
      ['twice-again.zip', 'import'],
      ['tiktok-1-abcd.zip', 'sync'],
    ] as const) {
      const file = await write(bytes, name);
      await expect(load(refusing, file, 'victim', kind)).rejects.toThrow(/not a zip/);
      runs.push(await lastRun(refusing));
      // The user's file stays; a download of ours is not kept twice.
      expect(existsSync(file)).toBe(kind === 'import');
    }
    expect(await copies()).toEqual([`${sha256(bytes)}-twice.zip`]);
    const copy = path.join(quarantine, `${sha256(bytes)}-twice.zip`);
    expect(runs.map((run) => run.quarantined_to)).toEqual([copy, copy, copy]);
    const reasons: QuarantineReason[] = [];
    for (const run of runs) reasons.push(JSON.parse(await readFile(reasonPath(copy, run.run_id), 'utf8')));
    expect(
      reasons.map((reason) => [reason.runId, reason.action, path.basename(reason.originalPath)]),
    ).toEqual([
      [runs[0]!.run_id, 'copied', 'twice.zip'],
      [runs[1]!.run_id, 'already quarantined', 'twice-again.zip'],
      [runs[2]!.run_id, 'already quarantined', 'tiktok-1-abcd.zip'],
    ]);
    expect(reasons.every((reason) => reason.sha256 === sha256(bytes))).toBe(true);
  });

  it('leaves a missing file where it is not, and quarantines nothing', async () => {
    const files = existsSync(quarantine) ? await readdir(quarantine) : [];
    const error = await load(refusing, path.join(dir, 'nope.zip'), 'victim').catch(
      (thrown: unknown) => thrown,
    );
    expect((error as StageFailedError).code).toBe('archive_missing');
    expect((await lastRun(refusing)).quarantined_to).toBeNull();
    expect(existsSync(quarantine) ? await readdir(quarantine) : []).toEqual(files);
  });
});

describe('odd but readable inputs', () => {
  async function rows(
    account: string,
    table: TableName,
    columns: string,
  ): Promise<Record<string, unknown>[]> {
    const { rows } = await accepting.pool.query(
      `select ${columns} from ${qualified(table)} t join tiktok.accounts a using (account_id) where a.name = $1 order by 1`,
      [account],
    );
    return rows;
  }

  const warningCodes = (result: ImportResult) => result.warnings.map((w) => w.code);

  it('keeps a string where a list belongs raw, and imports the rest', async () => {
    const file = await write(zipOf([{ name: DATA, data: watch('nope') }]));
    const result = await load(accepting, file, 'shape');
    expect(warningCodes(result)).toEqual(['unexpected_shape']);
    const { rows: raw } = await accepting.pool.query(
      `select path, content from tiktok_private.raw_sections r join tiktok.accounts a using (account_id) where a.name = 'shape'`,
    );
    expect(raw).toEqual([{ path: 'Your Activity/Watch History/VideoList', content: 'nope' }]);
  });

  it('stores a record with an impossible date without the date, the original in extra', async () => {
    const file = await write(
      zipOf([{ name: DATA, data: watch([{ Date: '2024-02-30 00:00:00', Link: VIDEO }]) }]),
    );
    const result = await load(accepting, file, 'dates');
    expect(result.warnings).toEqual([
      expect.objectContaining({
        code: 'bad_date',
        path: 'Your Activity/Watch History/VideoList',
        field: 'Date',
        count: 1,
      }),
    ]);
    expect(await rows('dates', 'watch_history', 'watched_at, link, extra')).toEqual([
      { watched_at: null, link: VIDEO, extra: { Date: '2024-02-30 00:00:00' } },
    ]);
  });

  it('stores a 50 MB single string, within a memory bound', async () => {
    const text = incompressible(50 * MB);
    const file = await write(
      zipOf([
        {
          name: DATA,
          data: json({
            'Direct Message': {
              'Direct Messages': {
                ChatHistory: {
                  'Chat History with ana:': [{ Date: '2024-01-01 00:00:00', From: 'ana', Content: text }],
                },
              },
            },
          }),
        },
      ]),
    );
    const rss = process.memoryUsage().rss;
    let peak = rss;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 10);
    try {
      const result = await load(accepting, file, 'long-string');
      expect(result.records).toBe(2);
    } finally {
      clearInterval(sampler);
    }
    expect(await rows('long-string', 'dm_messages', 'length(content) as n')).toEqual([{ n: 50 * MB }]);
    expect(peak - rss).toBeLessThan(1024 * MB);
  });

  it('stores a DM map of 100k conversations', async () => {
    const map: Record<string, unknown> = {};
    for (let i = 0; i < 100_000; i++) {
      map[`Chat History with user${i}:`] = [{ Date: '2024-01-01 00:00:00', From: `user${i}`, Content: 'hi' }];
    }
    const file = await write(
      zipOf([{ name: DATA, data: json({ 'Direct Message': { 'Direct Messages': { ChatHistory: map } } }) }]),
    );
    const result = await load(accepting, file, 'many-chats');
    expect(result.counts.dm_conversations?.inserted).toBe(100_000);
    expect(result.counts.dm_messages?.inserted).toBe(100_000);
  });

  it('reads identical duplicate entries once, with a warning', async () => {
    const data = searches([{ Date: '2024-01-01 00:00:00', SearchTerm: 'once' }]);
    const file = await write(
      renameEntry(
        await zipOf([
          { name: 'a.json', data },
          { name: 'b.json', data },
        ]),
        'b.json',
        'a.json',
      ),
    );
    const result = await load(accepting, file, 'duplicates');
    expect(warningCodes(result)).toContain('duplicate_member');
    expect(await rows('duplicates', 'searches', 'term, occurrence')).toEqual([
      { term: 'once', occurrence: 1 },
    ]);
  });

  it('reads a ZIP64 archive like any other', async () => {
    const data = watch([{ Date: '2024-01-01 00:00:00', Link: VIDEO }]);
    const result = await load(
      accepting,
      await write(zipOf([{ name: DATA, data }], { zip64: true })),
      'zip64',
    );
    expect(result.warningCount).toBe(0);
    expect(await rows('zip64', 'watch_history', 'video_id::text as id')).toEqual([
      { id: '7312345678901234567' },
    ]);
  });

  it('reads BOM-prefixed JSON and TXT files without a warning', async () => {
    const jsonResult = await load(
      accepting,
      await write(
        zipOf([
          { name: DATA, data: `\ufeff${searches([{ Date: '2024-01-01 00:00:00', SearchTerm: 'bom' }])}` },
        ]),
      ),
      'bom-json',
    );
    const txtResult = await load(
      accepting,
      await write(
        zipOf([
          {
            name: 'TikTok/Activity/Searches.txt',
            data: '\ufeffDate: 2024-01-01 00:00:00\nSearch Term: bom\n',
          },
        ]),
      ),
      'bom-txt',
    );
    expect(jsonResult.warningCount + txtResult.warningCount).toBe(0);
    expect(await rows('bom-json', 'searches', 'term')).toEqual([{ term: 'bom' }]);
    expect(await rows('bom-txt', 'searches', 'term')).toEqual([{ term: 'bom' }]);
  });

  it('reads a Latin-1 text file as Latin-1, with a warning', async () => {
    const latin1 = Buffer.from('Date: 2024-01-01 00:00:00\nSearch Term: café crème\n', 'latin1');
    const result = await load(
      accepting,
      await write(zipOf([{ name: 'TikTok/Activity/Searches.txt', data: latin1 }])),
      'latin1',
    );
    expect(warningCodes(result)).toEqual(['not_utf8']);
    expect(await rows('latin1', 'searches', 'term')).toEqual([{ term: 'café crème' }]);
  });

  it('imports UTF-16 files (re-saved by an editor) as their text, naming the encoding', async () => {
    const le = Buffer.from(
      `\ufeff${searches([{ Date: '2024-01-01 00:00:00', SearchTerm: 'utf16 東京' }])}`,
      'utf16le',
    );
    const be = Buffer.from('Date: 2024-01-02 00:00:00\r\nSearch Term: café\r\n', 'utf16le').swap16();
    // A JSON export and a TXT export, each in an archive of its own (one export per archive).
    const json = await load(accepting, await write(zipOf([{ name: DATA, data: le }])), 'utf16-le');
    const txt = await load(
      accepting,
      await write(zipOf([{ name: 'TikTok/Activity/Searches.txt', data: be }])),
      'utf16-be',
    );
    expect(warningCodes(json)).toEqual(['encoding']);
    expect(warningCodes(txt)).toEqual(['encoding']);
    expect(await rows('utf16-le', 'searches', 'term')).toEqual([{ term: 'utf16 東京' }]);
    expect(await rows('utf16-be', 'searches', 'term')).toEqual([{ term: 'café' }]);
  });

  it('keeps a link whose id does not fit 64 bits, without the id', async () => {
    const link = 'https://www.tiktokv.com/share/video/99999999999999999999999/';
    const result = await load(
      accepting,
      await write(zipOf([{ name: DATA, data: watch([{ Date: '2024-01-01 00:00:00', Link: link }]) }])),
      'big-id',
    );
    expect(result.records).toBe(1);
    expect(await rows('big-id', 'watch_history', 'video_id, link')).toEqual([{ video_id: null, link }]);
  });

  it('quarantines nothing that was imported', async () => {
    const { rows: quarantined } = await accepting.pool.query(
      'select count(*)::int as n from tiktok_sync.sync_runs where quarantined_to is not null',
    );
    expect(quarantined[0].n).toBe(0);
  });
});
