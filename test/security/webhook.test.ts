import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signatureHeader } from '../../src/tiktok/webhook.js';
import { type DaemonWorld, MINUTE, startDaemonWorld } from '../reliability/support/daemon-world.js';

/**
 * TikTok's webhook as the daemon serves it: anything not signed with our client secret within the
 * last 5 minutes is refused with 401, counted in tiktok_sync_webhook_requests_total{outcome="refused"},
 * and never reaches the database or wakes a sync.
 */
let world: DaemonWorld;
let requestId: string;

beforeAll(async () => {
  world = await startDaemonWorld({ accounts: [{ username: 'ana', scale: 100 }] });
  // Only the test posts webhooks here: the sandbox's own deliveries would race with its checks.
  world.sandbox.webhooks.setUrl(undefined);
  await world.connectAccount('ana');
  await world.step(0); // a request in flight, TikTok still preparing it
  const { rows } = await world.database.pool.query('select request_id from tiktok_sync.data_requests');
  requestId = rows[0].request_id;
}, 60_000);

afterAll(async () => {
  await world?.close();
});

const now = () => Math.floor(world.clock.now() / 1000);

/** A `portability.download.ready` body for the request in flight, the id written as a bare int64. */
function readyBody(createTime = now()): string {
  return `{"client_key":"${world.sandbox.clientKey}","event":"portability.download.ready","create_time":${createTime},"content":"{\\"request_id\\":${requestId}}"}`;
}

async function post(body: string, signature: string | undefined): Promise<number> {
  const response = await fetch(`${world.daemon.url}${world.config.tiktok.webhook.path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(signature === undefined ? {} : { 'tiktok-signature': signature }),
    },
    body,
  });
  await response.text();
  return response.status;
}

async function refusals(): Promise<number> {
  const text = await (await fetch(`${world.daemon.url}/metrics`)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith('tiktok_sync_webhook_requests_total{outcome="refused"}'));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

/** What a processed webhook would change: its event row, the request's state, a wake-up Check. */
async function footprint() {
  const events = await world.database.pool.query('select count(*)::int as n from tiktok_sync.webhook_events');
  const request = await world.database.pool.query(
    'select status, ready_at, check_count from tiktok_sync.data_requests where request_id = $1',
    [requestId],
  );
  return { events: events.rows[0].n, request: request.rows[0], checks: world.sandbox.hits.check };
}

describe('webhook security', () => {
  const refused: [string, () => [string, string | undefined]][] = [
    ['a forged signature', () => [readyBody(), `t=${now()},s=${'ab'.repeat(32)}`]],
    [
      'a signature made with another secret',
      () => [readyBody(), signatureHeader(readyBody(), 'not-our-secret', now())],
    ],
    [
      'a stale timestamp (10 minutes old, signed correctly)',
      () => {
        const body = readyBody(now() - 600);
        return [body, signatureHeader(body, world.sandbox.clientSecret, now() - 600)];
      },
    ],
    [
      'a body changed after signing',
      () => [
        readyBody().replace('download.ready', 'download.reddy'),
        signatureHeader(readyBody(), world.sandbox.clientSecret, now()),
      ],
    ],
    ['no signature', () => [readyBody(), undefined]],
    ['a malformed signature header', () => [readyBody(), 'sha256=deadbeef']],
  ];

  it.each(refused)('refuses %s with 401, counts it and processes nothing', async (_name, make) => {
    const before = await footprint();
    const count = await refusals();
    const [body, signature] = make();
    expect(await post(body, signature)).toBe(401);
    await world.settle();
    expect(await refusals()).toBe(count + 1);
    expect(await footprint()).toEqual(before);
  });

  it('refuses a genuine delivery replayed later, with its own or a fresh timestamp', async () => {
    const signedAt = now();
    const body = readyBody(signedAt);
    const genuine = signatureHeader(body, world.sandbox.clientSecret, signedAt);
    const captured = genuine.split(',s=')[1]!;
    await world.clock.advance(10 * MINUTE);
    const before = await footprint();
    const count = await refusals();
    // The same bytes and header, past the 5-minute tolerance.
    expect(await post(body, genuine)).toBe(401);
    // The captured signature under a fresh timestamp: it signs `t.body`, so it no longer matches.
    expect(await post(body, `t=${now()},s=${captured}`)).toBe(401);
    await world.settle();
    expect(await refusals()).toBe(count + 2);
    expect(await footprint()).toEqual(before);
  });

  it('accepts the genuine delivery, once, and counts it apart', async () => {
    const body = readyBody();
    const signature = signatureHeader(body, world.sandbox.clientSecret, now());
    const count = await refusals();
    expect(await post(body, signature)).toBe(200);
    // A repeat within the tolerance is TikTok's retry: answered 200, recorded once.
    expect(await post(body, signature)).toBe(200);
    // Events are handled after the 200 went out: wait for the second to be recorded.
    const deadline = Date.now() + 10_000;
    let rows: { delivery_count: number }[] = [];
    while (Date.now() < deadline) {
      ({ rows } = await world.database.pool.query(
        'select delivery_count from tiktok_sync.webhook_events where request_id = $1',
        [requestId],
      ));
      if (rows[0]?.delivery_count === 2) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await world.settle();
    expect(rows).toEqual([{ delivery_count: 2 }]);
    expect(await refusals()).toBe(count);
    const text = await (await fetch(`${world.daemon.url}/metrics`)).text();
    expect(text).toMatch(/tiktok_sync_webhook_requests_total\{outcome="accepted"\} 2/);
  });
});
