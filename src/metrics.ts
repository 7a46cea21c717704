import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Numbers the database knows and every daemon reports alike (the same values from each daemon). */
export interface DatabaseGauges {
  /** Unfinished data requests by our status (pending, ready, downloaded). */
  inFlight: Record<string, number>;
  /** Scheduled accounts by state (see the status command). */
  accounts: Record<string, number>;
  /**
   * Per account name: when its latest succeeded import or sync finished, in seconds since the epoch;
   * 0 for an account that never had one.
   */
  lastSuccess?: Record<string, number>;
  /** Forgotten accounts (tombstones) by reason: requested, authorization_removed. */
  forgotten?: Record<string, number>;
  /** Invite links by state (outstanding, used, expired, revoked). */
  invites?: Record<string, number>;
  /** Accounts by how their grant was made (connect, invite), and `none` for those without one. */
  connections?: Record<string, number>;
}

/**
 * The daemon's Prometheus metrics, on a registry of its own (several daemons may share a process in
 * tests). Counters count what this daemon did; the `database` gauges are read at scrape time.
 */
export interface Metrics {
  readonly registry: Registry;
  /** Claims by how they ended: imported, waiting, cancelled, retrying, stopped, needs_consent, complete, abandoned. */
  readonly syncs: Counter<'outcome'>;
  /** Rows written by imports, by table and change kind (inserted, updated, unchanged, removed, restored). */
  readonly rows: Counter<'table' | 'change'>;
  /** Seconds per stage: the import's stages, `request_wait` (Add to ready) and `claim` (a whole claim). */
  readonly stageSeconds: Histogram<'stage'>;
  /** Access-token refreshes by outcome (ok, failed). */
  readonly tokenRefreshes: Counter<'outcome'>;
  /** Failures by kind (transient, terminal, consent) and code. */
  readonly failures: Counter<'kind' | 'code'>;
  readonly claims: Counter;
  /** Claims taken over from a daemon whose lease had expired. */
  readonly takeovers: Counter;
  /** Claims lost while working (a heartbeat found the lease gone). */
  readonly leasesLost: Counter;
  /** Requests we cancelled, by reason (pending_limit). */
  readonly requestsCancelled: Counter<'reason'>;
  readonly ticks: Counter<'outcome'>;
  /** Accounts this daemon is working on now. */
  readonly activeClaims: Gauge;
  /** Callbacks of consents started from invite links, by outcome (completed, denied, …). */
  readonly consents: Counter<'outcome'>;
}

export interface MetricsOptions {
  /** Reads the database-wide gauges at scrape time; failures leave the last values. */
  readDatabase?: () => Promise<DatabaseGauges>;
  /** Process metrics (CPU, memory, event loop); default true. */
  processMetrics?: boolean;
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  const registers = [registry];
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'tiktok_sync_' });

  let cached: DatabaseGauges | undefined;
  let pending: Promise<DatabaseGauges | undefined> | undefined;
  // One read per scrape, shared by the database gauges.
  const readDatabase = () => {
    if (!options.readDatabase) return Promise.resolve(undefined);
    pending ??= options
      .readDatabase()
      .then((value) => {
        cached = value;
        return value;
      })
      .catch(() => cached)
      .finally(() => {
        setTimeout(() => {
          pending = undefined;
        }, 1000).unref();
      });
    return pending;
  };
  const fill = (gauge: Gauge<string>, label: string, values: Record<string, number> | undefined) => {
    gauge.reset();
    for (const [key, value] of Object.entries(values ?? {})) gauge.set({ [label]: key }, value);
  };

  databaseGauges(registers, readDatabase, fill);
  return {
    registry,
    syncs: new Counter({
      name: 'tiktok_sync_syncs_total',
      help: 'Claims of an account by how they ended (imported, waiting, cancelled, retrying, stopped, needs_consent, complete, abandoned).',
      labelNames: ['outcome'],
      registers,
    }),
    rows: new Counter({
      name: 'tiktok_sync_rows_total',
      help: 'Rows written by imports, by table and change kind (inserted, updated, unchanged, removed, restored).',
      labelNames: ['table', 'change'],
      registers,
    }),
    stageSeconds: new Histogram({
      name: 'tiktok_sync_stage_duration_seconds',
      help: 'Duration of sync stages: the import stages, request_wait (Add until TikTok had the data ready) and claim (one claim of an account).',
      labelNames: ['stage'],
      buckets: [0.01, 0.05, 0.25, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600],
      registers,
    }),
    tokenRefreshes: new Counter({
      name: 'tiktok_sync_token_refreshes_total',
      help: 'Access-token refreshes by outcome (ok, failed).',
      labelNames: ['outcome'],
      registers,
    }),
    failures: new Counter({
      name: 'tiktok_sync_failures_total',
      help: 'Failed claims by kind (transient: retried with backoff; terminal: account stopped; consent: user must connect again) and error code.',
      labelNames: ['kind', 'code'],
      registers,
    }),
    claims: new Counter({ name: 'tiktok_sync_claims_total', help: 'Accounts claimed.', registers }),
    takeovers: new Counter({
      name: 'tiktok_sync_lease_takeovers_total',
      help: 'Accounts taken over from a daemon whose lease had expired.',
      registers,
    }),
    leasesLost: new Counter({
      name: 'tiktok_sync_leases_lost_total',
      help: 'Claims lost while working on them (the lease expired and another daemon took over).',
      registers,
    }),
    requestsCancelled: new Counter({
      name: 'tiktok_sync_requests_cancelled_total',
      help: 'Data requests cancelled by the daemon, by reason (pending_limit).',
      labelNames: ['reason'],
      registers,
    }),
    ticks: new Counter({
      name: 'tiktok_sync_ticks_total',
      help: 'Scheduler ticks by outcome (ok, failed).',
      labelNames: ['outcome'],
      registers,
    }),
    activeClaims: new Gauge({
      name: 'tiktok_sync_active_claims',
      help: 'Accounts this daemon is working on now.',
      registers,
    }),
    consents: new Counter({
      name: 'tiktok_sync_consents_total',
      help: 'TikTok callbacks of consents started from invite links, by outcome: completed, denied (the user declined), partial_scopes, tiktok_error, state_refused (missing, forged, replayed or expired state), invite_refused (used or withdrawn meanwhile), account_conflict, failed.',
      labelNames: ['outcome'],
      registers,
    }),
  };
}

function databaseGauges(
  registers: Registry[],
  read: () => Promise<DatabaseGauges | undefined>,
  fill: (gauge: Gauge<string>, label: string, values: Record<string, number> | undefined) => void,
) {
  new Gauge({
    name: 'tiktok_sync_in_flight_requests',
    help: 'Data requests in flight in the database, by status (pending: TikTok is preparing; ready: to download; downloaded: to import).',
    labelNames: ['status'],
    registers,
    async collect() {
      fill(this, 'status', (await read())?.inFlight);
    },
  });
  new Gauge({
    name: 'tiktok_sync_accounts',
    help: 'Scheduled accounts in the database by state (active, waiting, downloading, importing, retrying, needs_consent, paused, needs_attention, stopped, complete).',
    labelNames: ['state'],
    registers,
    async collect() {
      fill(this, 'state', (await read())?.accounts);
    },
  });
  new Gauge({
    name: 'tiktok_sync_forgotten_accounts',
    help: 'Accounts forgotten (their tombstones in the database), by reason: requested (tiktok-sync forget) or authorization_removed (TikTok’s webhook under the forget policy).',
    labelNames: ['reason'],
    registers,
    async collect() {
      fill(this, 'reason', (await read())?.forgotten);
    },
  });
  new Gauge({
    name: 'tiktok_sync_invites',
    help: 'Invite links in the database by state (outstanding: can still be used; used, expired, revoked).',
    labelNames: ['state'],
    registers,
    async collect() {
      fill(this, 'state', (await read())?.invites);
    },
  });
  new Gauge({
    name: 'tiktok_sync_accounts_by_connection',
    help: 'Accounts in the database by how their TikTok grant was made (connect: the command; invite: a link the user opened; none: no grant, imported only).',
    labelNames: ['via'],
    registers,
    async collect() {
      fill(this, 'via', (await read())?.connections);
    },
  });
  new Gauge({
    name: 'tiktok_sync_last_success_timestamp_seconds',
    help: 'When the latest succeeded import or sync of each account finished, in seconds since the epoch (0: never). Alert on time() minus this.',
    labelNames: ['account'],
    registers,
    async collect() {
      fill(this, 'account', (await read())?.lastSuccess);
    },
  });
}
