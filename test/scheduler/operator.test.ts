import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ACCOUNT_TABLES, syncAccountNow } from '../../src/db/account-admin.js';
import { runCli } from '../cli/run-cli.js';
import { createWorld, HOUR, MINUTE, requestsByAccount, step, type World } from './support.js';

let world: World;
beforeAll(async () => {
  world = await createWorld(['ana', 'bo']);
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await world?.close();
});

/** The CLI against the world's database and config. */
async function cli(...args: string[]) {
  const { file, env } = await world.configFile();
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  return runCli(['--config', file, ...args]);
}

const imported = async (name: string) =>
  ((await requestsByAccount(world.database)).get(name) ?? []).filter((r) => r.status === 'imported').length;

describe('operator commands', () => {
  it('sync-now makes a due account of a running daemon claimed at its next tick', async () => {
    const { clock } = world;
    const config = await world.config({ interval: '1d' });
    const daemon = await world.daemon(config);
    await step(clock, [daemon], 0);
    for (let i = 0; i < 3; i++) await step(clock, [daemon], MINUTE);
    expect([await imported('ana'), await imported('bo')]).toEqual([1, 1]);
    await step(clock, [daemon], HOUR);
    expect([await imported('ana'), await imported('bo')]).toEqual([1, 1]);

    const claims = async () =>
      (
        await world.database.pool.query(
          `select a.name, s.claim_count::int from tiktok_sync.sync_schedule s join tiktok_sync.accounts a using (account_id) order by a.name`,
        )
      ).rows.map((row) => row.claim_count as number);
    const before = await claims();
    // The daemon runs on a simulated clock, so the command's work is called with that clock's time.
    const result = await syncAccountNow(world.database.pool, 'ana', clock.now());
    expect(result.kind).toBe('scheduled');
    await step(clock, [daemon], 0);
    expect(await claims()).toEqual([before[0]! + 1, before[1]!]);
    for (let i = 0; i < 3; i++) await step(clock, [daemon], MINUTE);
    expect([await imported('ana'), await imported('bo')]).toEqual([2, 1]);

    // The metric: each account's latest succeeded run, from the database.
    const metric = await daemon.metrics.registry.getSingleMetricAsString(
      'tiktok_sync_last_success_timestamp_seconds',
    );
    const { rows: latest } = await world.database.pool.query(
      `select a.name, extract(epoch from max(r.finished_at))::float8 as at from tiktok_sync.sync_runs r
         join tiktok_sync.accounts a using (account_id) where r.status = 'succeeded' group by a.name`,
    );
    for (const row of latest) {
      const value = new RegExp(
        `tiktok_sync_last_success_timestamp_seconds\\{account="${row.name}"\\} ([\\d.e+]+)`,
      ).exec(metric)?.[1];
      expect(Number(value)).toBeCloseTo(row.at, 3);
    }
    await daemon.close();

    // The command itself: an unknown account, and one the daemon has scheduled.
    expect((await cli('sync-now', '--account', 'nobody')).stderr.join('\n')).toMatch(
      /There is no account named `nobody`/,
    );
    const now = await cli('sync-now', '--account', 'bo');
    expect(now.code).toBe(0);
    expect(now.stdout.join('\n')).toMatch(/Account `bo` is due now/);
  });

  it('reports an account without a success as 0 in the metric', async () => {
    await world.database.pool.query(`insert into tiktok_sync.accounts (name) values ('fresh')`);
    const daemon = await world.daemon(await world.config());
    const metric = await daemon.metrics.registry.getSingleMetricAsString(
      'tiktok_sync_last_success_timestamp_seconds',
    );
    expect(metric).toMatch(/\{account="fresh"\} 0$/m);
    await daemon.close();
  });

  it('renames an account, refusing a taken or unknown name', async () => {
    expect((await cli('account', 'rename', 'fresh', 'bo')).stderr.join('\n')).toMatch(
      /There is an account named `bo` already/,
    );
    expect((await cli('account', 'rename', 'nobody', 'x')).stderr.join('\n')).toMatch(
      /There is no account named `nobody`/,
    );
    expect((await cli('account', 'rename', 'fresh', 'bad name')).code).toBe(1);
    const renamed = await cli('account', 'rename', 'fresh', 'renamed');
    expect(renamed.code).toBe(0);
    expect(renamed.stdout.join('\n')).toMatch(/Account `fresh` is now `renamed`/);
  });

  it('lists every table that holds rows of an account', async () => {
    const { rows } = await world.database.pool.query<{ name: string }>(
      `select c.table_schema || '.' || c.table_name as name
         from information_schema.columns c
         join information_schema.tables t using (table_schema, table_name)
        where c.column_name = 'account_id' and t.table_type = 'BASE TABLE'
          and c.table_schema in ('tiktok', 'tiktok_private', 'tiktok_sync')
          and c.table_name <> 'accounts' and c.table_schema || '.' || c.table_name <> 'tiktok_sync.accounts'
          -- tombstones name accounts that are gone (src/db/forgotten.ts)
          and c.table_schema || '.' || c.table_name <> 'tiktok_sync.forgotten_accounts'`,
    );
    expect([...ACCOUNT_TABLES].sort()).toEqual(rows.map((row) => row.name).sort());
  });

  it('deletes an account with all its rows and kept archives, after confirmation', async () => {
    const { pool } = world.database;
    const anaId = world.accounts.get('ana')!;
    const config = await world.config();
    const kept = path.join(config.archive.kept.dir, anaId);
    await mkdir(kept, { recursive: true });
    await writeFile(path.join(kept, 'export.zip'), 'kept');
    const count = async (accountId: string) => {
      let total = 0;
      for (const table of [...ACCOUNT_TABLES, 'tiktok_sync.accounts']) {
        const { rows } = await pool.query(`select count(*)::int as n from ${table} where account_id = $1`, [
          accountId,
        ]);
        total += rows[0].n;
      }
      return total;
    };
    const boBefore = await count(world.accounts.get('bo')!);
    expect(await count(anaId)).toBeGreaterThan(10);

    const refused = await cli('account', 'delete', 'ana');
    expect(refused.code).toBe(1);
    expect(refused.stderr.join('\n')).toMatch(/pass --yes to confirm/);
    expect((await cli('account', 'delete', 'nobody', '--yes')).stderr.join('\n')).toMatch(
      /There is no account named `nobody`/,
    );
    expect(await count(anaId)).toBeGreaterThan(10);

    const deleted = await cli('account', 'delete', 'ana', '--yes');
    expect(deleted.code).toBe(0);
    expect(deleted.stdout.join('\n')).toMatch(
      /Deleted account `ana` \(account id \d+\): [\d,]+ data rows, \d+ run\(s\)/,
    );
    expect(await count(anaId)).toBe(0);
    expect(await count(world.accounts.get('bo')!)).toBe(boBefore);
    await expect(stat(kept)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('asks to type the name, and deletes nothing on another answer', async () => {
    const { cmdAccountDelete } = await import('../../src/cli/account.js');
    const config = await world.config();
    const lines: string[] = [];
    const output = { out: (l = '') => lines.push(l), err: (l = '') => lines.push(l), interactive: true };
    const context = {
      config,
      logger: (await import('../../src/logger.js')).silentLogger(),
      database: world.database,
      signal: new AbortController().signal,
    };
    await expect(
      cmdAccountDelete(context, output, 'bo', { yes: false, prompt: async () => 'b' }),
    ).rejects.toThrow(/The name typed \(`b`\) is not `bo`; nothing was deleted/);
    await cmdAccountDelete(context, output, 'bo', { yes: false, prompt: async () => 'bo' });
    expect(lines.join('\n')).toMatch(/Deleted account `bo`/);
    const { rows } = await world.database.pool.query(`select name from tiktok_sync.accounts order by name`);
    expect(rows.map((row) => row.name)).toEqual(['renamed']);
  });
});
