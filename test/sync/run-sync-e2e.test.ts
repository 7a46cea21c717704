import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureAccount } from '../../src/db/accounts.js';
import { DEFAULT_ARCHIVE_LIMITS } from '../../src/ingest/archive.js';
import { importArchive } from '../../src/ingest/import-archive.js';
import { silentLogger } from '../../src/logger.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import { runSync } from '../../src/sync/run-sync.js';
import type { SimulatedClock } from '../../src/tiktok/clock.js';
import type { TikTokTables } from '../../src/tiktok/db-types.js';
import { PortabilityClient } from '../../src/tiktok/portability-client.js';
import { parseEncryptionKey, TokenStore } from '../../src/tiktok/tokens.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { connect, sandboxWith } from '../tiktok/support.js';

let database: TestDatabase;
let sandbox: Sandbox;
let directory: string;
beforeAll(async () => {
  database = await createTestDatabase();
  directory = await mkdtemp(path.join(tmpdir(), 'lifecycle-e2e-'));
  sandbox = await sandboxWith({
    readyDelayMs: 3 * 60_000,
    accounts: [{ username: 'ana', scale: 400, era: '2025' }],
  });
});
afterAll(async () => {
  await sandbox.close();
  await database.drop();
  await rm(directory, { recursive: true, force: true });
});

describe('lifecycle end to end', () => {
  it('syncs an account through the sandbox into the data tables, twice as the user evolves', async () => {
    const clock = sandbox.clock as SimulatedClock;
    const db = database.db.withTables<TikTokTables>();
    const { tokens, oauth } = await connect(sandbox);
    const accountId = await ensureAccount(database.db, 'ana');
    const grants = new TokenStore({ db, oauth, encryptionKey: parseEncryptionKey('11'.repeat(32)), clock });
    await grants.saveGrant(accountId, tokens);
    const client = new PortabilityClient({
      tokens: grants.forAccount(accountId),
      endpoints: { apiBaseUrl: sandbox.url },
      clock,
      download: { directory },
    });
    const logger = silentLogger();
    const context = {
      db,
      client,
      grants,
      clock,
      logger,
      importExport: (options: Parameters<typeof importArchive>[1]) =>
        importArchive({ database, logger, limits: DEFAULT_ARCHIVE_LIMITS }, options),
    };
    const options = { accountId, accountName: 'ana', pollInitialMs: 20_000 };

    const first = await clock.run(runSync(context, options));
    expect(first.state).toBe('imported');
    await clock.advance(24 * 3600_000);
    const second = await clock.run(runSync(context, options));
    expect(second.state).toBe('imported');

    const runs = await database.pool.query(
      `select r.run_id, r.kind, r.status, r.request_id, d.status as request_status
         from tiktok_sync.sync_runs r join tiktok_sync.data_requests d on d.account_id = r.account_id and d.run_id = r.run_id
        where r.account_id = $1 order by r.run_id`,
      [accountId],
    );
    expect(runs.rows.map((row) => [row.kind, row.status, row.request_id, row.request_status])).toEqual([
      ['sync', 'succeeded', first.requestId, 'imported'],
      ['sync', 'succeeded', second.requestId, 'imported'],
    ]);
    const watched = await database.pool.query(
      'select count(*)::int as n from tiktok.watch_history where account_id = $1',
      [accountId],
    );
    expect(watched.rows[0].n).toBeGreaterThan(0);
  });
});
