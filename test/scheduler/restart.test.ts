import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorld, MINUTE, requestsByAccount, scheduleRow, step, type World } from './support.js';

const NAMES = ['wait', 'dl', 'crash', 'commit', 'zombie'];
let world: World;
beforeAll(async () => {
  world = await createWorld(NAMES);
});
afterAll(async () => {
  await world?.close();
});

/** Polls (real time) until `check` holds. */
async function until(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Only `name` is claimable: the others are paused in this config. */
function only(name: string) {
  return Object.fromEntries(
    NAMES.filter((other) => other !== name).map((other) => [other, { paused: true }]),
  );
}

async function requestStatus(name: string) {
  const { rows } = await world.database.pool.query(
    `select d.request_id, d.status from tiktok_sync.data_requests d join tiktok_sync.accounts a using (account_id)
      where a.name = $1 order by d.added_at`,
    [name],
  );
  return rows as { request_id: string; status: string }[];
}

describe('restarts and crashes', () => {
  it('resumes the same request after a restart while TikTok prepares the data', async () => {
    const { clock } = world;
    const config = await world.config({ accounts: only('wait') });
    const first = await world.daemon(config);
    await step(clock, [first], 0);
    const before = await requestStatus('wait');
    expect(before).toEqual([{ request_id: expect.any(String), status: 'pending' }]);
    await first.close();

    const second = await world.daemon(config);
    for (let i = 0; i < 4; i++) await step(clock, [second], MINUTE);
    expect(await requestStatus('wait')).toEqual([{ request_id: before[0]!.request_id, status: 'imported' }]);
    await second.close();
  });

  it('abandons a download on stop, releases the claim, and the next daemon downloads the same request', async () => {
    const { clock, sandbox, database } = world;
    const config = await world.config({ accounts: only('dl') });
    const first = await world.daemon(config);
    await step(clock, [first], 0); // request made
    await clock.advance(3 * MINUTE); // ready at TikTok
    sandbox.faults.slowDownload({ chunkBytes: 512, delayMs: 100 });
    const downloads = sandbox.hits.download;
    await first.tick();
    await until(() => sandbox.hits.download > downloads);
    const stopped = Date.now();
    await first.stop({ graceMs: 0, timeoutMs: 5_000 });
    expect(Date.now() - stopped).toBeLessThan(5_000);
    sandbox.faults.slowDownload(undefined);
    const row = await scheduleRow(database, world.accounts.get('dl')!);
    expect(row.lease_owner).toBeNull();
    expect(row.last_outcome).toBe('abandoned');
    const [request] = await requestStatus('dl');
    expect(request!.status).toBe('ready');
    await first.close();

    // No waiting for a lease: the claim was released, so the next daemon takes it at once.
    const second = await world.daemon(config);
    await step(clock, [second], 0);
    expect(await requestStatus('dl')).toEqual([{ request_id: request!.request_id, status: 'imported' }]);
    await second.close();
  });

  it('takes over an account from a daemon that died mid-download once its lease expires', async () => {
    const { clock, sandbox, database } = world;
    const config = await world.config({ accounts: only('crash'), lease: '5m' });
    const first = await world.daemon(config);
    await step(clock, [first], 0);
    await clock.advance(3 * MINUTE);
    sandbox.faults.slowDownload({ chunkBytes: 512, delayMs: 100 });
    const downloads = sandbox.hits.download;
    await first.tick();
    await until(() => sandbox.hits.download > downloads);
    await first.crash();
    sandbox.faults.slowDownload(undefined);
    const held = await scheduleRow(database, world.accounts.get('crash')!);
    expect(held.lease_owner).toBe(first.owner);

    const second = await world.daemon(config);
    await step(clock, [second], 0);
    expect(second.scheduler.active).toBe(0);
    expect((await scheduleRow(database, world.accounts.get('crash')!)).lease_owner).toBe(first.owner);
    await step(clock, [second], 4 * MINUTE); // still within the lease
    expect((await requestStatus('crash'))[0]!.status).toBe('ready');
    await step(clock, [second], 2 * MINUTE); // lease expired
    const requests = await requestStatus('crash');
    expect(requests).toEqual([{ request_id: requests[0]!.request_id, status: 'imported' }]);
    const metrics = await second.metrics.registry.getSingleMetricAsString(
      'tiktok_sync_lease_takeovers_total',
    );
    expect(metrics).toMatch(/tiktok_sync_lease_takeovers_total 1/);
    await second.close();
  });

  it('downloads and imports again when a daemon died after the download, before the import committed', async () => {
    const { clock, database } = world;
    const config = await world.config({ accounts: only('commit'), lease: '5m' });
    let importing = false;
    const first = await world.daemon(config, {
      // An import that never commits: it runs until the process dies.
      importArchive: (_options, signal) =>
        new Promise((_resolve, reject) => {
          importing = true;
          signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
        }),
    });
    await step(clock, [first], 0);
    await clock.advance(3 * MINUTE);
    await first.tick();
    await until(() => importing);
    const [downloaded] = await requestStatus('commit');
    expect(downloaded!.status).toBe('downloaded');
    await first.crash();

    const second = await world.daemon(config);
    await step(clock, [second], 6 * MINUTE);
    expect(await requestStatus('commit')).toEqual([
      { request_id: downloaded!.request_id, status: 'imported' },
    ]);
    const runs = await database.pool.query(
      `select r.status from tiktok_sync.sync_runs r join tiktok_sync.accounts a using (account_id) where a.name = 'commit'`,
    );
    expect(runs.rows.map((row) => row.status)).toEqual(['succeeded']);
    const requests = await requestsByAccount(database);
    expect(requests.get('commit')).toHaveLength(1);
    await second.close();
  });

  it('stops working on an account whose lease it lost, and leaves the outcome to the new holder', async () => {
    const { clock, sandbox, database } = world;
    const config = await world.config({ accounts: only('zombie'), lease: '3m' });
    const first = await world.daemon(config);
    await step(clock, [first], 0);
    await clock.advance(3 * MINUTE);
    sandbox.faults.slowDownload({ chunkBytes: 512, delayMs: 100, count: 1 });
    const downloads = sandbox.hits.download;
    await first.tick();
    await until(() => sandbox.hits.download > downloads);
    // The first daemon stalls (a long pause): its lease runs out and the second one takes over.
    const accountId = world.accounts.get('zombie')!;
    await database.pool.query(
      `update tiktok_sync.sync_schedule set lease_expires_at = $2 where account_id = $1`,
      [accountId, new Date(clock.now() - 1)],
    );
    const second = await world.daemon(config);
    await second.tick();
    expect(second.scheduler.active).toBe(1);
    // The first daemon's next heartbeat finds the claim gone and gives up the work.
    await clock.advance(MINUTE + 1);
    await first.idle();
    const lost = await first.metrics.registry.getSingleMetricAsString('tiktok_sync_leases_lost_total');
    expect(lost).toMatch(/tiktok_sync_leases_lost_total 1/);
    await second.idle();
    const row = await scheduleRow(database, accountId);
    expect(row.lease_owner).toBeNull();
    expect(row.last_outcome).toBe('imported');
    expect(await requestStatus('zombie')).toEqual([{ request_id: expect.any(String), status: 'imported' }]);
    await first.close();
    await second.close();
  });
});
