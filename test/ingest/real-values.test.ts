import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportResult } from '../../src/ingest/import-archive.js';
import { generateUser, renderJson } from '../../src/synthetic/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { importInto } from '../helpers/import.js';
import { dataTableWrites } from '../helpers/stats.js';
import { zipBytes } from '../helpers/zip.js';

type Json = { [key: string]: Json } | Json[] | string | number | boolean | null;

/**
 * Sets every `step`-th `Date` of the lists under `Your Activity` to one of TikTok's sentinels, and
 * returns how many per section path.
 */
function sentinelDates(doc: Json, step: number): Map<string, number> {
  const hits = new Map<string, number>();
  let seen = 0;
  const activity = (doc as Record<string, Json>)['Your Activity'] as Record<string, Json>;
  for (const [section, value] of Object.entries(activity)) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) continue;
    for (const [container, list] of Object.entries(value)) {
      if (!Array.isArray(list)) continue;
      for (const item of list) {
        if (item === null || typeof item !== 'object' || Array.isArray(item)) continue;
        const key = 'Date' in item ? 'Date' : 'date' in item ? 'date' : undefined;
        if (key === undefined || ++seen % step !== 0) continue;
        item[key] = seen % (2 * step) === 0 ? '1970-01-01 00:00:00' : '1969-12-31 23:59:59';
        const where = `Your Activity/${section}/${container}`;
        hits.set(where, (hits.get(where) ?? 0) + 1);
      }
    }
  }
  return hits;
}

describe('real values in an import', () => {
  let database: TestDatabase;
  let dir: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    dir = await mkdtemp(path.join(tmpdir(), 'real-values-'));
  });
  afterAll(async () => {
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  });

  async function load(file: string, accountName: string, force = false): Promise<ImportResult> {
    return importInto(database.url, { accountName, zipPath: file, force });
  }

  it('imports an export with 1% of its dates set to the sentinel exactly, and counts them per section and field', async () => {
    const user = generateUser({ seed: 77, username: 'sentinel.synthetic', scale: 2000 });
    const rendered = renderJson(user, { era: '2025' });
    const clean = path.join(dir, 'clean.zip');
    await writeFile(clean, await zipBytes([{ name: rendered.name, data: rendered.text }]));
    const doc = JSON.parse(rendered.text) as Json;
    const hits = sentinelDates(doc, 100);
    const sentinels = [...hits.values()].reduce((a, b) => a + b, 0);
    expect(sentinels).toBeGreaterThan(10);
    const damaged = path.join(dir, 'sentinels.zip');
    await writeFile(damaged, await zipBytes([{ name: rendered.name, data: JSON.stringify(doc) }]));

    await load(clean, 'clean');
    const result = await load(damaged, 'sentinels');

    // Every record is stored: the 99 % exactly as in the clean export, the 1 % without their date.
    const counts = async (account: string) =>
      (
        await database.pool.query<{ n: number; dated: number }>(
          `select count(*)::int as n, count(watched_at)::int as dated from tiktok.watch_history w
           join tiktok.accounts a using (account_id) where a.name = $1`,
          [account],
        )
      ).rows[0]!;
    const watchHits = hits.get('Your Activity/Watch History/VideoList') ?? 0;
    expect(watchHits).toBeGreaterThan(0);
    const clean_ = await counts('clean');
    const damaged_ = await counts('sentinels');
    expect(damaged_.n).toBe(clean_.n);
    expect(damaged_.dated).toBe(clean_.dated - watchHits);
    const same = await database.pool.query<{ n: number }>(
      `select count(*)::int as n from (
         select watched_at, link from tiktok.watch_history join tiktok.accounts a using (account_id) where a.name = 'clean'
         intersect all
         select watched_at, link from tiktok.watch_history join tiktok.accounts a using (account_id) where a.name = 'sentinels'
       ) x`,
    );
    expect(same.rows[0]!.n).toBe(clean_.n - watchHits);

    // The originals are on the rows.
    const kept = await database.pool.query<{ original: string }>(
      `select extra->>'Date' as original from tiktok.watch_history join tiktok.accounts a using (account_id)
       where a.name = 'sentinels' and watched_at is null`,
    );
    expect(new Set(kept.rows.map((r) => r.original))).toEqual(
      new Set(['1970-01-01 00:00:00', '1969-12-31 23:59:59']),
    );

    // One counter per section and field, in the result and in the run record.
    const counted = result.warnings.filter((w) => w.code === 'unknown_date');
    expect(new Map(counted.map((w) => [w.path, w.count]))).toEqual(hits);
    expect(counted.every((w) => w.field === 'Date' || w.field === 'date')).toBe(true);
    const { rows } = await database.pool.query<{ warnings: { code: string; path: string; count: number }[] }>(
      'select warnings from tiktok_sync.sync_runs where run_id = $1',
      [result.runId],
    );
    const recorded = rows[0]!.warnings.filter((w) => w.code === 'unknown_date');
    expect(recorded.reduce((a, w) => a + w.count, 0)).toBe(sentinels);

    // Merging the same export again writes nothing.
    const before = await dataTableWrites(database.url);
    const again = await load(damaged, 'sentinels', true);
    expect(again.skipped).toBe(false);
    expect(await dataTableWrites(database.url)).toBe(before);
  });

  it('keeps records nothing identifies in refused_records, once', async () => {
    const data = JSON.stringify({
      'Your Activity': {
        'Watch History': {
          VideoList: [
            { Date: '2024-01-01 00:00:00', Link: 'https://www.tiktokv.com/share/video/7300000000000000001/' },
            { Date: '1970-01-01 00:00:00', Link: 'None' },
            'not a record',
          ],
        },
      },
    });
    const file = path.join(dir, 'refused.zip');
    await writeFile(file, await zipBytes([{ name: 'user_data_tiktok.json', data }]));
    const first = await load(file, 'refused');
    expect(first.counts.refused_records).toMatchObject({ inserted: 2 });
    const { rows } = await database.pool.query(
      `select target_table, path, content, reason, r.first_seen_run_id::text as run
       from tiktok_private.refused_records r join tiktok.accounts a using (account_id)
       where a.name = 'refused' order by path`,
    );
    expect(rows).toEqual([
      {
        target_table: 'watch_history',
        path: 'Your Activity/Watch History/VideoList[1]',
        content: { Date: '1970-01-01 00:00:00', Link: 'None' },
        reason: expect.stringContaining('nothing tells it apart'),
        run: first.runId,
      },
      {
        target_table: 'watch_history',
        path: 'Your Activity/Watch History/VideoList[2]',
        content: 'not a record',
        reason: expect.stringContaining('not a record'),
        run: first.runId,
      },
    ]);
    const again = await load(file, 'refused-again');
    expect(again.counts.refused_records).toMatchObject({ inserted: 2 });
    const forced = await load(file, 'refused', true);
    expect(forced.counts.refused_records).toMatchObject({ inserted: 0, unchanged: 2 });
  });
});
