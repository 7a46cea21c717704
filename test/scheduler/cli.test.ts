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
});
