import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureAccount } from '../../src/db/accounts.js';
import { silentLogger } from '../../src/logger.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import type { SimulatedClock } from '../../src/tiktok/clock.js';
import type { TikTokTables } from '../../src/tiktok/db-types.js';
import { PortabilityClient } from '../../src/tiktok/portability-client.js';
import { parseEncryptionKey, TokenStore } from '../../src/tiktok/tokens.js';
import {
  createWebhookHandler,
  parseWebhookEvent,
  RequestNotifier,
  signatureHeader,
  verifySignature,
  type WebhookEvent,
} from '../../src/tiktok/webhook.js';
import { processWebhookEvents } from '../../src/tiktok/webhook-events.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { connect, sandboxWith, tokenSource } from './support.js';

let database: TestDatabase;
let sandbox: Sandbox | undefined;
let server: Server | undefined;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.drop();
});
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

async function receiver(
  secret: string,
  clock: SimulatedClock,
  onEvent: (event: WebhookEvent) => Promise<void> | void,
) {
  server = createServer(
    createWebhookHandler({ clientSecret: secret, clock, onEvent, logger: silentLogger() }),
  );
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', () => resolve()));
  return `http://127.0.0.1:${(server!.address() as AddressInfo).port}/webhooks/tiktok`;
}

describe('webhook', () => {
  it('verifies t.rawBody HMACs in constant time and rejects stale or forged ones', () => {
    const body = '{"event":"portability.download.ready","content":"{\\"request_id\\":7412345678901234567}"}';
    const header = signatureHeader(body, 'secret', 1_700_000_000);
    expect(verifySignature({ header, rawBody: body, clientSecret: 'secret', nowMs: 1_700_000_100_000 })).toBe(
      1_700_000_000,
    );
    expect(() =>
      verifySignature({ header, rawBody: body, clientSecret: 'other', nowMs: 1_700_000_000_000 }),
    ).toThrow(/does not match/);
    expect(() =>
      verifySignature({ header, rawBody: `${body} `, clientSecret: 'secret', nowMs: 1_700_000_000_000 }),
    ).toThrow(/does not match/);
    expect(() =>
      verifySignature({ header, rawBody: body, clientSecret: 'secret', nowMs: 1_700_000_301_000 }),
    ).toThrow(/replay/);
    expect(() =>
      verifySignature({ header: 's=abc', rawBody: body, clientSecret: 'secret', nowMs: 0 }),
    ).toThrow(/not of the form/);
    expect(() =>
      verifySignature({ header: undefined, rawBody: body, clientSecret: 'secret', nowMs: 0 }),
    ).toThrow(/no TikTok-Signature/);
    const event = parseWebhookEvent(Buffer.from(body), 1_700_000_000);
    expect(event.requestId).toBe('7412345678901234567');
    expect(event.content.request_id).toBe('7412345678901234567');
    expect(event.userOpenId).toBeUndefined();
  });

  it('accepts a signed download.ready, records it once and wakes the waiting sync', async () => {
    sandbox = await sandboxWith({ readyDelayMs: 60_000, webhook: { initialDelayMs: 1_000 } });
    const clock = sandbox.clock as SimulatedClock;
    const db = database.db.withTables<TikTokTables>();
    const notifier = new RequestNotifier();
    const processed: string[] = [];
    const onEvent = processWebhookEvents({ db, clock, logger: silentLogger(), notifier });
    const url = await receiver(sandbox.clientSecret, clock, async (event) => {
      await onEvent(event);
      processed.push(event.event);
    });
    sandbox.webhooks.setUrl(url);

    const { tokens, oauth } = await connect(sandbox);
    const client = new PortabilityClient({
      tokens: tokenSource(tokens, oauth),
      endpoints: { apiBaseUrl: sandbox.url },
      clock,
    });
    const { requestId } = await client.addRequest({ dataFormat: 'json', categories: ['all_data'] });
    const woken = notifier.wait(requestId);
    await clock.advance(60_000);
    await sandbox.webhooks.idle();
    await woken;
    await until(() => processed.length === 1);

    const delivery = sandbox.webhooks.deliveries[0]!;
    expect(delivery).toMatchObject({ event: 'portability.download.ready', delivered: true, attempts: 1 });
    expect(delivery.rawBody).toContain(`\\"request_id\\":${requestId}}`);
    expect(delivery.rawBody).not.toContain('user_openid');

    // TikTok delivers at least once: a second delivery (fresh signature) is accepted and de-duplicated.
    expect(await sandbox.webhooks.redeliver(delivery)).toBe(200);
    await until(() => processed.length === 2);
    const rows = await database.pool.query(
      'select event, request_id, delivery_count, processed_at from tiktok_sync.webhook_events',
    );
    expect(rows.rows).toHaveLength(1);
    expect(rows.rows[0]).toMatchObject({
      event: 'portability.download.ready',
      request_id: requestId,
      delivery_count: 2,
    });
    expect(rows.rows[0].processed_at).not.toBeNull();
  });

  it('refuses forged and replayed deliveries with 401 and never hands them on', async () => {
    sandbox = await sandboxWith();
    const clock = sandbox.clock as SimulatedClock;
    const seen: WebhookEvent[] = [];
    const url = await receiver(sandbox.clientSecret, clock, (event) => {
      seen.push(event);
    });
    const body = JSON.stringify({
      client_key: sandbox.clientKey,
      event: 'portability.download.ready',
      create_time: 1,
      content: '{"request_id":1}',
    });
    const now = Math.floor(clock.now() / 1000);

    const forged = await post(url, body, {
      'TikTok-Signature': signatureHeader(body, 'guessed-secret', now),
    });
    expect(forged).toBe(401);
    const unsigned = await post(url, body, {});
    expect(unsigned).toBe(401);

    const header = sandbox.webhooks.sign(body, now);
    expect(await post(url, body, { 'TIKTOK-SIGNATURE': header })).toBe(200);
    await clock.advance(301_000);
    expect(await post(url, body, { 'tiktok-signature': header })).toBe(401);
    expect(seen).toHaveLength(1);

    expect(
      await post(url, '{not json', {
        'Tiktok-Signature': sandbox.webhooks.sign('{not json', Math.floor(clock.now() / 1000)),
      }),
    ).toBe(400);
  });

  it('retries delivery with backoff until the receiver answers 200', async () => {
    sandbox = await sandboxWith({ readyDelayMs: 10_000, webhook: { initialDelayMs: 5_000, maxAttempts: 4 } });
    const clock = sandbox.clock as SimulatedClock;
    let refusals = 2;
    server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        response.writeHead(refusals-- > 0 ? 503 : 200);
        response.end();
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', () => resolve()));
    sandbox.webhooks.setUrl(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    const { tokens, oauth } = await connect(sandbox);
    const client = new PortabilityClient({
      tokens: tokenSource(tokens, oauth),
      endpoints: { apiBaseUrl: sandbox.url },
      clock,
    });
    await client.addRequest({ dataFormat: 'json', categories: ['all_data'] });
    await clock.advance(10_000);
    await sandbox.webhooks.idle();
    await clock.advance(5_000);
    await sandbox.webhooks.idle();
    await clock.advance(10_000);
    await sandbox.webhooks.idle();
    expect(sandbox.webhooks.deliveries[0]).toMatchObject({ attempts: 3, delivered: true, lastStatus: 200 });
  });

  it('marks the grant revoked on authorization.removed', async () => {
    sandbox = await sandboxWith({ accounts: [{ username: 'rev' }] });
    const clock = sandbox.clock as SimulatedClock;
    const db = database.db.withTables<TikTokTables>();
    const { tokens, oauth } = await connect(sandbox);
    const accountId = await ensureAccount(database.db, 'rev');
    const store = new TokenStore({
      db,
      oauth,
      encryptionKey: parseEncryptionKey(Buffer.alloc(32, 3).toString('hex')),
      clock,
    });
    await store.saveGrant(accountId, tokens);
    let done = false;
    const onEvent = processWebhookEvents({
      db,
      clock,
      logger: silentLogger(),
      onAuthorizationRemoved: (id, reason) => store.markRevoked(id, reason),
    });
    sandbox.webhooks.setUrl(
      await receiver(sandbox.clientSecret, clock, async (event) => {
        await onEvent(event);
        done = true;
      }),
    );
    await sandbox.faults.revokeConsent('rev', 1);
    await sandbox.webhooks.idle();
    await until(() => done);
    const summary = await store.summary(accountId);
    expect(summary?.status).toBe('revoked');
    expect(summary?.statusReason).toMatch(/user disconnected/);
  });
});

async function post(url: string, body: string, headers: Record<string, string>): Promise<number> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  await response.arrayBuffer();
  return response.status;
}

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
