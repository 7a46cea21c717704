import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Output } from '../../src/cli/output.js';
import { registerRunCommand } from '../../src/cli/run.js';
import { printSyncStatus } from '../../src/cli/sync-status.js';
import { systemClock } from '../../src/tiktok/clock.js';
import { createWorld, requestsByAccount, type World } from './support.js';

let world: World;
beforeAll(async () => {
  world = await createWorld(['ana', 'bo'], { sandbox: { clock: systemClock, readyDelayMs: 0 } });
});
afterAll(async () => {
  await world?.close();
});

function capture(): Output & { lines: string[] } {
  const lines: string[] = [];
  return { lines, out: (line = '') => lines.push(line), err: () => {}, interactive: false };
}

describe('tiktok-sync run', () => {
  it('--once syncs the due accounts, prints their status and returns', async () => {
    const config = await world.config({ accounts: { bo: { paused: true } } });
    const output = capture();
    const program = new Command('tiktok-sync').exitOverride();
    registerRunCommand(program, {
      output,
      signal: new AbortController().signal,
      loadConfig: () => ({ ...config, logLevel: 'silent' }),
    });
    await program.parseAsync(['node', 'tiktok-sync', 'run', '--once']);
    expect((await requestsByAccount(world.database)).get('ana')?.map((r) => r.status)).toEqual(['imported']);
    const text = output.lines.join('\n');
    expect(text).toMatch(/^account\s+state\s+last success/m);
    expect(text).toMatch(/^ana\s+active\s+\d{4}-\d\d-\d\dT/m);
    expect(text).toMatch(/^bo\s+paused/m);

    const json = capture();
    await printSyncStatus({ database: world.database }, json, { json: true, account: 'ana' });
    const parsed = JSON.parse(json.lines.join('\n'));
    expect(parsed.sync).toHaveLength(1);
    expect(parsed.sync[0]).toMatchObject({ account: 'ana', state: 'active', syncCount: 1, inFlight: null });
    expect(parsed.sync[0].lastCounts.inserted).toBeGreaterThan(0);
  });

  it('refuses to start without the TikTok app settings, naming them', async () => {
    const config = await world.config();
    const program = new Command('tiktok-sync').exitOverride();
    registerRunCommand(program, {
      output: capture(),
      signal: new AbortController().signal,
      loadConfig: () => ({ ...config, tiktok: { ...config.tiktok, clientSecret: undefined } }),
    });
    await expect(program.parseAsync(['node', 'tiktok-sync', 'run', '--once'])).rejects.toThrow(
      /No TikTok client secret is configured; set TIKTOK_CLIENT_SECRET/,
    );
  });

  it('--once exits with an error naming the accounts that are stopped', async () => {
    const config = await world.config({ accounts: { bo: { paused: true } } });
    const run = () => {
      const program = new Command('tiktok-sync').exitOverride();
      registerRunCommand(program, {
        output: capture(),
        signal: new AbortController().signal,
        loadConfig: () => ({ ...config, logLevel: 'silent' }),
      });
      return program.parseAsync(['node', 'tiktok-sync', 'run', '--once']);
    };
    await world.database.pool.query(
      `update tiktok_sync.sync_schedule s set stopped_at = now(), stop_reason = 'the export was refused'
         from tiktok_sync.accounts a where a.account_id = s.account_id and a.name = 'ana'`,
    );
    await expect(run()).rejects.toThrow(/1 account\(s\) stopped: `ana`.*tiktok-sync run --retry-stopped/);
    await world.database.pool.query(
      `update tiktok_sync.sync_schedule s set stopped_at = null, stop_reason = null
         from tiktok_sync.accounts a where a.account_id = s.account_id and a.name = 'ana'`,
    );
    await expect(run()).resolves.toBeDefined();
  });

  it("status shows the last success of any import or sync, not only the daemon's", async () => {
    await world.database.pool.query(
      `insert into tiktok_sync.sync_runs (account_id, kind, source, status, finished_at)
       select account_id, 'import', 'a file', 'succeeded', '2026-01-02T03:04:05Z' from tiktok_sync.accounts where name = 'bo'`,
    );
    const json = capture();
    await printSyncStatus({ database: world.database }, json, { json: true, account: 'bo' });
    const [bo] = JSON.parse(json.lines.join('\n')).sync;
    expect(bo.lastSuccessAt).toBe('2026-01-02T03:04:05.000Z');
  });
});
