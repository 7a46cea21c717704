import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logger.js';
import { clearStops } from '../../src/scheduler/claims.js';
import { cancelInFlight } from '../../src/sync/request.js';
import type { TikTokTables } from '../../src/tiktok/db-types.js';
import { PortabilityClient } from '../../src/tiktok/portability-client.js';
import { dataChecksums } from './support/checksums.js';
import { type DaemonWorld, HOUR, MINUTE, startDaemonWorld } from './support/daemon-world.js';

/**
 * The fault corpus, against one sync daemon that stays up from the first fault to the last: after
 * each, /healthz answers 200 and the account syncs again. Outcomes are printed at the end (the figures
 * of docs/reliability.md).
 */
let world: DaemonWorld;
let ana: Awaited<ReturnType<DaemonWorld['connectAccount']>>;
const outcomes: string[] = [];

beforeAll(async () => {
  world = await startDaemonWorld({
    accounts: [
      { username: 'ana', scale: 150 },
      { username: 'bo', scale: 150 },
    ],
  });
  ana = await world.connectAccount('ana');
}, 60_000);

afterAll(async () => {
  console.info(`fault corpus, one daemon throughout:\n${outcomes.map((line) => `  ${line}`).join('\n')}`);
  await world?.close();
});

interface RequestRow {
  request_id: string;
  status: string;
  error_code: string | null;
  check_count: number;
}

async function requestsOf(name: string): Promise<RequestRow[]> {
  const { rows } = await world.database.pool.query<RequestRow>(
    `select d.request_id, d.status, d.error_code, d.check_count from tiktok_sync.data_requests d
       join tiktok_sync.accounts a using (account_id) where a.name = $1 order by d.added_at, d.request_id`,
    [name],
  );
  return rows;
}

async function scheduleOf(accountId: string) {
  const { rows } = await world.database.pool.query(
    'select * from tiktok_sync.sync_schedule where account_id = $1',
    [accountId],
  );
  return rows[0];
}

const importedCount = async (name: string) =>
  (await requestsOf(name)).filter((r) => r.status === 'imported').length;

/** Steps a minute at a time until the account has imported one more export. */
async function syncOnce(name: string, first = 0, maxSteps = 40): Promise<void> {
  const before = await importedCount(name);
  for (let i = 0; i < maxSteps; i++) {
    await world.step(i === 0 ? first : MINUTE);
    if ((await importedCount(name)) > before) return;
  }
  throw new Error(
    `${name} imported nothing in ${maxSteps} steps; requests: ${JSON.stringify(await requestsOf(name))}`,
  );
}

async function expectHealthy(): Promise<void> {
  const response = await fetch(`${world.daemon.url}/healthz`);
  expect(response.status).toBe(200);
  expect(await response.json()).toMatchObject({ ok: true, database: true });
}

async function metric(pattern: RegExp): Promise<number> {
  const text = await (await fetch(`${world.daemon.url}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => pattern.test(line))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

describe('fault corpus through the daemon', () => {
  it('goes through 429s with Retry-After (waited out) and without (backoff) in the same claim', async () => {
    const { sandbox, proxy } = world;
    const adds = sandbox.hits.add;
    const checks = sandbox.hits.check;
    sandbox.faults.rateLimit(1, { endpoint: 'add', retryAfterSeconds: 5 });
    sandbox.faults.rateLimit(2, { endpoint: 'check' });
    proxy.stripRetryAfter(2, 'check');
    await syncOnce('ana');
    expect(sandbox.hits.add - adds).toBe(2);
    expect(proxy.stripped).toBe(2);
    expect(sandbox.hits.check - checks).toBeGreaterThanOrEqual(3);
    expect((await scheduleOf(ana.accountId)).attempts).toBe(0);
    expect(await requestsOf('ana')).toHaveLength(1);
    outcomes.push('429 + Retry-After 5 s on Add: waited in the call, one request, imported');
    outcomes.push('429 without Retry-After ×2 on Check: retried with backoff in the call, imported');
    await expectHealthy();
  });

  it('retries a short 5xx burst in the call and a long one on a later claim', async () => {
    const { sandbox } = world;
    sandbox.faults.serverErrors(2, { endpoint: 'add', status: 503 });
    sandbox.faults.serverErrors(6, { endpoint: 'check', status: 500 });
    await world.step(12 * HOUR);
    const failed = await scheduleOf(ana.accountId);
    expect(failed).toMatchObject({
      attempts: 1,
      last_outcome: 'retrying',
      last_error_code: 'internal_error',
    });
    await syncOnce('ana', MINUTE);
    expect((await scheduleOf(ana.accountId)).attempts).toBe(0);
    expect(await metric(/^tiktok_sync_failures_total\{kind="transient",code="internal_error"\}/)).toBe(1);
    outcomes.push(
      '503 ×2 on Add: retried in the call; 500 ×6 on Check: transient failure, backoff, imported next claim',
    );
    await expectHealthy();
  });

  it('recovers from a reset mid-response, a reset mid-download and a download that ends early', async () => {
    const { sandbox } = world;
    const downloads = sandbox.hits.download;
    sandbox.faults.resetConnections(1, { endpoint: 'check' });
    sandbox.faults.resetDownload(1, { afterBytes: 1024 });
    sandbox.faults.truncateDownload(1, { afterBytes: 2048 });
    await syncOnce('ana', 12 * HOUR);
    expect(sandbox.hits.download - downloads).toBe(3);
    expect((await requestsOf('ana')).at(-1)).toMatchObject({ status: 'imported', error_code: null });
    outcomes.push(
      'reset on Check, reset after 1 KiB of the download, download cut after 2 KiB: 3 downloads, imported',
    );
    await expectHealthy();
  });

  it('stops the account on a zip with a bad CRC, quarantines it, keeps the data, and syncs after --retry-stopped', async () => {
    const { proxy, database } = world;
    const before = await dataChecksums(database.url);
    proxy.corruptCrc(true);
    await world.step(12 * HOUR);
    for (let i = 0; i < 5 && !(await scheduleOf(ana.accountId)).stopped_at; i++) await world.step(MINUTE);
    proxy.corruptCrc(false);
    const stopped = await scheduleOf(ana.accountId);
    expect(stopped).toMatchObject({ last_outcome: 'stopped', stop_code: 'archive_corrupt' });
    expect(stopped.stop_reason).toMatch(/CRC-32/);
    expect((await requestsOf('ana')).at(-1)).toMatchObject({
      status: 'failed',
      error_code: 'archive_corrupt',
    });
    const { rows } = await database.pool.query(
      "select quarantined_to from tiktok_sync.sync_runs where error_code = 'archive_corrupt' order by run_id desc limit 1",
    );
    expect(existsSync(rows[0].quarantined_to)).toBe(true);
    expect(await dataChecksums(database.url)).toEqual(before);
    // A stopped account is not claimed, whatever the time.
    await world.step(13 * HOUR);
    expect((await requestsOf('ana')).at(-1)?.status).toBe('failed');

    expect(await clearStops(world.scheduleDb, { now: world.clock.now(), accounts: ['ana'] })).toBe(1);
    await syncOnce('ana');
    outcomes.push(
      'bad CRC in the downloaded zip: archive_corrupt, request failed, account stopped, archive quarantined, data untouched; imported after --retry-stopped',
    );
    await expectHealthy();
  });

  it('makes a new request when the request expires between Check and Download', async () => {
    const { proxy, sandbox } = world;
    const before = (await requestsOf('ana')).length;
    await world.step(12 * HOUR); // Add, first Check: pending
    proxy.beforeNextDownload(() => sandbox.faults.expireEarly());
    await syncOnce('ana', 2 * MINUTE);
    const requests = (await requestsOf('ana')).slice(before);
    expect(requests.map((r) => r.status)).toEqual(['expired', 'imported']);
    outcomes.push(
      'expired between Check and Download: Check confirms expired, a new request is made and imported',
    );
    await expectHealthy();
  });

  it('records a request cancelled at TikTok or withdrawn with `cancel`, and makes a new one', async () => {
    const { sandbox, clock, database } = world;
    let before = (await requestsOf('ana')).length;
    await world.step(12 * HOUR);
    const pending = (await requestsOf('ana')).at(-1)!;
    expect(pending.status).toBe('pending');
    // Cancelled at TikTok by someone else holding the user's token.
    const client = new PortabilityClient({
      tokens: world.tokenStore(ana.oauth).forAccount(ana.accountId),
      endpoints: { apiBaseUrl: sandbox.url, authBaseUrl: sandbox.consentUrl },
      clock,
    });
    await client.cancelRequest(pending.request_id);
    // The next Check comes at the account's polling backoff (with jitter): step until it has come.
    for (let i = 0; i < 60 && (await scheduleOf(ana.accountId)).last_outcome !== 'cancelled'; i += 1) {
      await world.step(MINUTE);
    }
    expect((await scheduleOf(ana.accountId)).last_outcome).toBe('cancelled');
    await syncOnce('ana', MINUTE);
    expect((await requestsOf('ana')).slice(before).map((r) => r.status)).toEqual(['cancelled', 'imported']);

    // Withdrawn by the operator (`tiktok-sync cancel`) while TikTok prepares the data.
    before = (await requestsOf('ana')).length;
    await world.step(12 * HOUR);
    const withdrawn = await cancelInFlight(
      { db: database.db.withTables<TikTokTables>(), client, clock, logger: silentLogger() },
      ana.accountId,
    );
    expect(withdrawn).toBe((await requestsOf('ana')).at(-1)!.request_id);
    await syncOnce('ana', 2 * MINUTE);
    expect((await requestsOf('ana')).slice(before).map((r) => r.status)).toEqual(['cancelled', 'imported']);
    outcomes.push('cancelled at TikTok: recorded cancelled, new request after a backoff, imported');
    outcomes.push(
      'withdrawn with `tiktok-sync cancel`: recorded cancelled, new request at the next claim, imported',
    );
    await expectHealthy();
  });

  it('acts once on a webhook delivered 5 times', async () => {
    const { sandbox, database } = world;
    const runs = async () =>
      Number((await database.pool.query('select count(*) from tiktok_sync.sync_runs')).rows[0].count);
    await world.step(12 * HOUR);
    const request = (await requestsOf('ana')).at(-1)!;
    const runsBefore = await runs();
    // TikTok has the data ready in 2 minutes and says so; the daemon claims at once.
    await world.step(2 * MINUTE);
    await waitFor(async () => (await requestsOf('ana')).at(-1)?.status === 'imported');
    await world.daemon.idle();
    const delivery = sandbox.webhooks.deliveries.find(
      (d) => d.event === 'portability.download.ready' && d.rawBody.includes(request.request_id),
    )!;
    for (let i = 0; i < 4; i++) expect(await sandbox.webhooks.redeliver(delivery)).toBe(200);
    // Events are handled after the 200 went out: wait until the last one is counted.
    const event = async () =>
      (
        await database.pool.query(
          'select delivery_count, processed_at from tiktok_sync.webhook_events where request_id = $1',
          [request.request_id],
        )
      ).rows;
    await waitFor(async () => (await event())[0]?.delivery_count === 5);
    await world.step(MINUTE);
    expect(await event()).toEqual([{ delivery_count: 5, processed_at: expect.any(Date) }]);
    expect(await runs()).toBe(runsBefore + 1);
    expect((await requestsOf('ana')).at(-1)).toMatchObject({
      request_id: request.request_id,
      status: 'imported',
    });
    outcomes.push('download.ready delivered 5 times: one event row (delivery_count 5), one import');
    await expectHealthy();
  });

  it('imports at once when the webhook arrives before the request id was stored', async () => {
    const { proxy, sandbox, clock, database, daemon } = world;
    const hold = proxy.holdNextAdd();
    await clock.advance(12 * HOUR);
    const tick = daemon.tick();
    await hold.held; // TikTok made the request; its answer has not reached the daemon yet
    const requestId = sandbox.requests().at(-1)!.requestId;
    await clock.advance(2 * MINUTE); // TikTok is ready and sends the webhook
    await waitFor(async () => {
      const { rows } = await database.pool.query(
        'select 1 from tiktok_sync.webhook_events where request_id = $1',
        [requestId],
      );
      return rows.length === 1;
    });
    const early = await requestsOf('ana');
    expect(early.some((r) => r.request_id === requestId)).toBe(false);
    hold.release();
    await tick;
    await world.settle();
    expect((await requestsOf('ana')).at(-1)).toMatchObject({
      request_id: requestId,
      status: 'imported',
      check_count: 1,
    });
    outcomes.push(
      'download.ready before the request id was stored: event kept; the first Check finds it ready; imported in the same claim',
    );
    await expectHealthy();
  });

  it('stops the account when the reply to an Add is lost and TikTok refuses a second request (known limit)', async () => {
    const { proxy, sandbox } = world;
    const made = sandbox.requests().length;
    proxy.loseNextAddAnswer();
    // The orphan request takes an hour to prepare: still "being prepared" when the daemon retries,
    // however much simulated time the daemon's timers take while the machine is busy.
    sandbox.faults.prepareSlowly(1, HOUR);
    await world.step(12 * HOUR);
    // TikTok made the request; the daemon never learnt its id and retries later, as for any reset.
    expect(sandbox.requests().length).toBe(made + 1);
    expect(await scheduleOf(ana.accountId)).toMatchObject({
      last_outcome: 'retrying',
      last_error_code: 'tiktok_network_error',
    });
    // The next Add is refused while the orphan request is being prepared: a terminal answer.
    await world.step(MINUTE);
    const stopped = await scheduleOf(ana.accountId);
    expect(stopped).toMatchObject({ last_outcome: 'stopped', stop_code: 'invalid_params' });
    outcomes.push(
      'reply to Add lost (reset after TikTok made the request): retried after a backoff, then stopped on "still being prepared" (invalid_params) — needs --retry-stopped once the orphan request is ready',
    );
    // The operator's way out: once TikTok finished the orphan request, retry the stopped account.
    await world.step(HOUR);
    await clearStops(world.scheduleDb, { now: world.clock.now(), accounts: ['ana'] });
    await syncOnce('ana');
    await expectHealthy();
  });

  it('waits for the user after revoked consent and invalid_grant, and syncs the others meanwhile', async () => {
    const { sandbox, database } = world;
    const bo = await world.connectAccount('bo');
    await syncOnce('bo');

    await sandbox.faults.revokeConsent('ana');
    await waitFor(async () => {
      const { rows } = await database.pool.query(
        'select status from tiktok_sync.credentials where account_id = $1',
        [ana.accountId],
      );
      return rows[0]?.status === 'revoked';
    });
    const anaRequests = (await requestsOf('ana')).length;
    await syncOnce('bo', 12 * HOUR);
    expect((await requestsOf('ana')).length).toBe(anaRequests);
    outcomes.push(
      'consent revoked: authorization.removed marks the grant revoked; the account waits, the others sync',
    );

    // The user connects again; then the refresh token is used elsewhere (rotated): invalid_grant.
    ana = await world.connectAccount('ana');
    await syncOnce('ana', 12 * HOUR);
    await ana.oauth.refresh(ana.tokens.refreshToken);
    const refreshFailures = await metric(/^tiktok_sync_token_refreshes_total\{outcome="failed"\}/);
    await world.step(25 * HOUR); // the access token expires: the daemon refreshes with the old refresh token
    const { rows } = await database.pool.query(
      'select status, status_reason from tiktok_sync.credentials where account_id = $1',
      [ana.accountId],
    );
    expect(rows[0].status).toBe('needs_consent');
    expect(rows[0].status_reason).toMatch(/invalid_grant|connect/i);
    expect(await metric(/^tiktok_sync_token_refreshes_total\{outcome="failed"\}/)).toBe(refreshFailures + 1);
    const boImports = await importedCount('bo');
    await world.step(12 * HOUR);
    await world.step(3 * MINUTE);
    expect(await importedCount('bo')).toBeGreaterThan(boImports);
    expect(bo.accountId).not.toBe(ana.accountId);
    outcomes.push(
      'invalid_grant on refresh: grant marked needs_consent with the reason; the account waits, the others sync',
    );
    await expectHealthy();
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
