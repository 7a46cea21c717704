/**
 * Exports valid in form but wrong in content: an archive that holds the export twice, an export
 * whose values are all null, exports imported out of the order TikTok made them.
 */

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArchiveError } from '../../src/errors.js';
import { exportTime } from '../../src/ingest/export-order.js';
import type { ImportOptions } from '../../src/ingest/import-archive.js';
import { qualified, TABLE_SPECS } from '../../src/ingest/tables.js';
import { TABLE_NAMES } from '../../src/parsers/records.js';
import { evolve, generateUser, renderJson, renderTxt } from '../../src/synthetic/index.js';
import { tableCounts as countsOf } from '../helpers/counts.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { importInto } from '../helpers/import.js';
import { zipBytes } from '../helpers/zip.js';
import { BOOKKEEPING } from './support/checksums.js';

let database: TestDatabase;
let dir: string;
let serial = 0;

beforeAll(async () => {
  database = await createTestDatabase();
  dir = await mkdtemp(path.join(tmpdir(), 'content-test-'));
});
afterAll(async () => {
  await database.drop();
  await rm(dir, { recursive: true, force: true });
});

async function load(zipPath: string, account: string, options: Partial<ImportOptions> = {}) {
  return importInto(database.url, { accountName: account, zipPath, ...options });
}

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected the import to fail');
    },
    (error: unknown) => error as ArchiveError,
  );

/** A zip of these members, named `name` in a folder of its own. */
async function zipFile(name: string, members: [string, string][]): Promise<string> {
  serial += 1;
  const folder = path.join(dir, String(serial));
  await mkdir(folder, { recursive: true });
  const file = path.join(folder, name);
  await writeFile(file, await zipBytes(members.map(([member, data]) => ({ name: member, data }))));
  return file;
}

const tableCounts = (account: string) => countsOf(database.pool, account);

async function storedRows(account: string): Promise<number> {
  let total = 0;
  for (const table of TABLE_NAMES) {
    const { rows } = await database.pool.query(
      `select count(*)::int as n from ${qualified(table)} t join tiktok.accounts a using (account_id) where a.name = $1`,
      [account],
    );
    total += rows[0].n;
  }
  return total;
}

const user = generateUser({ seed: 31, username: 'content.synthetic', scale: 300 });
const json = renderJson(user, { era: '2025' });

describe('one export per archive', () => {
  it('refuses an archive that holds the export twice, listing both, and reads the one picked', async () => {
    const zip = await zipFile('twice.zip', [
      ['user_data_tiktok.json', json.text],
      ['sub/user_data_tiktok.json', json.text],
    ]);
    const error = await failure(load(zip, 'twice'));
    expect(error.code).toBe('archive_several_exports');
    expect(error.message).toContain(
      'holds 2 exports: `user_data_tiktok.json` (JSON), `sub/user_data_tiktok.json` (JSON)',
    );
    expect(error.message).toContain('--member');
    expect(await storedRows('twice')).toBe(0);

    const plain = await zipFile('plain.zip', [['user_data_tiktok.json', json.text]]);
    const once = await load(plain, 'twice-plain');
    const picked = await load(zip, 'twice', { member: 'sub/user_data_tiktok.json' });
    expect(picked.records).toBe(once.records);
    expect(await tableCounts('twice')).toEqual(await tableCounts('twice-plain'));
    const { rows } = await database.pool.query(
      `select max(occurrence)::int as most, count(*)::int as n from tiktok.watch_history
       join tiktok.accounts a using (account_id) where a.name = 'twice'`,
    );
    expect(rows[0]).toEqual({ most: 1, n: json.expected.watch_history });
    const { rows: profiles } = await database.pool.query(
      `select count(*)::int as n from tiktok.profile join tiktok.accounts a using (account_id)
       where a.name = 'twice' and removed_at is null`,
    );
    expect(profiles[0].n).toBe(1);
    // The pick is recorded with the archive, and an unknown pick says what the archive holds.
    const { rows: archives } = await database.pool.query(
      `select export_root from tiktok_sync.archives join tiktok.accounts a using (account_id) where a.name = 'twice'`,
    );
    expect(archives).toEqual([{ export_root: 'sub/user_data_tiktok.json' }]);
    const unknown = await failure(load(zip, 'twice', { member: 'other/' }));
    expect(unknown.message).toContain('--member `other/` is none of them');
  });

  it('refuses a JSON export next to a TXT tree, and two TXT trees holding the same sections', async () => {
    const txt = renderTxt(user, { era: '2025' });
    const tree = [...txt.files].map(([name, text]): [string, string] => [name, text]);
    const mixed = await zipFile('mixed.zip', [['user_data_tiktok.json', json.text], ...tree]);
    const mixedError = await failure(load(mixed, 'mixed'));
    expect(mixedError.code).toBe('archive_several_exports');
    expect(mixedError.message).toMatch(/\(JSON\).*\(TXT\)/);

    const two = await zipFile('two-trees.zip', [
      ...tree.map(([name, text]): [string, string] => [`first/${name}`, text]),
      ...tree.map(([name, text]): [string, string] => [`second/${name}`, text]),
    ]);
    const twoError = await failure(load(two, 'two-trees'));
    expect(twoError.code).toBe('archive_several_exports');
    expect(await storedRows('two-trees')).toBe(0);
    // One TXT tree is one export, whatever folders hold its sections.
    const one = await zipFile('one-tree.zip', tree);
    const whole = await load(one, 'one-tree');
    // A folder above an export's root picks it, when it holds just that one.
    const picked = await load(two, 'two-trees', { member: 'second/' });
    expect(picked.records).toBe(whole.records);
    expect(await tableCounts('two-trees')).toEqual(await tableCounts('one-tree'));
  });
});

/** The same JSON document with every value made null (keys and lists kept). */
function nulled(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(nulled);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, nulled(inner)]));
  return null;
}

describe('the removal guard', () => {
  it('holds back an export whose values are all null, storing nothing, unless accepted', async () => {
    const good = await zipFile('good.zip', [['user_data_tiktok.json', json.text]]);
    await load(good, 'nulls');
    const before = await tableCounts('nulls');
    const profileBefore = await database.pool.query(
      `select p.* from tiktok.profile p join tiktok.accounts a using (account_id) where a.name = 'nulls'`,
    );
    const empty = JSON.stringify(nulled(JSON.parse(json.text)));
    const bad = await zipFile('all-null.zip', [['user_data_tiktok.json', empty]]);

    const error = await failure(load(bad, 'nulls'));
    expect(error.code).toBe('export_removal_guard');
    expect(error.message).toMatch(/would mark \d+ of \d+ stored records removed/);
    expect(error.message).toMatch(/watch_history: all \d+ records removed/);
    expect(error.message).toMatch(/profile: 1 of 1 record emptied/);
    expect(error.message).toContain('nothing of it was stored');
    expect(error.message).toContain('--accept-removals');
    expect(await tableCounts('nulls')).toEqual(before);
    const profileAfter = await database.pool.query(
      `select p.* from tiktok.profile p join tiktok.accounts a using (account_id) where a.name = 'nulls'`,
    );
    expect(profileAfter.rows).toEqual(profileBefore.rows);
    const { rows: runs } = await database.pool.query(
      `select status, stage, error_code from tiktok_sync.sync_runs r join tiktok.accounts a using (account_id)
       where a.name = 'nulls' order by run_id desc limit 1`,
    );
    expect(runs[0]).toEqual({ status: 'failed', stage: 'reconcile', error_code: 'export_removal_guard' });

    const accepted = await load(bad, 'nulls', { acceptRemovals: true });
    expect(accepted.counts.watch_history?.removed).toBe(before.watch_history);
  });

  it("is off for an account's first import", async () => {
    const empty = JSON.stringify(nulled(JSON.parse(json.text)));
    const bad = await zipFile('first.zip', [['user_data_tiktok.json', empty]]);
    const result = await load(bad, 'first-null');
    expect(result.skipped).toBe(false);
  });

  it('lets through small sections and ordinary changes', async () => {
    const base = generateUser({ seed: 32, username: 'guard.ordinary', scale: 300 });
    const later = evolve(base, { seed: 33, days: 3 });
    const first = await zipFile('a.zip', [['user_data_tiktok.json', renderJson(base, { era: '2025' }).text]]);
    const second = await zipFile('b.zip', [
      ['user_data_tiktok.json', renderJson(later, { era: '2025' }).text],
    ]);
    await load(first, 'ordinary');
    const result = await load(second, 'ordinary');
    expect(result.counts.likes?.removed).toBe(later.lastChange!.removed.likes ?? 0);
  });
});

describe('exports in their own order', () => {
  it('tells when TikTok made an export, from the most trusted clue', () => {
    const now = new Date('2026-06-01T00:00:00Z');
    const collect = new Date('2026-05-01T10:00:00Z');
    const apply = new Date('2026-05-01T09:00:00Z');
    expect(
      exportTime({ collectTime: collect, applyTime: apply, fileName: 'TikTok_Data_1700000000.zip', now }),
    ).toEqual({
      at: collect,
      source: 'collect_time',
    });
    expect(exportTime({ applyTime: apply, now }).source).toBe('apply_time');
    expect(exportTime({ fileName: 'TikTok_Data_1764000000.zip', newestMemberTime: apply, now })).toEqual({
      at: new Date(1764000000 * 1000),
      source: 'file_name',
    });
    expect(exportTime({ fileName: 'export.zip', newestMemberTime: apply, now })).toEqual({
      at: apply,
      source: 'member_times',
    });
    // A zip tool's default time (1980), or one in the future, is no clue.
    expect(exportTime({ newestMemberTime: new Date('1980-01-01T00:00:00Z'), now })).toEqual({
      at: now,
      source: 'import_time',
    });
    expect(exportTime({ collectTime: new Date(0), now }).source).toBe('import_time');
  });

  /** Every data table of an account without bookkeeping columns, as sorted lines. */
  async function content(account: string): Promise<Record<string, string[]>> {
    // Surrogate ids hash the account in (migration 0014): the same rows give other ids elsewhere.
    const bookkeeping = new Set([...BOOKKEEPING, 'conversation_id', 'session_id']);
    const out: Record<string, string[]> = {};
    const tableOf = (name: string) => TABLE_NAMES.find((t) => qualified(t) === name)!;
    const tables = [...TABLE_NAMES.map((table) => qualified(table))];
    for (const table of tables) {
      const [schema, name] = table.split('.');
      const { rows: columns } = await database.pool.query(
        `select column_name from information_schema.columns where table_schema = $1 and table_name = $2 order by ordinal_position`,
        [schema, name],
      );
      // Volatile columns (signed URLs that change with every export) are never compared by the merge:
      // they hold the value of whichever export last changed the record, so they are left out here.
      const volatile = new Set(TABLE_SPECS[tableOf(table)]?.volatile ?? []);
      const kept = columns
        .map((c) => c.column_name as string)
        .filter((c) => !bookkeeping.has(c) && !volatile.has(c));
      const { rows } = await database.pool.query(
        `select ${kept.map((c) => `t.${c}`).join(', ')}, t.removed_at is null as current
         from ${table} t join tiktok.accounts a using (account_id) where a.name = $1`,
        [account],
      );
      out[table] = rows.map((row) => JSON.stringify(row)).sort();
    }
    const { rows: snapshots } = await database.pool.query(
      `select exported_at, follower_count, following_count, likes_received from tiktok.profile_snapshots
       join tiktok.accounts a using (account_id) where a.name = $1 order by exported_at`,
      [account],
    );
    out.profile_snapshots = snapshots.map((row) => JSON.stringify(row));
    const { rows: raw } = await database.pool.query(
      `select path, content_hash, superseded_at is null as current from tiktok_private.raw_sections
       join tiktok.accounts a using (account_id) where a.name = $1`,
      [account],
    );
    out.raw_sections = raw.map((row) => JSON.stringify(row)).sort();
    return out;
  }

  const permutations = <T>(items: readonly T[]): T[][] =>
    items.length <= 1
      ? [[...items]]
      : items.flatMap((item, i) =>
          permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]),
        );

  it('imports A, B, C in every order into the same tables as A → B → C', async () => {
    const a = generateUser({ seed: 41, username: 'order.synthetic', scale: 400 });
    const b = evolve(a, { seed: 42, days: 4 });
    const c = evolve(b, { seed: 43, days: 4 });
    // B holds no direct messages (a category-limited export): C's removals do not reach back past it.
    const exports = [
      { label: 'A', user: a, epoch: 1_760_000_000, categories: undefined },
      { label: 'B', user: b, epoch: 1_760_400_000, categories: ['activity', 'profile', 'video'] as const },
      { label: 'C', user: c, epoch: 1_760_800_000, categories: undefined },
    ];
    const zips = new Map<string, string>();
    for (const e of exports) {
      const rendered = renderJson(e.user, {
        era: '2025',
        ...(e.categories ? { categories: [...e.categories] } : {}),
      });
      zips.set(
        e.label,
        await zipFile(`TikTok_Data_${e.epoch}.zip`, [['user_data_tiktok.json', rendered.text]]),
      );
    }
    for (const label of ['A', 'B', 'C']) await load(zips.get(label)!, 'order-ABC');
    const expected = await content('order-ABC');
    expect(expected['tiktok.likes']!.some((line) => line.endsWith('"current":false}'))).toBe(true);

    for (const order of permutations(['A', 'B', 'C'])) {
      const account = `order-${order.join('')}-p`;
      const results = [];
      for (const label of order) results.push(await load(zips.get(label)!, account));
      const got = await content(account);
      for (const [table, lines] of Object.entries(expected)) {
        expect(got[table], `${order.join(' → ')}: ${table}`).toEqual(lines);
      }
      // An export older than one stored says so, and changes nothing of the newer one.
      const last = results.at(-1)!;
      expect(last.older).toBe(order.at(-1) !== 'C');
      expect(last.exportedAtSource).toBe('file_name');
    }
  });
});

describe('removals in export time, with a reason', () => {
  // Twenty watches, a day apart; links are numbered by position, so keep each link with its date.
  const days = Array.from({ length: 20 }, (_, i) => `2025-10-${String(i + 1).padStart(2, '0')} 12:00:00`);
  const list = (indexes: number[]) =>
    JSON.stringify({
      'Your Activity': {
        'Watch History': {
          VideoList: indexes.map((i) => ({
            Date: days[i],
            Link: `https://www.tiktokv.com/share/video/${7000 + i}/`,
          })),
        },
      },
    });

  it('dates a removal by the export that no longer held the record, and tells withdrawn from aged out', async () => {
    const first = await zipFile('TikTok_Data_1761000000.zip', [
      ['user_data_tiktok.json', list(days.map((_, i) => i))],
    ]);
    // The next export lost the three oldest watches (retention) and one in the middle (withdrawn).
    const kept = days.map((_, i) => i).filter((i) => i >= 3 && i !== 10);
    const second = await zipFile('TikTok_Data_1761500000.zip', [['user_data_tiktok.json', list(kept)]]);
    await load(first, 'reasons');
    const result = await load(second, 'reasons');
    expect(result.counts.watch_history?.removed).toBe(4);
    const { rows } = await database.pool.query(
      `select link, removed_at, removed_reason from tiktok.watch_history w join tiktok.accounts a using (account_id)
       where a.name = 'reasons' and removed_at is not null order by watched_at`,
    );
    expect(rows.map((row) => [row.link.match(/\d+/)![0], row.removed_reason])).toEqual([
      ['7000', 'aged_out'],
      ['7001', 'aged_out'],
      ['7002', 'aged_out'],
      ['7010', 'withdrawn'],
    ]);
    for (const row of rows) expect(row.removed_at).toEqual(new Date(1_761_500_000 * 1000));
    // Back in a later export: current again, with no reason left.
    const third = await zipFile('TikTok_Data_1762000000.zip', [
      ['user_data_tiktok.json', list([...kept, 10].sort((a, b) => a - b))],
    ]);
    await load(third, 'reasons');
    const { rows: back } = await database.pool.query(
      `select removed_at, removed_reason from tiktok.watch_history w join tiktok.accounts a using (account_id)
       where a.name = 'reasons' and link like '%/7010/'`,
    );
    expect(back).toEqual([{ removed_at: null, removed_reason: null }]);
  });
});
