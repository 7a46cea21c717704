import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Kysely } from 'kysely';
import { type ScheduledTask, schedule } from 'node-cron';
import type { Config } from '../config.js';
import type { DatabaseHandle } from '../db/connect.js';
import { HOUR } from '../duration.js';
import { coerceError } from '../errors.js';
import { inviteCounts, sweepConsents } from '../invites/store.js';
import { createInvitePages } from '../invites/web.js';
import type { Logger } from '../logger.js';
import { createMetrics, type Metrics } from '../metrics.js';
import { startDaemonServer } from '../server/http.js';
import { createServices, type ServiceOptions } from '../services.js';
import { requireEncryptionKey } from '../tiktok/app.js';
import { type Clock, systemClock } from '../tiktok/clock.js';
import type { TikTokDatabase, TikTokTables } from '../tiktok/db-types.js';
import type { Secret } from '../tiktok/secret.js';
import { TokenStore, type TokenStoreOptions } from '../tiktok/tokens.js';
import { createWebhookHandler, RequestNotifier } from '../tiktok/webhook.js';
import { processWebhookEvents, retryAuthorizationRemovals } from '../tiktok/webhook-events.js';
import { createAccountWork } from './account-work.js';
import { clearStops, markRequestReady } from './claims.js';
import type { SchedulerDatabase, SyncScheduleTable } from './db-types.js';
import { sweepArchives } from './retention.js';
import { Scheduler, type StopOptions } from './scheduler.js';
import { accountsByConnection, syncGauges } from './status.js';

export interface DaemonOptions {
  config: Config;
  /** With a pool of at least `sync.concurrency + 3` connections (imports hold one each). */
  database: DatabaseHandle;
  logger: Logger;
  clock?: Clock;
  /** Default `<hostname>:<pid>:<random>`, or `sync.owner`. */
  owner?: string;
  random?: () => number;
  /** Wake the scheduler with node-cron on `sync.tick` (default true; tests call `tick()` themselves). */
  cron?: boolean;
  /** `host:port` for /healthz, /metrics and the webhook; default `sync.listen`; false for none. */
  listen?: string | false;
  /** Clear terminal stops (all accounts, or the named ones) before the first tick. */
  retryStopped?: boolean | readonly string[];
  /** Replaces the import step (tests simulate a crash before its commit). */
  importArchive?: ServiceOptions['importExport'];
  /** Include process metrics (default true). */
  processMetrics?: boolean;
}

export interface Daemon {
  readonly owner: string;
  readonly scheduler: Scheduler;
  readonly metrics: Metrics;
  /** Base URL of the HTTP server, when one is listening. */
  readonly url: string | undefined;
  tick(): Promise<void>;
  idle(): Promise<void>;
  /** Graceful stop within `sync.shutdownTimeout`: claims are released, the server closed. */
  stop(options?: Partial<StopOptions>): Promise<void>;
  /** As if the process died (tests): nothing more is written; claims lapse with their leases. */
  kill(): Promise<void>;
}

/** A token store that counts refreshes for the metrics. */
class CountingTokenStore extends TokenStore {
  readonly #metrics: Metrics;

  constructor(options: TokenStoreOptions, metrics: Metrics) {
    super(options);
    this.#metrics = metrics;
  }

  override async refresh(accountId: string, options: { rejected?: Secret; signal?: AbortSignal } = {}) {
    try {
      const token = await super.refresh(accountId, options);
      this.#metrics.tokenRefreshes.inc({ outcome: 'ok' });
      return token;
    } catch (error) {
      this.#metrics.tokenRefreshes.inc({ outcome: 'failed' });
      throw error;
    }
  }
}

/** Wakes the scheduler when the webhook says a request is ready, on top of waking any waiting sync. */
class SchedulerNotifier extends RequestNotifier {
  constructor(private readonly onReady: (requestId: string) => void) {
    super();
  }

  override notify(requestId: string): void {
    super.notify(requestId);
    this.onReady(requestId);
  }
}

/**
 * Starts the sync daemon: the scheduler (claims in Postgres, leases, concurrency), node-cron ticks,
 * and one HTTP server for /healthz, /metrics and TikTok's webhook.
 */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const { config, database, logger } = options;
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const owner = options.owner ?? config.sync.owner ?? defaultOwner();
  const log = logger.child({ owner });
  const db = database.db.withTables<TikTokTables>();
  const scheduleDb: Kysely<SchedulerDatabase> = db.withTables<{
    'tiktok_sync.sync_schedule': SyncScheduleTable;
  }>();

  const metrics = createMetrics({
    readDatabase: async () => ({
      ...(await syncGauges(db, clock.now())),
      invites: await inviteCounts(db, clock.now()),
      connections: await accountsByConnection(db),
    }),
    processMetrics: options.processMetrics ?? true,
  });
  const services = await createServices(config, database, logger, {
    clock,
    random,
    tokenStore: (storeOptions) => new CountingTokenStore(storeOptions, metrics),
    importExport: options.importArchive,
  });
  const { app, grants } = services;
  const notifier = new SchedulerNotifier((requestId) => {
    markRequestReady(scheduleDb, requestId, clock.now())
      .then(() => scheduler.fill())
      .catch((error) => log.warn({ err: coerceError(error), requestId }, 'claiming after a webhook failed'));
  });

  const work = createAccountWork({
    db,
    sync: config.sync,
    poll: { initialMs: config.tiktok.poll.initialMs, maxMs: config.tiktok.poll.maxMs },
    dataFormat: config.tiktok.dataFormat,
    keepArchives: config.archive.retentionMs > 0,
    grants,
    syncContext: (accountId, signal) => services.syncContext(accountId, { signal, notifier }),
    clock,
    logger,
    metrics,
    random,
  });

  const webhookEvents = {
    db,
    clock,
    logger: log,
    notifier,
    onAuthorizationRemoved: services.onAuthorizationRemoved,
  };
  let lastSweep = Number.NEGATIVE_INFINITY;
  const scheduler = new Scheduler({
    db: scheduleDb,
    work,
    clock,
    logger,
    owner,
    concurrency: config.sync.concurrency,
    leaseMs: config.sync.leaseMs,
    jitterMs: config.sync.jitterMs,
    paused: Object.entries(config.sync.accounts)
      .filter(([, account]) => account.paused)
      .map(([name]) => name),
    intervalOf: (name) => config.sync.accounts[name]?.interval ?? config.sync.interval,
    random,
    metrics,
    afterTick: async () => {
      // An account TikTok removed that could not be forgotten while a daemon was syncing it.
      await retryAuthorizationRemovals(webhookEvents);
      if (clock.now() - lastSweep < HOUR) return;
      lastSweep = clock.now();
      const deleted = await sweepArchives(
        config.tiktok.download.directory,
        config.archive.retentionMs,
        Date.now(),
      );
      if (deleted > 0) log.info({ deleted }, 'old downloaded archives deleted');
      const forgotten = await sweepConsents(db, clock.now());
      if (forgotten > 0)
        log.info({ forgotten }, 'consents started from invite pages over a day ago forgotten');
    },
  });

  if (options.retryStopped) {
    const cleared = await clearStops(scheduleDb, {
      now: clock.now(),
      accounts: Array.isArray(options.retryStopped) ? options.retryStopped : undefined,
    });
    log.info({ cleared }, 'stopped accounts scheduled again');
  }

  const listen = options.listen ?? config.sync.listen;
  const server =
    listen === false
      ? undefined
      : await startDaemonServer({
          listen,
          metrics,
          logger: log,
          pages: createInvitePages({
            db,
            server: config.server,
            tiktok: config.tiktok,
            interval: config.sync.interval,
            app,
            encryptionKey: requireEncryptionKey(config),
            grants,
            clock,
            logger: log,
            owner,
            consents: metrics.consents,
            // Due now already: a tick claims it at once rather than at the next cron tick.
            onConnected: () => void scheduler.tick(),
          }),
          webhook: {
            path: config.tiktok.webhook.path,
            handler: createWebhookHandler({
              clientSecret: app.clientSecret,
              clientKey: app.clientKey,
              clock,
              logger: log,
              onEvent: processWebhookEvents(webhookEvents),
            }),
          },
          health: async () => {
            const tick = scheduler.lastTick;
            const databaseOk = await Promise.race([
              pingDatabase(db).then(
                () => true,
                () => false,
              ),
              new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2_000).unref()),
            ]);
            return {
              ok: databaseOk && tick.ok && !scheduler.stopping,
              owner,
              database: databaseOk,
              stopping: scheduler.stopping,
              activeClaims: scheduler.active,
              lastTickAt: tick.at === undefined ? null : new Date(tick.at).toISOString(),
              lastTickOk: tick.ok,
            };
          },
        });

  let task: ScheduledTask | undefined;
  if (options.cron ?? true) {
    task = schedule(config.sync.tick, () => scheduler.tick(), {
      name: `tiktok-sync-tick:${owner}`,
      timezone: config.sync.timezone,
      noOverlap: true,
      logger: cronLogger(log),
    });
    void scheduler.tick();
  }
  log.info(
    {
      interval: config.sync.interval.text,
      tick: config.sync.tick,
      concurrency: config.sync.concurrency,
      leaseMs: config.sync.leaseMs,
      url: server?.url,
    },
    'sync daemon started',
  );

  let stopped = false;
  const shutdown = async () => {
    stopped = true;
    if (task) {
      await task.stop();
      await task.destroy();
    }
  };
  return {
    owner,
    scheduler,
    metrics,
    url: server?.url,
    tick: () => scheduler.tick(),
    idle: () => scheduler.idle(),
    async stop(stopOptions = {}) {
      if (stopped) return;
      await shutdown();
      await scheduler.stop({
        graceMs: stopOptions.graceMs ?? config.sync.shutdownGraceMs,
        timeoutMs: stopOptions.timeoutMs ?? config.sync.shutdownTimeoutMs,
      });
      await server?.close();
    },
    async kill() {
      scheduler.kill();
      await shutdown();
      await server?.close();
    },
  };
}

async function pingDatabase(db: Kysely<TikTokDatabase>): Promise<void> {
  await db
    .selectFrom('tiktok_sync.credentials')
    .select((eb) => eb.lit(1).as('one'))
    .limit(1)
    .execute();
}

function defaultOwner(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

/** node-cron's warnings (missed or overlapping ticks) go to our logger. */
function cronLogger(log: Logger) {
  return {
    info: (message: string) => log.debug({ source: 'node-cron' }, message),
    warn: (message: string) => log.warn({ source: 'node-cron' }, message),
    error: (message: string | Error, error?: Error) =>
      log.error({ source: 'node-cron', err: error ?? message }, String(message)),
    debug: (message: string | Error) => log.debug({ source: 'node-cron' }, String(message)),
  };
}
