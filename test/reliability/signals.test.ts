import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateUser, writeExport } from '../../src/synthetic/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { importWithStaleHashes, newestRun, startImport, untilRunAt } from './support/cli-child.js';
import { compileChild } from './support/crash-trials.js';

/**
 * The first SIGTERM or SIGINT stops `tiktok-sync import` within a bounded time at any stage: hashing
 * a large file, or a merge statement running in Postgres. It says so in one line, exits 130, and
 * records its run as failed (`interrupted`) at the stage it stopped, with nothing of it stored.
 */
const BOUND_MS = 5_000;
let database: TestDatabase;
let dir: string;
let huge: string;
let zip: string;
const seen: string[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  dir = await mkdtemp(path.join(tmpdir(), 'signals-'));
  await compileChild(path.join(dir, 'child'));
  // 32 GiB that take no disk (a sparse file): hashing it takes far longer than the bound.
  huge = path.join(dir, 'TikTok_Data_1764000000.zip');
  const handle = await open(huge, 'w');
  await handle.truncate(32 * 1024 ** 3);
  await handle.close();
  zip = path.join(dir, 'TikTok_Data_1764086400.zip');
  await writeExport(
    generateUser({ seed: 6, username: 'signal.synthetic', scale: 60_000 }),
    { era: '2025', format: 'json' },
    zip,
  );
}, 120_000);

afterAll(async () => {
  console.info(`signal trials:\n${seen.map((line) => `  ${line}`).join('\n')}`);
  await database?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a signal during an import', () => {
  it.each([
    ['SIGTERM', 'unpack', () => huge],
    ['SIGINT', 'merge', () => zip],
  ] as const)(
    '%s during %s stops it within the bound, in one line, with the run recorded',
    async (signal, stage, input) => {
      if (stage === 'merge') {
        await importWithStaleHashes(database.url, input(), `signal-${stage}`, {
          DATABASE_URL: database.url,
          TIKTOK_SYNC_DATA_DIR: dir,
        });
      }
      const archivesBefore = (
        await database.pool.query('select count(*)::int as n from tiktok_sync.archives')
      ).rows[0].n;
      const child = startImport(
        input(),
        `signal-${stage}`,
        { DATABASE_URL: database.url, TIKTOK_SYNC_DATA_DIR: dir },
        30_000,
      );
      const runId = await untilRunAt(database.url, stage, child);
      // Well inside the stage: the hash (or the merge statement) has started.
      await new Promise((resolve) => setTimeout(resolve, 200));
      const sentAt = performance.now();
      child.process.kill(signal);
      const exit = await child.exited;
      const tookMs = Math.round(exit.endedAt - sentAt);
      seen.push(
        `${signal} during ${stage}: exit ${exit.code ?? exit.signal} after ${tookMs} ms; ${exit.errors.join(' | ')}`,
      );

      expect(tookMs).toBeLessThan(BOUND_MS);
      const sentence = `Interrupted by ${signal} during stage \`${stage}\` of run ${runId}; nothing of this run was stored; run it again.`;
      expect(exit.errors).toEqual([sentence]);
      expect(exit.code).toBe(130);
      expect(await newestRun(database.url)).toMatchObject({
        run_id: runId,
        status: 'failed',
        stage,
        error_code: 'interrupted',
        error_message: sentence,
      });
      const { rows } = await database.pool.query('select count(*)::int as n from tiktok_sync.archives');
      expect(rows[0].n).toBe(archivesBefore);
    },
    60_000,
  );
});
