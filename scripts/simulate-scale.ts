/**
 * Scale-out simulation: N sandbox accounts synced by D daemons (separate pools, one process) on a
 * simulated clock against a real Postgres, optionally with one daemon killed mid-wave. Prints how the
 * work was shared, whether every account was synced exactly once per interval, how fast claims and
 * imports ran and what the database grew by.
 *
 *   node --import tsx scripts/simulate-scale.ts --accounts 1000 --daemons 3 [--crash] [--json]
 *
 * Postgres: DATABASE_URL (a server where it may create and drop a database), else an embedded one.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { ensureAccount } from '../src/db/accounts.js';
import { connectTo } from '../src/db/connect.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { HOUR, MINUTE, parseDuration } from '../src/duration.js';
import { silentLogger } from '../src/logger.js';
import { startSandbox } from '../src/sandbox/index.js';
import { type Daemon, startDaemon } from '../src/scheduler/daemon.js';
import { daemonDatabase } from '../src/scheduler/pool.js';
import { SimulatedClock } from '../src/tiktok/clock.js';
import type { TikTokTables } from '../src/tiktok/db-types.js';
import { OAuthClient } from '../src/tiktok/oauth.js';
import { listenForRedirect } from '../src/tiktok/redirect-listener.js';
import { parseEncryptionKey, TokenStore } from '../src/tiktok/tokens.js';

const { values: args } = parseArgs({
  options: {
    accounts: { type: 'string', default: '1000' },
    daemons: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '4' },
    interval: { type: 'string', default: '12h' },
    jitter: { type: 'string', default: '30m' },
    hours: { type: 'string', default: '24' },
    tick: { type: 'string', default: '2m' },
    ready: { type: 'string', default: '10m' },
    scale: { type: 'string', default: '30' },
    lease: { type: 'string', default: '5m' },
    crash: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const ACCOUNTS = Number(args.accounts);
const DAEMONS = Number(args.daemons);
const CONCURRENCY = Number(args.concurrency);
const INTERVAL_MS = parseDuration(args.interval)!;
const HORIZON_MS = Number(args.hours) * HOUR;
const TICK_MS = parseDuration(args.tick)!;
const READY_MS = parseDuration(args.ready)!;
const ENCRYPTION_KEY = randomBytes(32).toString('base64');

const log = (line: string) => process.stderr.write(`${line}\n`);

async function main() {
  const server = await postgres();
  const name = `tiktok_sync_sim_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: server.adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = new URL(server.adminUrl);
  url.pathname = `/${name}`;
  const database = connectTo(url.toString(), 'tiktok-sync-simulation');
  const directory = await mkdtemp(path.join(tmpdir(), 'tiktok-sync-sim-'));
  const clock = new SimulatedClock();
  const names = Array.from({ length: ACCOUNTS }, (_, i) => `user${String(i).padStart(5, '0')}`);
  const sandbox = await startSandbox({
    clock,
    readyDelayMs: READY_MS,
    accounts: names.map((username) => ({ username, scale: Number(args.scale) })),
  });
  const daemons: { daemon: Daemon; close(): Promise<void>; crashed: boolean }[] = [];
  try {
    await migrateToLatest(database.db);
    const started = performance.now();
    await connectAll(sandbox, database, names, clock);
    const connectSeconds = (performance.now() - started) / 1000;
    log(`${ACCOUNTS} accounts connected through OAuth in ${connectSeconds.toFixed(1)} s`);

    const configFile = path.join(directory, 'config.json');
    await writeFile(
      configFile,
      JSON.stringify({
        tiktok: {
          pollInitialSeconds: 120,
          pollMaxSeconds: 1800,
          downloadDir: path.join(directory, 'downloads'),
        },
        sync: {
          interval: args.interval,
          jitter: args.jitter,
          concurrency: CONCURRENCY,
          lease: args.lease,
        },
      }),
    );
    const config = loadConfig({
      configPath: configFile,
      env: {
        DATABASE_URL: database.connectionString,
        TIKTOK_CLIENT_KEY: sandbox.clientKey,
        TIKTOK_CLIENT_SECRET: sandbox.clientSecret,
        TIKTOK_API_BASE_URL: sandbox.url,
        TIKTOK_AUTH_BASE_URL: sandbox.consentUrl,
        TIKTOK_SYNC_ENCRYPTION_KEY: ENCRYPTION_KEY,
      },
    });
    for (let i = 0; i < DAEMONS; i++) {
      const base = connectTo(database.connectionString, `tiktok-sync-sim-daemon-${i + 1}`);
      const handle = daemonDatabase(base, config, CONCURRENCY + 4);
      const daemon = await startDaemon({
        config,
        database: handle,
        logger: silentLogger(),
        clock,
        cron: false,
        listen: false,
        processMetrics: false,
        owner: `daemon-${i + 1}`,
      });
      daemons.push({
        daemon,
        crashed: false,
        async close() {
          await daemon.stop({ graceMs: 1000, timeoutMs: 5000 }).catch(() => {});
          await handle.close();
          await base.close();
        },
      });
    }

    const start = clock.now();
    const tickSeconds: number[] = [];
    let crashInfo: { at: number; held: number } | undefined;
    const crashAt = start + INTERVAL_MS + 10 * MINUTE;
    const wall = performance.now();
    let lastReport = wall;
    while (clock.now() - start < HORIZON_MS) {
      await clock.advance(TICK_MS);
      const alive = daemons.filter((d) => !d.crashed);
      const tickStart = performance.now();
      await Promise.all(alive.map((d) => d.daemon.tick()));
      tickSeconds.push((performance.now() - tickStart) / 1000 / alive.length);
      if (args.crash && !crashInfo && clock.now() >= crashAt && alive.length > 1) {
        const victim = alive.at(-1)!;
        const held = victim.daemon.scheduler.active;
        victim.crashed = true;
        await victim.daemon.kill();
        await victim.close();
        crashInfo = { at: clock.now() - start, held };
        log(
          `killed ${victim.daemon.owner} at +${fmtHours(clock.now() - start)} while it held ${held} claims`,
        );
      }
      await Promise.all(daemons.filter((d) => !d.crashed).map((d) => d.daemon.idle()));
      if (performance.now() - lastReport > 10_000) {
        lastReport = performance.now();
        log(
          `  simulated +${fmtHours(clock.now() - start)}, ${((performance.now() - wall) / 1000).toFixed(0)} s real`,
        );
      }
    }
    const wallSeconds = (performance.now() - wall) / 1000;
    const report = await summarize(database, daemons, {
      start,
      now: clock.now(),
      wallSeconds,
      connectSeconds,
      tickSeconds,
      crashInfo,
      addHits: sandbox.hits.add,
      checkHits: sandbox.hits.check,
      downloadHits: sandbox.hits.download,
    });
    if (args.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else printReport(report);
  } finally {
    for (const d of daemons) if (!d.crashed) await d.close();
    await sandbox.close();
    await database.close();
    await admin.query(`drop database if exists ${name} with (force)`).catch(() => {});
    await admin.end();
    await server.stop();
    await rm(directory, { recursive: true, force: true });
  }
}

/** Every account through the sandbox's consent flow; tokens stored as `connect` stores them. */
async function connectAll(
  sandbox: Awaited<ReturnType<typeof startSandbox>>,
  database: ReturnType<typeof connectTo>,
  names: string[],
  clock: SimulatedClock,
) {
  const db = database.db.withTables<TikTokTables>();
  let index = 0;
  const worker = async () => {
    for (;;) {
      const name = names[index++];
      if (name === undefined) return;
      const state = `s${randomBytes(8).toString('hex')}`;
      const listener = await listenForRedirect({ expectedState: state, signal: AbortSignal.timeout(10_000) });
      const oauth = new OAuthClient({
        clientKey: sandbox.clientKey,
        clientSecret: sandbox.clientSecret,
        redirectUri: listener.redirectUri,
        apiBaseUrl: sandbox.url,
        authBaseUrl: sandbox.consentUrl,
        clock,
      });
      const authorization = oauth.createAuthorization({ scopes: ['portability.all.ongoing'], state });
      sandbox.consent({ account: name });
      await sandbox.browse(authorization.url);
      const result = await listener.result;
      if (!result.ok) throw new Error(`consent for ${name} failed: ${result.error}`);
      const tokens = await oauth.exchangeCode(result.code, authorization.codeVerifier);
      const accountId = await ensureAccount(database.db, name);
      const store = new TokenStore({ db, oauth, encryptionKey: parseEncryptionKey(ENCRYPTION_KEY), clock });
      await store.saveGrant(accountId, tokens);
    }
  };
  // One at a time: the sandbox answers queued consents in order.
  await worker();
}

interface Report {
  accounts: number;
  daemons: number;
  concurrencyPerDaemon: number;
  interval: string;
  simulatedHours: number;
  wallSeconds: number;
  connectSeconds: number;
  syncsPerDaemon: Record<string, number>;
  takeovers: number;
  crash: { atHours: number; heldClaims: number } | undefined;
  importsPerAccount: Record<string, number>;
  exactlyOncePerInterval: boolean;
  duplicateOrLostRequests: number;
  apiCalls: {
    add: number;
    check: number;
    download: number;
    checksPerSync: number;
    peakAddsPerMinute: number;
  };
  tickMs: { median: number; p95: number; max: number };
  importSeconds: { median: number; p95: number; total: number };
  rowsPerSync: number;
  /** Records handled (written or found unchanged) per second of import. */
  rowsPerSecond: number;
  archiveBytes: { median: number; max: number };
  addToImportedMinutes: { median: number; p95: number; max: number };
  database: { bytesTotal: number; bytesPerAccount: number; bookkeepingBytes: number };
  claimQuery: { milliseconds: number; plan: string };
}

async function summarize(
  database: ReturnType<typeof connectTo>,
  daemons: { daemon: Daemon; crashed: boolean }[],
  context: {
    start: number;
    /** The simulated time at the end: the claim query is explained as of then. */
    now: number;
    wallSeconds: number;
    connectSeconds: number;
    tickSeconds: number[];
    crashInfo: { at: number; held: number } | undefined;
    addHits: number;
    checkHits: number;
    downloadHits: number;
  },
): Promise<Report> {
  const { pool } = database;
  const syncsPerDaemon: Record<string, number> = {};
  let takeovers = 0;
  for (const { daemon } of daemons) {
    const metrics = await daemon.metrics.registry.getMetricsAsJSON();
    const value = (name: string, labels: Record<string, string> = {}) =>
      (
        metrics
          .find((m) => m.name === name)
          ?.values.filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l)) ?? []
      ).reduce((sum, v) => sum + v.value, 0);
    syncsPerDaemon[daemon.owner] = value('tiktok_sync_syncs_total', { outcome: 'imported' });
    takeovers += value('tiktok_sync_lease_takeovers_total');
  }
  const perAccount = await pool.query<{ imports: number; accounts: number }>(
    `select imports, count(*)::int as accounts from (
       select a.account_id, count(d.request_id) filter (where d.status = 'imported')::int as imports
         from tiktok_sync.accounts a left join tiktok_sync.data_requests d using (account_id)
        group by a.account_id) x group by imports order by imports`,
  );
  const importsPerAccount = Object.fromEntries(perAccount.rows.map((r) => [String(r.imports), r.accounts]));
  const expected = Math.floor(HORIZON_MS / INTERVAL_MS);
  const notImported = await pool.query<{ n: number }>(
    `select count(*)::int as n from tiktok_sync.data_requests where status <> 'imported'`,
  );
  const gaps = await pool.query<{ bad: number }>(
    `select count(*)::int as bad from (
       select added_at - lag(added_at) over (partition by account_id order by added_at) as gap
         from tiktok_sync.data_requests where status = 'imported') g
      where gap < $1::interval`,
    [`${Math.round((INTERVAL_MS * 0.9) / 1000)} seconds`],
  );
  const peak = await pool.query<{ n: number }>(
    `select coalesce(max(n), 0)::int as n from (
       select date_trunc('minute', added_at), count(*) as n from tiktok_sync.data_requests group by 1) m`,
  );
  const imports = await pool.query<{ seconds: number; rows: number }>(
    `select (select coalesce(sum(value::numeric), 0) from jsonb_each_text(stage_timings)) / 1000.0 as seconds,
            (select coalesce(sum((c.value->>'inserted')::int + (c.value->>'updated')::int + (c.value->>'removed')::int
                                 + (c.value->>'restored')::int), 0) from jsonb_each(counts) c) as rows
       from tiktok_sync.sync_runs where status = 'succeeded'`,
  );
  const importSeconds = imports.rows.map((r) => Number(r.seconds)).sort((a, b) => a - b);
  const rowsWritten = imports.rows.reduce((sum, r) => sum + Number(r.rows), 0);
  const unchanged = await pool.query<{ rows: number }>(
    `select coalesce(sum((c.value->>'unchanged')::int), 0)::int as rows
       from tiktok_sync.sync_runs r, jsonb_each(r.counts) c where r.status = 'succeeded'`,
  );
  const bytes = await pool.query<{ bytes: string }>(
    `select archive_bytes::text as bytes from tiktok_sync.data_requests where archive_bytes is not null order by archive_bytes`,
  );
  const archiveBytes = bytes.rows.map((r) => Number(r.bytes));
  const latency = await pool.query<{ minutes: number }>(
    `select extract(epoch from imported_at - added_at) / 60 as minutes
       from tiktok_sync.data_requests where status = 'imported' order by 1`,
  );
  const latencies = latency.rows.map((r) => Number(r.minutes));
  const size = await pool.query<{ total: string; bookkeeping: string }>(
    `select (select sum(pg_total_relation_size(c.oid)) from pg_class c join pg_namespace n on n.oid = c.relnamespace
              where n.nspname = 'tiktok' and c.relkind in ('r', 'm'))::text as total,
            (select sum(pg_total_relation_size(c.oid)) from pg_class c join pg_namespace n on n.oid = c.relnamespace
              where n.nspname = 'tiktok_sync' and c.relkind = 'r')::text as bookkeeping`,
  );
  await pool.query('analyze tiktok_sync.sync_schedule');
  const explain = await pool.query<{ 'QUERY PLAN': string }>(
    `explain (analyze, costs off, timing on)
     select s.account_id from tiktok_sync.sync_schedule s
       join tiktok_sync.credentials c on c.account_id = s.account_id
      where not s.paused and not s.complete and s.stopped_at is null and c.status = 'active'
        and (s.lease_expires_at is null or s.lease_expires_at <= $1)
        and s.next_due_at <= $1
      order by s.next_due_at, s.account_id limit 4 for update of s skip locked`,
    [new Date(context.now)],
  );
  const plan = explain.rows.map((r) => r['QUERY PLAN']);
  const execution = plan.find((line) => line.startsWith('Execution Time'));
  const tickMs = context.tickSeconds.map((s) => s * 1000).sort((a, b) => a - b);
  const syncs = importSeconds.length;
  return {
    accounts: ACCOUNTS,
    daemons: DAEMONS,
    concurrencyPerDaemon: CONCURRENCY,
    interval: args.interval,
    simulatedHours: HORIZON_MS / HOUR,
    wallSeconds: round(context.wallSeconds),
    connectSeconds: round(context.connectSeconds),
    syncsPerDaemon,
    takeovers,
    crash: context.crashInfo
      ? { atHours: round(context.crashInfo.at / HOUR), heldClaims: context.crashInfo.held }
      : undefined,
    importsPerAccount,
    exactlyOncePerInterval:
      Object.keys(importsPerAccount).length === 1 &&
      importsPerAccount[String(expected)] === ACCOUNTS &&
      gaps.rows[0]!.bad === 0,
    duplicateOrLostRequests: notImported.rows[0]!.n,
    apiCalls: {
      add: context.addHits,
      check: context.checkHits,
      download: context.downloadHits,
      checksPerSync: round(context.checkHits / Math.max(1, syncs)),
      peakAddsPerMinute: peak.rows[0]!.n,
    },
    tickMs: {
      median: round(pick(tickMs, 0.5)),
      p95: round(pick(tickMs, 0.95)),
      max: round(tickMs.at(-1) ?? 0),
    },
    importSeconds: {
      median: round(pick(importSeconds, 0.5), 3),
      p95: round(pick(importSeconds, 0.95), 3),
      total: round(importSeconds.reduce((a, b) => a + b, 0)),
    },
    rowsPerSync: round((rowsWritten + unchanged.rows[0]!.rows) / Math.max(1, syncs)),
    rowsPerSecond: round(
      (rowsWritten + unchanged.rows[0]!.rows) /
        Math.max(
          0.001,
          importSeconds.reduce((a, b) => a + b, 0),
        ),
    ),
    archiveBytes: { median: pick(archiveBytes, 0.5), max: archiveBytes.at(-1) ?? 0 },
    addToImportedMinutes: {
      median: round(pick(latencies, 0.5)),
      p95: round(pick(latencies, 0.95)),
      max: round(latencies.at(-1) ?? 0),
    },
    database: {
      bytesTotal: Number(size.rows[0]!.total),
      bytesPerAccount: Math.round(Number(size.rows[0]!.total) / ACCOUNTS),
      bookkeepingBytes: Number(size.rows[0]!.bookkeeping),
    },
    claimQuery: {
      milliseconds: Number(/([\d.]+) ms/.exec(execution ?? '')?.[1] ?? 0),
      plan: plan.join('\n'),
    },
  };
}

function printReport(report: Report) {
  const lines = [
    `accounts ${report.accounts}, daemons ${report.daemons} × concurrency ${report.concurrencyPerDaemon}, interval ${report.interval}, ${report.simulatedHours} simulated hours in ${report.wallSeconds} s (plus ${report.connectSeconds} s connecting)`,
    `syncs per daemon: ${Object.entries(report.syncsPerDaemon)
      .map(([owner, n]) => `${owner} ${n}`)
      .join(', ')}`,
    `imports per account: ${Object.entries(report.importsPerAccount)
      .map(([imports, accounts]) => `${accounts} accounts × ${imports}`)
      .join(', ')}; exactly once per interval: ${report.exactlyOncePerInterval ? 'yes' : 'NO'}`,
    `requests not imported (duplicates or lost): ${report.duplicateOrLostRequests}`,
    report.crash
      ? `crash: one daemon killed at +${report.crash.atHours} h holding ${report.crash.heldClaims} claims; takeovers ${report.takeovers}`
      : `takeovers: ${report.takeovers}`,
    `TikTok calls: ${report.apiCalls.add} Add, ${report.apiCalls.check} Check (${report.apiCalls.checksPerSync} per sync), ${report.apiCalls.download} Download; peak ${report.apiCalls.peakAddsPerMinute} Adds/minute`,
    `tick (claim pass) per daemon: median ${report.tickMs.median} ms, p95 ${report.tickMs.p95} ms, max ${report.tickMs.max} ms`,
    `claim query at ${report.accounts} accounts: ${report.claimQuery.milliseconds} ms:\n${report.claimQuery.plan.replace(/^/gm, '    ')}`,
    `import per sync: median ${report.importSeconds.median} s, p95 ${report.importSeconds.p95} s; archive median ${(report.archiveBytes.median / 1024).toFixed(0)} KiB; ${report.rowsPerSync} records per export; ${report.rowsPerSecond} records/s`,
    `Add → imported (simulated; TikTok prepares for ${args.ready}): median ${report.addToImportedMinutes.median} min, p95 ${report.addToImportedMinutes.p95} min, max ${report.addToImportedMinutes.max} min`,
    `database: data ${(report.database.bytesTotal / 1024 / 1024).toFixed(1)} MiB (${(report.database.bytesPerAccount / 1024).toFixed(0)} KiB per account), bookkeeping ${(report.database.bookkeepingBytes / 1024 / 1024).toFixed(1)} MiB`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

function pick(sorted: number[], quantile: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(quantile * sorted.length))]!;
}

function round(value: number, digits = 1): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

function fmtHours(ms: number): string {
  return `${(ms / HOUR).toFixed(1)} h`;
}

async function postgres(): Promise<{ adminUrl: string; stop(): Promise<void> }> {
  if (process.env.DATABASE_URL) return { adminUrl: process.env.DATABASE_URL, stop: async () => {} };
  const { startThrowawayPostgres } = await import('../src/db/embedded.js');
  return startThrowawayPostgres('tiktok-sync-sim-pg-', silentLogger());
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`${(error as Error).stack ?? error}\n`);
    process.exit(1);
  },
);
