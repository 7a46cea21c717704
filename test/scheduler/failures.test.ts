import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importArchive } from '../../src/ingest/import-archive.js';
import { silentLogger } from '../../src/logger.js';
import { clearStops } from '../../src/scheduler/claims.js';
import type { SchedulerDatabase } from '../../src/scheduler/db-types.js';
import { accountSyncStatus, formatAccountSyncStatus } from '../../src/scheduler/status.js';
import { generateUser, renderJson } from '../../src/synthetic/index.js';
import type { TikTokTables } from '../../src/tiktok/db-types.js';
import { tableCounts } from '../helpers/counts.js';
import { zipBytes } from '../helpers/zip.js';
import {
  createWorld,
  DAY,
  HOUR,
  MINUTE,
  requestsByAccount,
  SECOND,
  scheduleRow,
  step,
  type World,
} from './support.js';

const NAMES = ['ana', 'bo', 'cy', 'once'];
let world: World;
beforeAll(async () => {
  world = await createWorld(NAMES, {
    grants: { once: ['portability.all.single'] },
  });
});
afterAll(async () => {
  await world?.close();
});

async function status() {
  const rows = await accountSyncStatus(world.database.db.withTables<TikTokTables>(), {
    now: world.clock.now(),
  });
  return Object.fromEntries(rows.map((row) => [row.account, row]));
}

async function importedCount(name: string) {
  const requests = await requestsByAccount(world.database);
  return (requests.get(name) ?? []).filter((request) => request.status === 'imported').length;
}

describe('failure policy', () => {
  it('marks a .single grant complete after its one export', async () => {
    const { clock } = world;
    const config = await world.config({
      accounts: { ana: { paused: true }, bo: { paused: true }, cy: { paused: true } },
    });
    const daemon = await world.daemon(config);
    for (let i = 0; i < 4; i++) await step(clock, [daemon], MINUTE);
    expect(await importedCount('once')).toBe(1);
    expect((await status()).once!.state).toBe('complete');
    for (let i = 0; i < 3; i++) await step(clock, [daemon], 12 * HOUR);
    expect(await importedCount('once')).toBe(1);
    await daemon.close();
  });

  it('waits out a Retry-After longer than the backoff, then resets the attempts after a success', async () => {
    const { clock, sandbox, database } = world;
    const config = await world.config({
      concurrency: 1,
      retryInitial: '1m',
      accounts: { bo: { paused: true }, cy: { paused: true } },
    });
    const daemon = await world.daemon(config);
    sandbox.faults.rateLimit(1, { endpoint: 'add', retryAfterSeconds: 900 });
    const now = clock.now();
    await step(clock, [daemon], 0);
    const row = await scheduleRow(database, world.accounts.get('ana')!);
    expect(row.attempts).toBe(1);
    expect(row.last_error_code).toBe('rate_limit_exceeded');
    expect(row.backoff_until.getTime()).toBeGreaterThanOrEqual(now + 900 * SECOND);
    expect(row.next_due_at.getTime()).toBe(row.backoff_until.getTime());
    const rows = await status();
    expect(rows.ana!.state).toBe('retrying');
    expect(formatAccountSyncStatus(Object.values(rows), clock.now())).toMatch(
      /ana: last error at .* \[rate_limit_exceeded\]: .*\(attempt 1, next try in 1\dm\)/,
    );
    // Not before the server's 15 minutes…
    await step(clock, [daemon], 14 * MINUTE);
    expect(sandbox.faults.rateLimitFaults).toHaveLength(0);
    expect((await scheduleRow(database, world.accounts.get('ana')!)).attempts).toBe(1);
    // …then the request is made and the data imported.
    for (let i = 0; i < 5; i++) await step(clock, [daemon], MINUTE);
    expect(await importedCount('ana')).toBe(1);
    const after = await scheduleRow(database, world.accounts.get('ana')!);
    expect(after.attempts).toBe(0);
    expect(after.backoff_until).toBeNull();
    await daemon.close();
  });

  it('stops one account on a terminal failure, keeps syncing the others, and retries it when asked', async () => {
    const { clock, database } = world;
    await clock.advance(DAY);
    const config = await world.config({ concurrency: 1, accounts: { ana: { paused: true } } });
    let corrupt = true;
    const daemon = await world.daemon(config, {
      // bo's archive arrives damaged (while `corrupt`): the real import refuses it.
      importArchive: async (options, signal) => {
        if (options.accountName === 'bo' && corrupt) await writeFile(options.zipPath, 'not a zip at all');
        return importArchive({ database, logger: silentLogger(), limits: config.archive, signal }, options);
      },
    });
    const before = { bo: await importedCount('bo'), cy: await importedCount('cy') };
    await step(clock, [daemon], 0); // bo and cy make their requests
    for (let i = 0; i < 4; i++) await step(clock, [daemon], MINUTE);
    const rows = await status();
    expect(rows.bo!.state).toBe('stopped');
    expect(rows.bo!.reason).toMatch(/zip/);
    expect(rows.cy!.state).toBe('active');
    expect(await importedCount('cy')).toBe(before.cy + 1);
    const failures = await daemon.metrics.registry.getSingleMetricAsString('tiktok_sync_failures_total');
    expect(failures).toMatch(/kind="terminal"/);
    expect(formatAccountSyncStatus(Object.values(rows), clock.now())).toMatch(/bo: stopped: .*zip/);

    // Stopped stays stopped across intervals…
    await step(clock, [daemon], 13 * HOUR);
    await step(clock, [daemon], 3 * MINUTE);
    expect(await importedCount('bo')).toBe(before.bo);
    // …until an operator clears it (tiktok-sync run --retry-stopped).
    const db = world.database.db.withTables<TikTokTables>().withTables<{
      'tiktok_sync.sync_schedule': SchedulerDatabase['tiktok_sync.sync_schedule'];
    }>();
    corrupt = false;
    expect(await clearStops(db, { now: clock.now(), accounts: ['bo'] })).toBe(1);
    for (let i = 0; i < 4; i++) await step(clock, [daemon], MINUTE);
    expect(await importedCount('bo')).toBe(before.bo + 1);
    expect((await status()).bo!.state).toBe('active');
    await daemon.close();
  });

  it('holds back an export that would remove most stored records as needing attention, not as a retry', async () => {
    const { clock, database } = world;
    await clock.advance(DAY);
    const config = await world.config({ concurrency: 1, accounts: { ana: { paused: true } } });
    // Another person's export arrives for cy: every record cy has would be marked removed.
    const stranger = renderJson(generateUser({ seed: 991, username: 'someone.else', scale: 25 }), {
      era: '2025',
    });
    let wrong = true;
    const daemon = await world.daemon(config, {
      importArchive: async (options, signal) => {
        if (options.accountName === 'cy' && wrong)
          await writeFile(
            options.zipPath,
            await zipBytes([{ name: 'user_data_tiktok.json', data: stranger.text }]),
          );
        return importArchive(
          { database, logger: silentLogger(), limits: config.archive, signal, guard: config.archive.guard },
          options,
        );
      },
    });
    const before = await tableCounts(database.pool, 'cy');
    const imported = await importedCount('cy');
    for (let i = 0; i < 5; i++) await step(clock, [daemon], MINUTE);
    const rows = await status();
    expect(rows.cy!.state).toBe('needs_attention');
    expect(rows.cy!.reason).toMatch(/would mark \d+ of \d+ stored records removed/);
    expect(rows.cy!.reason).toContain('acceptRemovals');
    expect(formatAccountSyncStatus(Object.values(rows), clock.now())).toMatch(/cy: needs attention: /);
    // Nothing of it was stored, and it is not retried on its own.
    expect(await tableCounts(database.pool, 'cy')).toEqual(before);
    await step(clock, [daemon], 13 * HOUR);
    await step(clock, [daemon], 3 * MINUTE);
    expect(await importedCount('cy')).toBe(imported);
    const failures = await daemon.metrics.registry.getSingleMetricAsString('tiktok_sync_failures_total');
    expect(failures).toMatch(/code="export_removal_guard"/);
    expect(failures).not.toMatch(/kind="transient",code="export_removal_guard"/);
    // Once the operator has looked (here: TikTok sends cy's own export again), it syncs as before.
    wrong = false;
    const db = world.database.db.withTables<TikTokTables>().withTables<{
      'tiktok_sync.sync_schedule': SchedulerDatabase['tiktok_sync.sync_schedule'];
    }>();
    expect(await clearStops(db, { now: clock.now(), accounts: ['cy'] })).toBe(1);
    for (let i = 0; i < 4; i++) await step(clock, [daemon], MINUTE);
    expect(await importedCount('cy')).toBe(imported + 1);
    expect((await status()).cy!.state).toBe('active');
    await daemon.close();
  });

  it('stops asking for an account whose user revoked consent, and goes on with the others', async () => {
    const { clock, sandbox } = world;
    await clock.advance(DAY);
    const config = await world.config({ accounts: { ana: { paused: true } } });
    const daemon = await world.daemon(config);
    await sandbox.faults.revokeConsent('bo');
    const before = { bo: await importedCount('bo'), cy: await importedCount('cy') };
    for (let i = 0; i < 4; i++) await step(clock, [daemon], MINUTE);
    let rows = await status();
    expect(rows.bo!.state).toBe('needs_consent');
    expect(rows.bo!.reason).toMatch(/connect/i);
    expect(rows.cy!.state).toBe('active');
    expect(await importedCount('cy')).toBe(before.cy + 1);

    const adds = sandbox.hits.add;
    for (let day = 0; day < 2; day++) {
      await step(clock, [daemon], 12 * HOUR);
      for (let i = 0; i < 4; i++) await step(clock, [daemon], MINUTE);
    }
    rows = await status();
    expect(rows.bo!.state).toBe('needs_consent');
    expect(await importedCount('bo')).toBe(before.bo);
    expect(await importedCount('cy')).toBe(before.cy + 3);
    // Only cy asked TikTok for data; bo was not even claimed.
    expect(sandbox.hits.add - adds).toBe(2);
    const text = await daemon.metrics.registry.getSingleMetricAsString('tiktok_sync_failures_total');
    expect(text).toMatch(/kind="consent"/);
    await daemon.close();
  });

  it('survives a failing tick and syncs on the next one', async () => {
    const { clock } = world;
    await clock.advance(DAY);
    const config = await world.config({ accounts: { ana: { paused: true }, bo: { paused: true } } });
    const daemon = await world.daemon(config);
    const pool = daemon.database.pool;
    const connect = pool.connect.bind(pool);
    let broken = true;
    (pool as unknown as { connect: () => Promise<unknown> }).connect = () =>
      broken ? Promise.reject(new Error('connection refused')) : connect();
    await step(clock, [daemon], 0);
    expect(daemon.scheduler.lastTick.ok).toBe(false);
    broken = false;
    const before = await importedCount('cy');
    for (let i = 0; i < 4; i++) await step(clock, [daemon], MINUTE);
    expect(daemon.scheduler.lastTick.ok).toBe(true);
    expect(await importedCount('cy')).toBe(before + 1);
    const ticks = await daemon.metrics.registry.getSingleMetricAsString('tiktok_sync_ticks_total');
    expect(ticks).toMatch(/outcome="failed"\} 1/);
    await daemon.close();
  });
});
