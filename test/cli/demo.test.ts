import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { runCli } from './run-cli.js';

let database: TestDatabase;
let dir: string;

beforeAll(async () => {
  database = await createTestDatabase();
  dir = await mkdtemp(path.join(tmpdir(), 'cli-demo-'));
  vi.stubEnv('DATABASE_URL', database.url);
  vi.stubEnv('TIKTOK_SYNC_DATA_DIR', dir);
  // The demo brings its own app and key: whatever is configured for TikTok must not matter.
  vi.stubEnv('TIKTOK_CLIENT_KEY', '');
  vi.stubEnv('TIKTOK_CLIENT_SECRET', '');
  vi.stubEnv('TIKTOK_SYNC_ENCRYPTION_KEY', '');
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await database?.drop();
  await rm(dir, { recursive: true, force: true });
});

async function count(sql: string): Promise<number> {
  return (await database.pool.query(sql)).rows[0].n;
}

describe('tiktok-sync demo', () => {
  it('connects a sandbox user through OAuth and syncs it twice, printing what each sync changed', async () => {
    const started = Date.now();
    const demo = await runCli(['demo']);
    expect(demo.stderr).toEqual([]);
    expect(demo.code).toBe(0);
    expect(Date.now() - started).toBeLessThan(30_000);
    const text = demo.stdout.join('\n');
    expect(text).toMatch(/Connected TikTok user `sbx-demo-\d+` as account `demo` \(a new account\)/);
    const summaries = text.match(/^Synced account `demo`: request \d+/gm) ?? [];
    expect(summaries).toHaveLength(2);
    const totals = [...text.matchAll(/^total\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$/gm)].map((m) =>
      m.slice(1).map(Number),
    );
    expect(totals).toHaveLength(2);
    // First sync: everything is new. Second: a little is new, a few things are withdrawn, most unchanged.
    expect(totals[0]![0]).toBeGreaterThan(500);
    expect(totals[0]!.slice(1)).toEqual([0, 0, 0, 0]);
    expect(totals[1]![0]).toBeGreaterThan(0);
    expect(totals[1]![2]).toBeGreaterThan(totals[1]![0]!);
    expect(totals[1]![3]).toBeGreaterThan(0);
    expect(text).toMatch(/select .* from tiktok\.daily_activity/);
    expect(text).toContain(`Database: ${database.url.replace(/:[^:@/]+@/, ':***@')}`);
    // It ends with the report of the account, written into the data directory.
    const report = path.join(dir, 'report-demo.html');
    expect(demo.stdout.at(-1)).toBe(`Report: ${report}`);
    const html = await readFile(report, 'utf8');
    expect(html).toContain('<h2>Account demo</h2>');
    expect(html).toMatch(/data-chart="changes" data-account="demo" data-points="[1-9]/);

    expect(await count('select count(*)::int as n from tiktok.watch_history')).toBeGreaterThan(0);
    expect(
      await count('select count(*)::int as n from tiktok.likes where removed_at is not null'),
    ).toBeGreaterThan(0);
    expect(await count('select count(*)::int as n from tiktok.dm_messages')).toBeGreaterThan(0);
    expect(
      await count(
        "select count(*)::int as n from tiktok_sync.sync_runs where kind = 'sync' and status = 'succeeded'",
      ),
    ).toBe(2);
  });

  it('runs again on the same account', async () => {
    const again = await runCli(['demo']);
    expect(again.code).toBe(0);
    expect(again.stdout.join('\n')).toMatch(/as account `demo` \(its connection renewed\)/);
    expect(await count('select count(*)::int as n from tiktok_sync.accounts')).toBe(1);
    expect(
      await count("select count(*)::int as n from tiktok_sync.data_requests where status = 'imported'"),
    ).toBe(4);
  });

  it('leaves its data but no grant that a daemon would try and fail on', async () => {
    // The grant is under a throwaway key, from a sandbox that is gone: the daemon must not claim it.
    expect(await count('select count(*)::int as n from tiktok_sync.credentials')).toBe(0);
    expect(await count('select count(*)::int as n from tiktok_sync.sync_schedule')).toBe(0);
    expect(await count('select count(*)::int as n from tiktok.watch_history')).toBeGreaterThan(0);
    const status = await runCli(['status', '--json']);
    expect(JSON.parse(status.stdout.join('\n')).sync).toMatchObject([
      { account: 'demo', state: 'not_connected' },
    ]);
  });
});
