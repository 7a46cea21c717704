import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ARCHIVE_LIMITS, openArchive } from '../../src/ingest/archive.js';
import { importArchive } from '../../src/ingest/import-archive.js';
import { silentLogger } from '../../src/logger.js';
import { generateUser, writeExport } from '../../src/synthetic/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

/**
 * A run left `running` by a process that stopped is closed by the next import of its account; a run
 * whose process is alive is left alone, whatever it is doing.
 */
let database: TestDatabase;
let dir: string;
let zips: string[];

beforeAll(async () => {
  database = await createTestDatabase();
  dir = await mkdtemp(path.join(tmpdir(), 'abandoned-'));
  const user = generateUser({ seed: 4, username: 'runs.synthetic', scale: 200 });
  zips = [];
  for (const era of ['2025', '2026'] as const) {
    const zip = path.join(dir, `${era}.zip`);
    await writeExport(user, { era, format: 'json' }, zip);
    zips.push(zip);
  }
});

afterAll(async () => {
  await database.drop();
  await rm(dir, { recursive: true, force: true });
});

async function run(runId: string) {
  const { rows } = await database.pool.query(
    'select status, stage, error_code, error_message, archive_id from tiktok_sync.sync_runs where run_id = $1',
    [runId],
  );
  return rows[0];
}

/** A `running` run as a killed process leaves it: no session holds its lock. */
async function orphanRun(stage: string): Promise<string> {
  const { rows } = await database.pool.query(
    `insert into tiktok_sync.sync_runs (account_id, kind, source, stage)
     select account_id, 'import', 'killed', $1 from tiktok_sync.accounts where name = 'ana'
     returning run_id`,
    [stage],
  );
  return rows[0].run_id;
}

function load(zipPath: string, open?: typeof openArchive) {
  return importArchive(
    { database, logger: silentLogger(), limits: DEFAULT_ARCHIVE_LIMITS, ...(open ? { open } : {}) },
    { accountName: 'ana', zipPath },
  );
}

describe('runs of stopped processes', () => {
  it('closes a run killed before its commit as abandoned, saying nothing of it was stored', async () => {
    await load(zips[0]!);
    const killed = await orphanRun('merge');
    const next = await load(zips[0]!);
    expect(await run(killed)).toMatchObject({ status: 'failed', error_code: 'abandoned', archive_id: null });
    expect((await run(killed)).error_message).toMatch(
      new RegExp(`stopped at stage \`merge\`.*run ${next.runId}.*nothing of it was stored`),
    );
  });

  it('closes a run killed after its commit with its archive, saying the data is stored', async () => {
    const killed = await orphanRun('record');
    // What the killed run had committed: the archive row that names it.
    await database.pool.query(
      `insert into tiktok_sync.archives (account_id, sha256, size_bytes, source, format, era, member_count, record_count, first_run_id, exported_at, exported_at_source)
       select account_id, '\\x01', 1, 'killed', 'json', '2025', 1, 1, $1, now(), 'import_time' from tiktok_sync.accounts where name = 'ana'`,
      [killed],
    );
    await load(zips[0]!);
    const closed = await run(killed);
    expect(closed).toMatchObject({
      status: 'failed',
      error_code: 'abandoned',
      archive_id: expect.any(String),
    });
    expect(closed.error_message).toMatch(/after its archive was committed.*The data is stored/);
  });

  it('leaves the run of a live process alone, even while another import of the account finishes', async () => {
    let release!: () => void;
    const opened = new Promise<void>((resolve) => {
      release = resolve;
    });
    let started!: () => void;
    const waiting = new Promise<void>((resolve) => {
      started = resolve;
    });
    // A slow first import: it has its run, and waits before its transaction.
    const slow = load(zips[1]!, async (zipPath, options) => {
      started();
      await opened;
      return openArchive(zipPath, options);
    });
    await waiting;
    const { rows } = await database.pool.query(
      "select run_id from tiktok_sync.sync_runs where status = 'running' order by run_id desc limit 1",
    );
    const live = rows[0].run_id as string;
    await load(zips[0]!); // another import of the same account, start to finish
    expect(await run(live)).toMatchObject({ status: 'running', error_code: null });
    release();
    const result = await slow;
    expect(result.runId).toBe(live);
    expect(await run(live)).toMatchObject({ status: 'succeeded', error_code: null });
  });

  it('leaves the runs of other accounts alone', async () => {
    const killed = await orphanRun('parse');
    await importArchive(
      { database, logger: silentLogger(), limits: DEFAULT_ARCHIVE_LIMITS },
      { accountName: 'bo', zipPath: zips[0]! },
    );
    expect((await run(killed)).status).toBe('running');
    await load(zips[0]!);
    expect((await run(killed)).status).toBe('failed');
  });
});
