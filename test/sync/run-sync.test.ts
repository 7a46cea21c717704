import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureAccount } from '../../src/db/accounts.js';
import { type PipelineError, TerminalError } from '../../src/errors.js';
import type { ImportResult } from '../../src/ingest/import-archive.js';
import { silentLogger } from '../../src/logger.js';
import type { Sandbox, SandboxOptions } from '../../src/sandbox/index.js';
import { cancelInFlight, categoriesForScopes } from '../../src/sync/request.js';
import { type ImportExportFn, runSync, type SyncContext, type SyncOptions } from '../../src/sync/run-sync.js';
import type { SimulatedClock } from '../../src/tiktok/clock.js';
import type { TikTokTables } from '../../src/tiktok/db-types.js';
import { PortabilityClient } from '../../src/tiktok/portability-client.js';
import { parseEncryptionKey, TokenStore } from '../../src/tiktok/tokens.js';
import { createWebhookHandler, RequestNotifier } from '../../src/tiktok/webhook.js';
import { processWebhookEvents } from '../../src/tiktok/webhook-events.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { connect, sandboxWith } from '../tiktok/support.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

let database: TestDatabase;
let directory: string;
let sandbox: Sandbox | undefined;
let server: Server | undefined;
beforeAll(async () => {
  database = await createTestDatabase();
  directory = await mkdtemp(path.join(tmpdir(), 'lifecycle-test-'));
});
afterAll(async () => {
  await database.drop();
  await rm(directory, { recursive: true, force: true });
});
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

interface Imported {
  accountName: string;
  zipPath: string;
  kind: string;
  source: string;
  requestId: string;
  existed: boolean;
}

async function setup(
  name: string,
  options: { sandbox?: SandboxOptions; scopes?: string[]; webhook?: boolean } = {},
) {
  sandbox = await sandboxWith({
    readyDelayMs: 5 * MINUTE,
    accounts: [{ username: name, scale: 150 }],
    ...options.sandbox,
  });
  const clock = sandbox.clock as SimulatedClock;
  const db = database.db.withTables<TikTokTables>();
  const { tokens, oauth } = await connect(sandbox, { scopes: options.scopes ?? ['portability.all.ongoing'] });
  const accountId = await ensureAccount(database.db, name);
  const grants = new TokenStore({
    db,
    oauth,
    encryptionKey: parseEncryptionKey(Buffer.alloc(32, 5).toString('base64')),
    clock,
  });
  await grants.saveGrant(accountId, tokens);
  const client = new PortabilityClient({
    tokens: grants.forAccount(accountId),
    endpoints: { apiBaseUrl: sandbox.url },
    clock,
    download: { directory },
  });
  const imports: Imported[] = [];
  const importExport: ImportExportFn = async (request) => {
    imports.push({ ...request, existed: existsSync(request.zipPath) });
    return importedAs(String(imports.length), String(100 + imports.length));
  };
  const notifier = new RequestNotifier();
  if (options.webhook) {
    const onEvent = processWebhookEvents({ db, clock, logger: silentLogger(), notifier });
    server = createServer(createWebhookHandler({ clientSecret: sandbox.clientSecret, clock, onEvent }));
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', () => resolve()));
    sandbox.webhooks.setUrl(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  }
  const context: SyncContext = { db, client, grants, importExport, clock, logger: silentLogger(), notifier };
  const sync = (extra: Partial<SyncOptions> = {}) =>
    clock.run(
      runSync(context, {
        accountId,
        accountName: name,
        pollInitialMs: 10_000,
        random: () => 0.5,
        ...extra,
      }),
    );
  return { context, sync, clock, db, accountId, imports, grants, sandbox };
}

async function requestRows(accountId: string) {
  const result = await database.pool.query(
    'select request_id, status, remote_status, categories, finished_at, check_count, archive_bytes, run_id, archive_id from tiktok_sync.data_requests where account_id = $1 order by added_at, request_id',
    [accountId],
  );
  return result.rows;
}

describe('lifecycle', () => {
  it('derives categories from granted scopes', () => {
    expect(categoriesForScopes(['portability.all.ongoing', 'portability.activity.single'])).toEqual({
      categories: ['all_data'],
      consumes: [],
    });
    expect(categoriesForScopes(['portability.all.single'])).toEqual({
      categories: ['all_data'],
      consumes: ['portability.all.single'],
    });
    expect(
      categoriesForScopes(['portability.activity.ongoing', 'portability.postsandprofile.single']),
    ).toEqual({
      categories: ['activity', 'video', 'profile'],
      consumes: ['portability.postsandprofile.single'],
    });
    expect(
      categoriesForScopes(['portability.directmessages.single'], ['portability.directmessages.single']),
    ).toEqual({ categories: [], consumes: [] });
    expect(categoriesForScopes(['user.info.basic'])).toEqual({ categories: [], consumes: [] });
  });

  it('adds, polls with backoff, downloads and imports', async () => {
    const { sync, accountId, imports, sandbox } = await setup('ana');
    const outcome = await sync();
    expect(outcome.state).toBe('imported');
    if (outcome.state !== 'imported') return;
    expect(outcome.requestId).toBe('7412345678901234567');
    expect(imports).toEqual([
      {
        accountName: 'ana',
        zipPath: expect.stringContaining('7412345678901234567'),
        kind: 'sync',
        source: 'tiktok:request/7412345678901234567',
        requestId: '7412345678901234567',
        existed: true,
      },
    ]);
    expect(existsSync(imports[0]!.zipPath)).toBe(false);
    const [row] = await requestRows(accountId);
    expect(row).toMatchObject({
      request_id: '7412345678901234567',
      status: 'imported',
      remote_status: 'downloading',
      categories: ['all_data'],
      run_id: '1',
      archive_id: '101',
    });
    expect(row.finished_at).not.toBeNull();
    expect(Number(row.archive_bytes)).toBe(outcome.archive.bytes);
    // 10 s, 20 s, 40 s, 80 s, 160 s… with the jitter fixed at its middle: a handful of Checks for a 5-minute wait.
    expect(row.check_count).toBeGreaterThanOrEqual(4);
    expect(row.check_count).toBeLessThanOrEqual(7);
    expect(sandbox.hits.add).toBe(1);
  });

  it('returns as soon as the webhook says the request is ready', async () => {
    const { context, clock, accountId } = await setup('bo', {
      webhook: true,
      sandbox: { readyDelayMs: 2 * MINUTE, webhook: {} },
    });
    const start = clock.now();
    const running = runSync(context, {
      accountId,
      accountName: 'bo',
      pollInitialMs: HOUR,
      pollMaxMs: 6 * HOUR,
      waitMs: 12 * HOUR,
    });
    // Time moves only once the sync sleeps on its hour-long poll interval (besides the sandbox's ready timer).
    while (clock.pendingTimers < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    await clock.advance(2 * MINUTE);
    const outcome = await running;
    expect(outcome.state).toBe('imported');
    expect(clock.now() - start).toBe(2 * MINUTE);
    const [row] = await requestRows(accountId);
    expect(row.check_count).toBe(2);
  });

  it('resumes the request in flight instead of making a new one', async () => {
    const { sync, sandbox, accountId } = await setup('cy');
    const first = await sync({ waitMs: 30_000 });
    expect(first).toMatchObject({ state: 'waiting', requestId: '7412345678901234567' });
    expect((await requestRows(accountId))[0]).toMatchObject({ status: 'pending', finished_at: null });
    const second = await sync();
    expect(second).toMatchObject({ state: 'imported', requestId: '7412345678901234567' });
    expect(sandbox.hits.add).toBe(1);
  });

  it('makes a new request when the one in flight expired', async () => {
    const { sync, sandbox, accountId } = await setup('dee');
    const first = await sync({ waitMs: 30_000 });
    expect(first.state).toBe('waiting');
    expect(sandbox.faults.expireEarly()).toBe(1);
    const second = await sync();
    expect(second.state).toBe('imported');
    expect(second.replaced).toEqual([first.requestId]);
    expect(second.requestId).not.toBe(first.requestId);
    const rows = await requestRows(accountId);
    expect(rows.map((row) => [row.request_id, row.status])).toEqual([
      [first.requestId, 'expired'],
      [second.requestId, 'imported'],
    ]);
  });

  it('cancels the request in flight; the next sync starts afresh', async () => {
    const { sync, context, accountId, sandbox } = await setup('eve');
    const first = await sync({ waitMs: 30_000 });
    expect(await cancelInFlight(context, accountId)).toBe(first.requestId);
    expect(sandbox.requests()[0]).toMatchObject({ status: 'cancelled' });
    expect((await requestRows(accountId))[0]).toMatchObject({ status: 'cancelled' });
    expect(await cancelInFlight(context, accountId)).toBeUndefined();
    const second = await sync();
    expect(second.state).toBe('imported');
    expect(sandbox.hits.add).toBe(2);
  });

  it('records a request cancelled elsewhere', async () => {
    const { sync, context, accountId } = await setup('fay');
    const first = await sync({ waitMs: 30_000 });
    await context.client.cancelRequest(first.requestId);
    expect(await sync()).toMatchObject({ state: 'cancelled', requestId: first.requestId });
    expect((await requestRows(accountId))[0]).toMatchObject({ status: 'cancelled' });
  });

  it('uses a single scope once and then asks for consent again', async () => {
    const { sync, accountId, grants, sandbox } = await setup('gil', {
      scopes: ['portability.activity.single'],
    });
    const outcome = await sync();
    expect(outcome.state).toBe('imported');
    expect(sandbox.requests()[0]).toMatchObject({ categories: ['activity'] });
    expect((await grants.summary(accountId))?.consumedScopes).toEqual(['portability.activity.single']);
    const error = (await sync().catch((e: unknown) => e)) as PipelineError;
    expect(error).toBeInstanceOf(TerminalError);
    expect(error.code).toBe('no_portability_scope');
    expect((await grants.summary(accountId))?.status).toBe('needs_consent');
  });

  it('marks the account needs_consent when the user revoked consent', async () => {
    const { sync, accountId, grants, sandbox, clock } = await setup('hal');
    const first = await sync({ waitMs: 30_000 });
    await sandbox.faults.revokeConsent('hal');
    await clock.advance(MINUTE);
    const error = (await sync().catch((e: unknown) => e)) as PipelineError;
    expect(error.code).toBe('needs_consent');
    const summary = await grants.summary(accountId);
    expect(summary?.status).toBe('needs_consent');
    // The request stays in flight: once reconnected, the next sync may resume it.
    expect((await requestRows(accountId))[0]).toMatchObject({
      request_id: first.requestId,
      finished_at: null,
      status: 'pending',
    });
    await expect(sync()).rejects.toMatchObject({ code: 'needs_consent' });
  });

  it('keeps the request in flight when the download keeps breaking', async () => {
    const { sync, accountId, sandbox } = await setup('ivy');
    sandbox.faults.resetDownload(10, { afterBytes: 1_000 });
    const error = (await sync().catch((e: unknown) => e)) as PipelineError;
    expect(error.name).toBe('TransientError');
    expect((await requestRows(accountId))[0]).toMatchObject({ status: 'ready', finished_at: null });
    sandbox.faults.clear();
    expect(await sync()).toMatchObject({ state: 'imported' });
  });

  it('ends the request as failed when the import says the archive is unusable', async () => {
    const { context, accountId, clock } = await setup('jo');
    const failing: SyncContext = {
      ...context,
      importExport: async () => {
        throw new TerminalError('archive_not_zip', 'The archive is not a zip.');
      },
    };
    await expect(
      clock.run(runSync(failing, { accountId, accountName: 'jo', pollInitialMs: 10_000 })),
    ).rejects.toMatchObject({ code: 'archive_not_zip' });
    const result = await database.pool.query(
      'select status, error_code, finished_at from tiktok_sync.data_requests where account_id = $1',
      [accountId],
    );
    expect(result.rows[0]).toMatchObject({ status: 'failed', error_code: 'archive_not_zip' });
  });
});

/** What the import of the stand-in reports: only the run and the archive matter to the sync. */
function importedAs(runId: string, archiveId: string): ImportResult {
  return {
    accountId: '0',
    runId,
    archiveId,
    newArchive: true,
    skipped: false,
    sha256: '',
    info: { format: 'json', era: '2025' },
    exportedAt: new Date(0),
    exportedAtSource: 'import_time',
    older: false,
    records: 0,
    counts: {},
    warnings: [],
    warningCount: 0,
    stageTimings: {},
  };
}
