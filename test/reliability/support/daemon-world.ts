/**
 * One sync daemon (src/scheduler) against the sandbox on a simulated clock, behind the fault proxy,
 * with its HTTP server up (webhooks, /healthz, /metrics), kept running through a whole test file:
 * the fault corpus and the secrets test drive it with {@link DaemonWorld.step}.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Kysely } from 'kysely';
import { type Config, loadConfig } from '../../../src/config.js';
import { ensureAccount } from '../../../src/db/accounts.js';
import { connectTo, type DatabaseHandle } from '../../../src/db/connect.js';
import { importArchive } from '../../../src/ingest/import-archive.js';
import { type Logger, silentLogger } from '../../../src/logger.js';
import type { Sandbox, SandboxAccountOptions, SandboxOptions } from '../../../src/sandbox/index.js';
import { type Daemon, startDaemon } from '../../../src/scheduler/daemon.js';
import type { SchedulerDatabase } from '../../../src/scheduler/db-types.js';
import { daemonDatabase } from '../../../src/scheduler/pool.js';
import type { SimulatedClock } from '../../../src/tiktok/clock.js';
import type { TikTokTables } from '../../../src/tiktok/db-types.js';
import type { OAuthClient, TokenSet } from '../../../src/tiktok/oauth.js';
import { parseEncryptionKey, TokenStore } from '../../../src/tiktok/tokens.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { connect, sandboxWith } from '../../tiktok/support.js';
import { type FaultProxy, startFaultProxy } from './fault-proxy.js';

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
/** The longest sleep inside one call: the client's backoff (up to 60 s) or a short Retry-After. */
const MAX_IN_CALL_SLEEP_MS = 60 * SECOND;

export interface DaemonWorld {
  database: TestDatabase;
  sandbox: Sandbox;
  clock: SimulatedClock;
  proxy: FaultProxy;
  daemon: Daemon;
  config: Config;
  /** The environment and config file the daemon was configured with (secrets included). */
  env: Record<string, string>;
  configFile: string;
  dir: string;
  quarantine: string;
  encryptionKey: string;
  scheduleDb: Kysely<SchedulerDatabase>;
  /** Connects a sandbox user through OAuth and stores its grant (what `tiktok-sync connect` does). */
  connectAccount(name: string): Promise<{ accountId: string; tokens: TokenSet; oauth: OAuthClient }>;
  tokenStore(oauth: OAuthClient): TokenStore;
  /** Moves simulated time, ticks the daemon and waits until it is idle (time runs on while it works). */
  step(ms: number): Promise<void>;
  /** Waits until the daemon is idle, moving time on only to near deadlines (in-call sleeps). */
  settle(): Promise<void>;
  close(): Promise<void>;
}

export async function startDaemonWorld(options: {
  accounts: SandboxAccountOptions[];
  logger?: Logger;
  sandbox?: SandboxOptions;
  encryptionKey?: string;
}): Promise<DaemonWorld> {
  const database = await createTestDatabase();
  const dir = await mkdtemp(path.join(tmpdir(), 'daemon-world-'));
  const quarantine = path.join(dir, 'quarantine');
  const sandbox = await sandboxWith({
    readyDelayMs: 2 * MINUTE,
    accounts: options.accounts,
    ...options.sandbox,
  });
  const clock = sandbox.clock as SimulatedClock;
  const proxy = await startFaultProxy(sandbox.url);
  const encryptionKey = options.encryptionKey ?? Buffer.alloc(32, 3).toString('base64');
  const configFile = path.join(dir, 'config.json');
  await writeFile(
    configFile,
    JSON.stringify({
      dataDir: dir,
      tiktok: { pollInitialSeconds: 60, pollMaxSeconds: 600, downloadDir: path.join(dir, 'downloads') },
      sync: { interval: '12h', jitter: '0s', lease: '5m', retryInitial: '1m', retryMax: '10m' },
    }),
  );
  const env = {
    DATABASE_URL: database.url,
    TIKTOK_CLIENT_KEY: sandbox.clientKey,
    TIKTOK_CLIENT_SECRET: sandbox.clientSecret,
    TIKTOK_API_BASE_URL: proxy.url,
    TIKTOK_AUTH_BASE_URL: sandbox.consentUrl,
    TIKTOK_SYNC_ENCRYPTION_KEY: encryptionKey,
  };
  const config = loadConfig({ configPath: configFile, env });
  const logger = options.logger ?? silentLogger();
  const base = connectTo(database.url, 'tiktok-sync-daemon-test');
  const handle: DatabaseHandle = daemonDatabase(base, config, config.sync.concurrency + 4);
  const daemon = await startDaemon({
    config,
    database: handle,
    logger,
    clock,
    cron: false,
    listen: '127.0.0.1:0',
    processMetrics: false,
    owner: 'fault-daemon',
    // The import step with quarantine, as the daemon's wiring will pass it from the config.
    importArchive: (importOptions, signal) =>
      importArchive(
        { database: handle, logger, limits: config.archive, signal, quarantineDir: quarantine },
        importOptions,
      ),
  });
  sandbox.webhooks.setUrl(`${daemon.url}${config.tiktok.webhook.path}`);
  const tokenStore = (oauth: OAuthClient) =>
    new TokenStore({
      db: database.db.withTables<TikTokTables>(),
      oauth,
      encryptionKey: parseEncryptionKey(encryptionKey),
      clock,
    });

  async function settle(): Promise<void> {
    // In-call retries sleep on the simulated clock (a backoff of seconds, a short Retry-After): move
    // time on to such near deadlines while the daemon works, but never as far as the sandbox's own
    // timers (a request becoming ready minutes later), which would make the outcome depend on speed.
    let idle = false;
    const done = daemon.idle().then(() => {
      idle = true;
    });
    while (!idle) {
      await new Promise((resolve) => setTimeout(resolve, 15));
      const next = clock.nextDeadline;
      if (!idle && next !== undefined && next - clock.now() <= MAX_IN_CALL_SLEEP_MS)
        await clock.advanceTo(next);
    }
    await done;
  }

  return {
    database,
    sandbox,
    clock,
    proxy,
    daemon,
    config,
    env,
    configFile,
    dir,
    quarantine,
    encryptionKey,
    scheduleDb: database.db.withTables<TikTokTables>() as unknown as Kysely<SchedulerDatabase>,
    tokenStore,
    async connectAccount(name) {
      const { tokens, oauth } = await connect(sandbox, { account: name });
      const accountId = await ensureAccount(database.db, name);
      await tokenStore(oauth).saveGrant(accountId, tokens);
      return { accountId, tokens, oauth };
    },
    async step(ms) {
      await clock.advance(ms);
      await daemon.tick();
      await settle();
    },
    settle,
    async close() {
      await daemon.stop({ graceMs: 1_000, timeoutMs: 5_000 }).catch(() => {});
      await handle.close();
      await base.close();
      await proxy.close();
      await sandbox.close();
      await database.drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
