import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Output } from '../../src/cli/output.js';
import { main } from '../../src/cli.js';
import { DEFAULT_ARCHIVE_LIMITS, openArchive } from '../../src/ingest/archive.js';
import { importArchive } from '../../src/ingest/import-archive.js';
import { silentLogger } from '../../src/logger.js';
import { generateUser, writeExport } from '../../src/synthetic/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

/**
 * A run left `running` by a process that stopped is closed by the next import of its account, and by
 * the next command of any kind; a run whose process is alive is left alone, whatever it is doing.
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
async function orphanRun(stage: string, account = 'ana'): Promise<string> {
  const { rows } = await database.pool.query(
    `insert into tiktok_sync.sync_runs (account_id, kind, source, stage)
     select account_id, 'import', 'killed', $1 from tiktok_sync.accounts where name = $2
     returning run_id`,
    [stage, account],
  );
  return rows[0].run_id;
}

/** The lock spaces of src/ingest/runs.ts: an account's writer lock, a run's session lock. */
const ACCOUNT_LOCK = 0x7417;
const RUN_LOCK = 0x7418;
const lockKey = (id: string) => Number(BigInt(id) % 2147483647n);

/** A session of its own, standing for another process's backend. */
async function session(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  return client;
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

  it('closes a run whose backend ended its transaction a moment before its session, once the import has committed', async () => {
    // A process killed mid-statement: its backend ends the transaction (the account lock is free)
    // slightly before the session (the run lock): the import waiting on the account lock can still
    // find the run held. Here the moment is stretched: the run lock is let go only once the waiting
    // import has taken the account lock and is parsing.
    const killed = await orphanRun('merge');
    const { rows } = await database.pool.query(
      "select account_id from tiktok_sync.accounts where name = 'ana'",
    );
    const accountId = rows[0].account_id as string;
    const backend = await session();
    let parsing!: () => void;
    const reachedParse = new Promise<void>((resolve) => {
      parsing = resolve;
    });
    let letParse!: () => void;
    const parseMayGo = new Promise<void>((resolve) => {
      letParse = resolve;
    });
    try {
      await backend.query('select pg_advisory_lock($1, $2)', [RUN_LOCK, lockKey(killed)]);
      await backend.query('begin');
      await backend.query('select pg_advisory_xact_lock($1, $2)', [ACCOUNT_LOCK, lockKey(accountId)]);
      const next = load(zips[1]!, async (zipPath, options) => {
        const archive = await openArchive(zipPath, options);
        const events = archive.events.bind(archive);
        return Object.assign(archive, {
          async *events() {
            parsing();
            await parseMayGo;
            yield* events();
          },
        });
      });
      // The import waits for the account lock…
      for (;;) {
        const waiting = await database.pool.query(
          "select count(*)::int as n from pg_locks where locktype = 'advisory' and not granted",
        );
        if (waiting.rows[0].n > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      // …which the killed backend's transaction frees first; its session lets the run go later.
      await backend.query('rollback');
      await reachedParse;
      expect(await run(killed)).toMatchObject({ status: 'running' });
      await backend.query('select pg_advisory_unlock($1, $2)', [RUN_LOCK, lockKey(killed)]);
      letParse();
      const result = await next;
      expect(await run(killed)).toMatchObject({
        status: 'failed',
        error_code: 'abandoned',
        archive_id: null,
      });
      expect((await run(killed)).error_message).toContain(`found by run ${result.runId}`);
    } finally {
      letParse();
      await backend.end();
    }
  });

  it('is closed by the next command of any kind, for every account, leaving live runs alone', async () => {
    const killed = await orphanRun('parse', 'bo');
    const live = await orphanRun('merge', 'ana');
    const alive = await session(); // the live run's process holds its lock
    await alive.query('select pg_advisory_lock($1, $2)', [RUN_LOCK, lockKey(live)]);
    const lines: string[] = [];
    const output: Output = {
      out: (l = '') => lines.push(l),
      err: (l = '') => lines.push(l),
      interactive: false,
    };
    vi.stubEnv('DATABASE_URL', database.url);
    vi.stubEnv('TIKTOK_SYNC_DATA_DIR', dir);
    try {
      expect(await main(['node', 'tiktok-sync', 'status', '--account', 'ana'], output)).toBe(0);
      expect(await run(killed)).toMatchObject({ status: 'failed', error_code: 'abandoned' });
      expect((await run(killed)).error_message).toMatch(
        /^The process running this import stopped at stage `parse` without recording an outcome \(killed, crashed or cut off from the database; found by a later command\)\. .*nothing of it was stored/,
      );
      expect(await run(live)).toMatchObject({ status: 'running', error_code: null });
    } finally {
      vi.unstubAllEnvs();
      await alive.end();
    }
    await load(zips[0]!); // its process is gone now: the next import of its account closes it
    expect(await run(live)).toMatchObject({ status: 'failed', error_code: 'abandoned' });
  });
});
