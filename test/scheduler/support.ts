import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Config, loadConfig } from '../../src/config.js';
import { ensureAccount } from '../../src/db/accounts.js';
import { connectTo, type DatabaseHandle } from '../../src/db/connect.js';
import { MINUTE } from '../../src/duration.js';
import { silentLogger } from '../../src/logger.js';
import type { Sandbox, SandboxAccountOptions, SandboxOptions } from '../../src/sandbox/index.js';
import { type Daemon, type DaemonOptions, startDaemon } from '../../src/scheduler/daemon.js';
import { daemonDatabase } from '../../src/scheduler/pool.js';
import type { SimulatedClock } from '../../src/tiktok/clock.js';
import type { TikTokTables } from '../../src/tiktok/db-types.js';
import { parseEncryptionKey, TokenStore } from '../../src/tiktok/tokens.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { connect, sandboxWith } from '../tiktok/support.js';

export { DAY, HOUR, MINUTE, SECOND } from '../../src/duration.js';
export const ENCRYPTION_KEY = Buffer.alloc(32, 7).toString('base64');

/** The schedule of a test world's daemon: every 12 hours, no jitter, 5-minute leases. */
export const DAEMON_SYNC = { interval: '12h', jitter: '0s', lease: '5m' };

let configs = 0;

/**
 * Writes a daemon's config file for a test world in `directory` (its data and downloads there, the
 * sandbox's app), `settings` over the defaults key by key; returns it with the environment it needs.
 */
export async function writeDaemonConfig(
  directory: string,
  databaseUrl: string,
  sandbox: Pick<Sandbox, 'clientKey' | 'clientSecret' | 'url' | 'consentUrl'>,
  settings: Record<string, unknown>,
): Promise<{ file: string; env: Record<string, string> }> {
  const file = path.join(directory, `config-${configs++}.json`);
  await writeFile(
    file,
    JSON.stringify({
      dataDir: directory,
      tiktok: { pollInitialSeconds: 60, pollMaxSeconds: 600, downloadDir: path.join(directory, 'downloads') },
      sync: DAEMON_SYNC,
      ...settings,
    }),
  );
  const env = {
    DATABASE_URL: databaseUrl,
    TIKTOK_CLIENT_KEY: sandbox.clientKey,
    TIKTOK_CLIENT_SECRET: sandbox.clientSecret,
    TIKTOK_API_BASE_URL: sandbox.url,
    TIKTOK_AUTH_BASE_URL: sandbox.consentUrl,
    TIKTOK_SYNC_ENCRYPTION_KEY: ENCRYPTION_KEY,
  };
  return { file, env };
}

/** A test database, a sandbox on a simulated clock with `accounts`, all connected through OAuth. */
export interface World {
  database: TestDatabase;
  sandbox: Sandbox;
  clock: SimulatedClock;
  directory: string;
  /** Account ids by name. */
  accounts: Map<string, string>;
  /** The config daemons run with: the sandbox as TikTok, `sync` as given. */
  config(sync?: Record<string, unknown>, extra?: Record<string, unknown>): Promise<Config>;
  /** The same as a file and environment, for a daemon in another process. */
  configFile(
    sync?: Record<string, unknown>,
    extra?: Record<string, unknown>,
  ): Promise<{ file: string; env: Record<string, string> }>;
  /** A daemon with a pool of its own, driven by the test (no node-cron, no HTTP unless `listen`). */
  daemon(config: Config, options?: Partial<DaemonOptions>): Promise<TestDaemon>;
  close(): Promise<void>;
}

export interface TestDaemon extends Daemon {
  readonly database: DatabaseHandle;
  /** Stops the daemon and closes its pool. */
  close(): Promise<void>;
  /** As if the process died: no more writes, its connections dropped, its claims left to lapse. */
  crash(): Promise<void>;
}

export async function createWorld(
  names: readonly string[],
  options: {
    sandbox?: SandboxOptions;
    account?: Partial<SandboxAccountOptions>;
    scopes?: string[];
    grants?: Record<string, string[]>;
  } = {},
): Promise<World> {
  const database = await createTestDatabase();
  const directory = await mkdtemp(path.join(tmpdir(), 'scheduler-test-'));
  const sandbox = await sandboxWith({
    readyDelayMs: 2 * MINUTE,
    accounts: names.map((username) => ({ username, scale: 25, ...options.account })),
    ...options.sandbox,
  });
  const clock = sandbox.clock as SimulatedClock;
  const db = database.db.withTables<TikTokTables>();
  const accounts = new Map<string, string>();
  for (const name of names) {
    const grant = options.grants?.[name];
    const { tokens, oauth } = await connect(sandbox, {
      account: name,
      scopes: grant ?? options.scopes ?? ['portability.all.ongoing'],
      ...(grant ? { grant } : {}),
    });
    const accountId = await ensureAccount(database.db, name);
    const store = new TokenStore({ db, oauth, encryptionKey: parseEncryptionKey(ENCRYPTION_KEY), clock });
    await store.saveGrant(accountId, tokens);
    accounts.set(name, accountId);
  }
  const daemons: TestDaemon[] = [];
  const configFile = async (sync: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) =>
    writeDaemonConfig(directory, database.url, sandbox, {
      ...extra,
      sync: { ...DAEMON_SYNC, ...sync },
    });

  return {
    database,
    sandbox,
    clock,
    directory,
    accounts,
    configFile,
    async config(sync = {}, extra = {}) {
      const { file, env } = await configFile(sync, extra);
      return loadConfig({ configPath: file, env });
    },
    async daemon(config, daemonOptions = {}) {
      const daemon = await startTestDaemon(database.url, config, {
        clock,
        owner: `daemon-${daemons.length + 1}`,
        ...daemonOptions,
      });
      daemons.push(daemon);
      return daemon;
    },
    async close() {
      for (const daemon of daemons) await daemon.close().catch(() => {});
      await sandbox.close();
      await database.drop();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** Advances simulated time, ticks every daemon at once, and waits until all are idle. */
/**
 * A daemon for a test: its own pool on the test database, no cron, no HTTP server and a silent
 * logger unless `options` says otherwise; `close()` stops it, `crash()` kills it as a dead process.
 */
export async function startTestDaemon(
  databaseUrl: string,
  config: Config,
  options: Partial<DaemonOptions> & Pick<DaemonOptions, 'clock'>,
): Promise<TestDaemon> {
  const base = connectTo(databaseUrl, 'tiktok-sync-daemon-test');
  const handle = daemonDatabase(base, config, config.sync.concurrency + 4);
  const daemon = await startDaemon({
    config,
    database: handle,
    logger: silentLogger(),
    cron: false,
    listen: false,
    processMetrics: false,
    ...options,
  });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await handle.close();
    await base.close();
  };
  return {
    ...daemon,
    database: handle,
    async close() {
      if (!closed) await daemon.stop({ graceMs: 5_000, timeoutMs: 10_000 });
      await close();
    },
    async crash() {
      await daemon.kill();
      // Dropping the connections is what a dead process does to the server.
      await close();
    },
  };
}

export async function step(clock: SimulatedClock, daemons: readonly Daemon[], ms: number): Promise<void> {
  await clock.advance(ms);
  await Promise.all(daemons.map((daemon) => daemon.tick()));
  await Promise.all(daemons.map((daemon) => daemon.idle()));
}

/** Requests per account name, from the database (in order). */
export async function requestsByAccount(
  database: TestDatabase,
): Promise<Map<string, { requestId: string; status: string; addedAt: Date; importedAt: Date | null }[]>> {
  const { rows } = await database.pool.query(
    `select a.name, d.request_id, d.status, d.added_at, d.imported_at
       from tiktok_sync.data_requests d join tiktok_sync.accounts a using (account_id)
      order by a.name, d.added_at, d.request_id`,
  );
  const result = new Map<
    string,
    { requestId: string; status: string; addedAt: Date; importedAt: Date | null }[]
  >();
  for (const row of rows) {
    const list = result.get(row.name) ?? [];
    list.push({
      requestId: row.request_id,
      status: row.status,
      addedAt: row.added_at,
      importedAt: row.imported_at,
    });
    result.set(row.name, list);
  }
  return result;
}

export async function scheduleRow(database: TestDatabase, accountId: string) {
  const { rows } = await database.pool.query(
    'select * from tiktok_sync.sync_schedule where account_id = $1',
    [accountId],
  );
  return rows[0];
}
