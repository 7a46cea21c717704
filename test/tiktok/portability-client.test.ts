import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type PipelineError, TerminalError, TransientError } from '../../src/errors.js';
import type { Sandbox, SandboxOptions } from '../../src/sandbox/index.js';
import type { SimulatedClock } from '../../src/tiktok/clock.js';
import { PortabilityClient, type PortabilityClientOptions } from '../../src/tiktok/portability-client.js';
import { connect, fixedToken, sandboxWith, tokenSource } from './support.js';

let sandbox: Sandbox;
let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'portability-client-test-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});
afterEach(async () => {
  await sandbox?.close();
});

async function setup(options: SandboxOptions = {}, clientOptions: Partial<PortabilityClientOptions> = {}) {
  sandbox = await sandboxWith({
    readyDelayMs: 30_000,
    accounts: [{ username: 'ana', scale: 120 }],
    ...options,
  });
  const { tokens, oauth } = await connect(sandbox, { scopes: ['portability.all.ongoing'] });
  const tokensSource = tokenSource(tokens, oauth);
  const client = new PortabilityClient({
    tokens: tokensSource,
    endpoints: { apiBaseUrl: sandbox.url, authBaseUrl: sandbox.consentUrl },
    clock: sandbox.clock,
    retryBaseMs: 1_000,
    download: { directory },
    ...clientOptions,
  });
  return { client, tokensSource, clock: sandbox.clock as SimulatedClock };
}

async function readyRequest(client: PortabilityClient, clock: SimulatedClock) {
  const { requestId } = await client.addRequest({ dataFormat: 'json', categories: ['all_data'] });
  await clock.advance(30_000);
  return requestId;
}

describe('PortabilityClient', () => {
  it('adds, checks and downloads with the int64 request id exact end to end', async () => {
    const { client, clock } = await setup();
    const { requestId, logId } = await client.addRequest({ dataFormat: 'json', categories: ['all_data'] });
    expect(requestId).toBe('7412345678901234567');
    expect(logId).toMatch(/^\d{14}/);

    const pending = await client.checkStatus(requestId);
    expect(pending).toMatchObject({
      requestId: '7412345678901234567',
      status: 'pending',
      dataFormat: 'json',
      categories: ['all_data'],
    });
    expect(pending.applyTime).toBe(Math.floor(clock.now() / 1000));

    await clock.advance(30_000);
    const ready = await client.checkStatus(requestId, { fields: ['status'] });
    expect(ready.status).toBe('downloading');
    expect(ready.requestId).toBeUndefined();

    const archive = await client.download(requestId);
    const bytes = await readFile(archive.path);
    expect(bytes.subarray(0, 4).toString('latin1')).toBe('PK\x03\x04');
    expect(archive.bytes).toBe(bytes.length);
    expect(archive.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(archive.attempts).toBe(1);
    expect(path.basename(archive.path)).toContain(requestId);
  });

  it('sends the request id as a bare JSON number', async () => {
    const { client } = await setup({ firstRequestId: 9_007_199_254_740_993n });
    const { requestId } = await client.addRequest({ dataFormat: 'text', categories: ['activity'] });
    // 2^53 + 1 is not representable as a double; the sandbox only finds it if the digits arrive intact.
    expect(requestId).toBe('9007199254740993');
    await expect(client.checkStatus(requestId)).resolves.toMatchObject({
      requestId: '9007199254740993',
      dataFormat: 'text',
    });
    const raw = await fetch(`${sandbox.url}/v2/user/data/check/?fields=request_id`, {
      method: 'POST',
      headers: { authorization: 'Bearer nope', 'content-type': 'application/json' },
      body: `{"request_id":${requestId}}`,
    });
    expect(raw.status).toBe(401);
  });

  it('maps invalid_params, scope_not_authorized and unknown ids to terminal errors with the log id', async () => {
    const { client } = await setup();
    const unknown = (await client
      .checkStatus('7412345678901234999')
      .catch((e: unknown) => e)) as PipelineError;
    expect(unknown).toBeInstanceOf(TerminalError);
    expect(unknown.code).toBe('invalid_params');
    expect(unknown.details.log_id).toMatch(/^\d{14}/);
    expect(unknown.message).toMatch(/Incorrect `request_id`/);

    await sandbox.close();
    sandbox = await sandboxWith({ accounts: [{ username: 'bo' }] });
    const { tokens, oauth } = await connect(sandbox, { scopes: ['portability.activity.ongoing'] });
    const narrow = new PortabilityClient({
      tokens: tokenSource(tokens, oauth),
      endpoints: { apiBaseUrl: sandbox.url },
      clock: sandbox.clock,
    });
    const scope = (await narrow
      .addRequest({ dataFormat: 'json', categories: ['direct_message'] })
      .catch((e: unknown) => e)) as PipelineError;
    expect(scope).toBeInstanceOf(TerminalError);
    expect(scope.code).toBe('scope_not_authorized');
  });

  it('refreshes once on access_token_invalid, then gives up with a terminal error', async () => {
    sandbox = await sandboxWith();
    const bad = fixedToken('act.not-a-token');
    const client = new PortabilityClient({
      tokens: bad,
      endpoints: { apiBaseUrl: sandbox.url },
      clock: sandbox.clock,
    });
    const error = (await client
      .addRequest({ dataFormat: 'json', categories: ['all_data'] })
      .catch((e: unknown) => e)) as PipelineError;
    expect(bad.refreshes).toBe(1);
    expect(error).toBeInstanceOf(TerminalError);
    expect(error.code).toBe('access_token_invalid');
    expect(error.message).not.toContain('act.not-a-token');
  });

  it('recovers from an expired access token by refreshing', async () => {
    const { client, tokensSource, clock } = await setup();
    await clock.advance(25 * 3600_000);
    await expect(client.addRequest({ dataFormat: 'json', categories: ['all_data'] })).resolves.toHaveProperty(
      'requestId',
    );
    expect(tokensSource.refreshes).toBe(1);
  });

  it('retries 5xx bursts on Check with backoff', async () => {
    const { client, clock } = await setup();
    const { requestId } = await client.addRequest({ dataFormat: 'json', categories: ['all_data'] });
    sandbox.faults.serverErrors(2, { endpoint: 'check' });
    const status = await clock.run(client.checkStatus(requestId));
    expect(status.status).toBe('pending');
    expect(sandbox.hits.check).toBe(3);
  });

  it('gives up on a longer 5xx burst with a transient error', async () => {
    const { client, clock } = await setup({}, { retries: 2 });
    const { requestId } = await client.addRequest({ dataFormat: 'json', categories: ['all_data'] });
    sandbox.faults.serverErrors(5, { endpoint: 'check', status: 503 });
    const error = (await clock.run(client.checkStatus(requestId)).catch((e: unknown) => e)) as PipelineError;
    expect(error).toBeInstanceOf(TransientError);
    expect(error.code).toBe('internal_error');
  });

  it('honours Retry-After in seconds and as an HTTP date on 429', async () => {
    const { client, clock } = await setup();
    sandbox.faults.rateLimit(1, { endpoint: 'add', retryAfterSeconds: 7 });
    const start = clock.now();
    await clock.run(client.addRequest({ dataFormat: 'json', categories: ['all_data'] }));
    expect(clock.now() - start).toBe(7_000);

    sandbox.faults.rateLimit(1, { endpoint: 'check', retryAfterSeconds: 20, asHttpDate: true });
    const before = clock.now();
    await clock.run(client.checkStatus('7412345678901234567'));
    expect(clock.now() - before).toBeGreaterThanOrEqual(19_000);
    expect(clock.now() - before).toBeLessThanOrEqual(21_000);
  });

  it('fails with retryAfterMs when Retry-After is longer than it waits in-call', async () => {
    const { client, clock } = await setup({}, { maxRetryAfterMs: 10_000 });
    sandbox.faults.rateLimit(1, { endpoint: 'add', retryAfterSeconds: 120 });
    const error = (await clock
      .run(client.addRequest({ dataFormat: 'json', categories: ['all_data'] }))
      .catch((e: unknown) => e)) as TransientError;
    expect(error).toBeInstanceOf(TransientError);
    expect(error.code).toBe('rate_limit_exceeded');
    expect(error.retryAfterMs).toBe(120_000);
  });

  it('enforces the per-minute rate limit of the sandbox with 429 rate_limit_exceeded', async () => {
    const { client, clock } = await setup({ rateLimitPerMinute: 3 }, { retries: 0 });
    const { requestId } = await client.addRequest({ dataFormat: 'json', categories: ['all_data'] });
    await client.checkStatus(requestId);
    await client.checkStatus(requestId);
    await client.checkStatus(requestId);
    const error = (await client.checkStatus(requestId).catch((e: unknown) => e)) as TransientError;
    expect(error.code).toBe('rate_limit_exceeded');
    expect(error.retryAfterMs).toBeGreaterThan(0);
    await clock.advance(60_000);
    await expect(client.checkStatus(requestId)).resolves.toHaveProperty('requestId', requestId);
  });

  it('retries a connection reset on Check but not on Add', async () => {
    const { client, clock } = await setup();
    sandbox.faults.resetConnections(1, { endpoint: 'add' });
    const error = (await clock
      .run(client.addRequest({ dataFormat: 'json', categories: ['all_data'] }))
      .catch((e: unknown) => e)) as PipelineError;
    expect(error).toBeInstanceOf(TransientError);
    expect(error.code).toBe('tiktok_network_error');
    expect(sandbox.hits.add).toBe(1);

    const { requestId } = await client.addRequest({ dataFormat: 'json', categories: ['all_data'] });
    sandbox.faults.resetConnections(1, { endpoint: 'check' });
    await expect(clock.run(client.checkStatus(requestId))).resolves.toHaveProperty('status', 'pending');
  });

  it('cancels a request; a second cancel is refused', async () => {
    const { client } = await setup();
    const { requestId } = await client.addRequest({ dataFormat: 'json', categories: ['all_data'] });
    await client.cancelRequest(requestId);
    await expect(client.checkStatus(requestId)).resolves.toHaveProperty('status', 'cancelled');
    await expect(client.cancelRequest(requestId)).rejects.toMatchObject({ code: 'invalid_params' });
  });

  it('restarts a download broken half-way when the server does not support ranges', async () => {
    const { client, clock } = await setup();
    const requestId = await readyRequest(client, clock);
    sandbox.faults.resetDownload(1, { afterBytes: 5_000 });
    const archive = await clock.run(client.download(requestId));
    expect(archive.attempts).toBe(2);
    expect(archive.resumed).toBe(false);
    const bytes = await readFile(archive.path);
    expect(archive.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(bytes.length).toBe(archive.bytes);
  });

  it('resumes a broken download with a Range request when the server accepts ranges', async () => {
    const { client, clock } = await setup({ acceptRanges: true });
    const requestId = await readyRequest(client, clock);
    const reference = await client.download(requestId);
    sandbox.faults.resetDownload(1, { afterBytes: 5_000 });
    const archive = await clock.run(client.download(requestId));
    expect(archive.attempts).toBe(2);
    expect(archive.resumed).toBe(true);
    expect(archive.sha256).toBe(reference.sha256);
    expect(archive.bytes).toBe(reference.bytes);
  });

  it('starts over with a fresh hash when a Range request is answered with the whole file', async () => {
    const { client, clock } = await setup({ acceptRanges: true, ignoreRangeRequests: true });
    const requestId = await readyRequest(client, clock);
    const reference = await client.download(requestId);
    sandbox.faults.resetDownload(1, { afterBytes: 5_000 });
    const archive = await clock.run(client.download(requestId));
    expect(archive).toMatchObject({
      attempts: 2,
      resumed: false,
      bytes: reference.bytes,
      sha256: reference.sha256,
    });
  });

  it('downloads again when a transfer ends early without a length to tell', async () => {
    const { client, clock } = await setup();
    const requestId = await readyRequest(client, clock);
    sandbox.faults.truncateDownload(1, { afterBytes: 3_000 });
    const archive = await clock.run(client.download(requestId));
    expect(archive.attempts).toBe(2);
    const bytes = await readFile(archive.path);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(archive.sha256);
  });

  it('recognises a JSON error body served in place of the zip', async () => {
    const own = await mkdtemp(path.join(directory, 'json-'));
    const { client, clock } = await setup({}, { retries: 0, download: { directory: own, attempts: 1 } });
    const requestId = await readyRequest(client, clock);
    sandbox.faults.jsonInsteadOfZip(1, { status: 200, contentType: 'application/octet-stream' });
    const error = (await client.download(requestId).catch((e: unknown) => e)) as PipelineError;
    expect(error.code).toBe('internal_error');
    expect(error.details.log_id).toMatch(/^\d{14}/);
    expect(await readdir(own)).toEqual([]);
  });

  it('retries a JSON error body and then gets the zip', async () => {
    const { client, clock } = await setup();
    const requestId = await readyRequest(client, clock);
    sandbox.faults.jsonInsteadOfZip(1, { status: 500, contentType: 'application/json' });
    const archive = await clock.run(client.download(requestId));
    expect(archive.attempts).toBe(2);
  });

  it('refuses to download a request that is not ready', async () => {
    const { client } = await setup();
    const { requestId } = await client.addRequest({ dataFormat: 'json', categories: ['all_data'] });
    await expect(client.download(requestId)).rejects.toMatchObject({ code: 'invalid_params' });
  });

  it('stops at the size cap', async () => {
    const { client, clock } = await setup({}, { download: { directory, maxBytes: 1_000 } });
    const requestId = await readyRequest(client, clock);
    await expect(client.download(requestId)).rejects.toMatchObject({ code: 'archive_too_large' });
  });

  it('times out an idle transfer and retries it', async () => {
    const { client, clock } = await setup({}, { download: { directory, idleTimeoutMs: 100 } });
    const requestId = await readyRequest(client, clock);
    sandbox.faults.slowDownload({ chunkBytes: 2_000, delayMs: 400, count: 1 });
    const archive = await clock.run(client.download(requestId));
    expect(archive.attempts).toBeGreaterThan(1);
  });
});
