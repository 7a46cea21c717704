import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountSyncStatus } from '../../src/scheduler/status.js';
import type { TikTokTables } from '../../src/tiktok/db-types.js';
import { createWorld, DAY, HOUR, MINUTE, requestsByAccount, step, type World } from './support.js';

async function until(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('daemon HTTP server and webhooks', () => {
  let world: World;
  beforeAll(async () => {
    world = await createWorld(['ana', 'bo']);
  });
  afterAll(async () => {
    await world?.close();
  });

  it('serves /healthz and /metrics, and acts on webhooks without waiting for a tick', async () => {
    const { clock, sandbox, database } = world;
    const config = await world.config(
      { interval: '12h' },
      { tiktok: { pollInitialSeconds: 3600, pollMaxSeconds: 3600 } },
    );
    const daemon = await world.daemon(config, { listen: '127.0.0.1:0' });
    sandbox.webhooks.setUrl(`${daemon.url}${config.tiktok.webhook.path}`);

    const health = await fetch(`${daemon.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true, database: true, owner: daemon.owner });

    await step(clock, [daemon], 0); // both accounts make a request; the next Check would be an hour away
    // TikTok finishes after 2 minutes and says so through the webhook: the daemon claims at once.
    await clock.advance(2 * MINUTE);
    await until(async () => {
      const requests = await requestsByAccount(database);
      return ['ana', 'bo'].every((name) => requests.get(name)?.[0]?.status === 'imported');
    });
    await daemon.idle();

    const metrics = await (await fetch(`${daemon.url}/metrics`)).text();
    expect(metrics).toMatch(/tiktok_sync_syncs_total\{outcome="imported"\} 2/);
    expect(metrics).toMatch(/tiktok_sync_syncs_total\{outcome="waiting"\} 2/);
    expect(metrics).toMatch(/tiktok_sync_rows_total\{table="[a-z_]+",change="inserted"\} \d+/);
    expect(metrics).toMatch(/tiktok_sync_stage_duration_seconds_bucket\{le="[\d.]+",stage="merge"\}/);
    expect(metrics).toMatch(/tiktok_sync_stage_duration_seconds_count\{stage="request_wait"\} 2/);
    expect(metrics).toMatch(/tiktok_sync_accounts\{state="active"\} 2/);
    expect(metrics).toMatch(/tiktok_sync_token_refreshes_total/);

    // The user removes the app: TikTok's authorization.removed revokes the grant.
    await sandbox.faults.revokeConsent('bo');
    await until(async () => {
      const rows = await accountSyncStatus(database.db.withTables<TikTokTables>(), { now: clock.now() });
      return rows.find((row) => row.account === 'bo')?.state === 'needs_consent';
    });
    const rows = await accountSyncStatus(database.db.withTables<TikTokTables>(), { now: clock.now() });
    expect(rows.find((row) => row.account === 'bo')!.reason).toMatch(/disconnected the app/);

    // Token refreshes are counted: a day later the access tokens are renewed before use.
    await step(clock, [daemon], DAY);
    await until(async () => (await requestsByAccount(database)).get('ana')!.length === 2);
    await daemon.idle();
    const refreshed = await (await fetch(`${daemon.url}/metrics`)).text();
    expect(refreshed).toMatch(/tiktok_sync_token_refreshes_total\{outcome="ok"\} [1-9]/);
    await daemon.stop();
    const down = await fetch(`${daemon.url}/healthz`).catch(() => undefined);
    expect(down).toBeUndefined();
  });
});

describe('requests TikTok keeps pending', () => {
  let world: World;
  beforeAll(async () => {
    world = await createWorld(['slow'], { sandbox: { readyDelayMs: 2 * DAY } });
  });
  afterAll(async () => {
    await world?.close();
  });

  it('cancels a request pending beyond the limit and makes a new one, with a warning', async () => {
    const { clock, database } = world;
    const config = await world.config({ pendingLimit: '6h' });
    const daemon = await world.daemon(config);
    await step(clock, [daemon], 0);
    for (let i = 0; i < 7 * 6; i++) await step(clock, [daemon], 10 * MINUTE);
    const requests = (await requestsByAccount(database)).get('slow')!;
    expect(requests.map((request) => request.status)).toEqual(['cancelled', 'pending']);
    const gap = requests[1]!.addedAt.getTime() - requests[0]!.addedAt.getTime();
    expect(gap).toBeGreaterThan(6 * HOUR);
    expect(gap).toBeLessThan(7 * HOUR);
    const metric = await daemon.metrics.registry.getSingleMetricAsString(
      'tiktok_sync_requests_cancelled_total',
    );
    expect(metric).toMatch(/reason="pending_limit"\} 1/);
    await daemon.close();
  });
});
