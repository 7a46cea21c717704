import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/tiktok/clock.js';
import { createWorld, requestsByAccount, scheduleRow, type World } from './support.js';

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'daemon-process.ts');
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

let world: World;
const children: ChildProcess[] = [];
beforeAll(async () => {
  // Real time throughout: the daemons in other processes cannot share a simulated clock.
  world = await createWorld(['killed', 'termed'], { sandbox: { clock: systemClock, readyDelayMs: 3_000 } });
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await world?.close();
});

/** `tiktok-sync run` in a child process that works on `account` only. */
async function startChild(account: string, owner: string) {
  const other = account === 'killed' ? 'termed' : 'killed';
  const { file, env } = await world.configFile(
    {
      lease: '2s',
      listen: '127.0.0.1:0',
      // Hold the claim while TikTok prepares the data, polling rarely: the test stops the process meanwhile.
      checkWait: '1h',
      shutdownGrace: '500ms',
      shutdownTimeout: '5s',
      accounts: { [other]: { paused: true } },
    },
    { tiktok: { pollInitialSeconds: 60, pollMaxSeconds: 60 } },
  );
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
    cwd: ROOT,
    env: { ...process.env, ...env, TIKTOK_SYNC_CONFIG: file, TIKTOK_SYNC_OWNER: owner, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  children.push(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, stderr: () => stderr };
}

async function until(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('daemons in their own processes', () => {
  it('finishes the account of a daemon killed with SIGKILL once its lease expires, with the same request', async () => {
    const { database } = world;
    const accountId = world.accounts.get('killed')!;
    const { child, exited } = await startChild('killed', 'child-killed');
    await until(async () => {
      const row = await scheduleRow(database, accountId);
      const requests = await requestsByAccount(database);
      return row?.lease_owner === 'child-killed' && requests.get('killed')?.length === 1;
    });
    child.kill('SIGKILL');
    await exited;
    const killedAt = Date.now();
    const held = await scheduleRow(database, accountId);
    expect(held.lease_owner).toBe('child-killed');
    const [request] = (await requestsByAccount(database)).get('killed')!;

    const config = await world.config(
      { lease: '2s', accounts: { termed: { paused: true } } },
      { tiktok: { pollInitialSeconds: 1, pollMaxSeconds: 1 } },
    );
    const survivor = await world.daemon(config, { clock: systemClock, owner: 'survivor' });
    let claimedAt: number | undefined;
    await until(async () => {
      await survivor.tick();
      if (claimedAt === undefined && survivor.scheduler.active > 0) claimedAt = Date.now();
      await survivor.idle();
      return (await requestsByAccount(database)).get('killed')?.[0]?.status === 'imported';
    });
    expect(claimedAt! - killedAt).toBeGreaterThanOrEqual(held.lease_expires_at.getTime() - killedAt - 50);
    expect((await requestsByAccount(database)).get('killed')).toEqual([
      { ...request, status: 'imported', importedAt: expect.any(Date) },
    ]);
    await survivor.close();
  });

  it('on SIGTERM abandons the wait, releases its claim and exits within the bound', async () => {
    const { database } = world;
    const accountId = world.accounts.get('termed')!;
    const { child, exited, stderr } = await startChild('termed', 'child-termed');
    await until(async () => (await scheduleRow(database, accountId))?.lease_owner === 'child-termed');
    const signalled = Date.now();
    child.kill('SIGTERM');
    const code = await exited;
    expect(code, stderr()).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(5_000);
    const row = await scheduleRow(database, accountId);
    expect(row.lease_owner).toBeNull();
    expect(row.last_outcome).toBe('abandoned');
    expect((await requestsByAccount(database)).get('termed')?.[0]?.status).toMatch(/pending|ready/);
  });
});
