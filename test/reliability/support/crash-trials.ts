/**
 * Crash trials: a sync runs in a child process ({@link CHILD}), is killed with SIGKILL at a chosen
 * point, and is run again; the database must then hold exactly what one clean run of the same exports
 * gives (ordered content checksums of every data table), with no run left `running`, no archive half
 * applied and no duplicate. Shared by the test (a few trials) and `npm run soak` (many, larger).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { ensureAccount } from '../../../src/db/accounts.js';
import { connectTo, type DatabaseHandle, databaseUrlFor } from '../../../src/db/connect.js';
import { DEFAULT_ARCHIVE_LIMITS } from '../../../src/ingest/archive.js';
import { importArchive } from '../../../src/ingest/import-archive.js';
import { silentLogger } from '../../../src/logger.js';
import type { Sandbox } from '../../../src/sandbox/index.js';
import { evolve, generateUser, writeExport } from '../../../src/synthetic/index.js';
import type { TikTokTables } from '../../../src/tiktok/db-types.js';
import { PortabilityClient } from '../../../src/tiktok/portability-client.js';
import { parseEncryptionKey, TokenStore } from '../../../src/tiktok/tokens.js';
import { withAdmin } from '../../helpers/database.js';
import { connect, fixedToken } from '../../tiktok/support.js';
import { bookkeeping, checksumDifferences, dataChecksums, type TableChecksum } from './checksums.js';
import { COPY_STATEMENT, MERGE_STATEMENT } from './statements.js';
import { SERVER_KILLS, type ThrowawayServer } from './throwaway-server.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const CHILD = path.join(ROOT, 'test/reliability/crash-child.ts');

/** The child as plain JavaScript, once compiled (see {@link compileChild}). */
let compiledChild: string | undefined;

/**
 * Compiles the child and the sources it runs (src/, migrations/) to plain JavaScript in `into`, so
 * that each child starts in a fraction of a second instead of the seconds a TypeScript loader takes
 * over hundreds of modules; the trials start many children. Type-only transpilation, file by file:
 * the sources already import `.js` paths, so Node runs the result as it is.
 */
export async function compileChild(into: string): Promise<void> {
  const ts = (await import('typescript')).default;
  const sources = [
    ...(await tsFiles(path.join(ROOT, 'src'))),
    ...(await tsFiles(path.join(ROOT, 'migrations'))),
    CHILD,
    path.join(ROOT, 'test/reliability/support/statements.ts'),
  ];
  for (const file of sources) {
    const output = ts.transpileModule(await readFile(file, 'utf8'), {
      fileName: file,
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        verbatimModuleSyntax: true,
        sourceMap: false,
      },
    });
    const target = path.join(into, path.relative(ROOT, file)).replace(/\.ts$/, '.js');
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, output.outputText);
  }
  await writeFile(path.join(into, 'package.json'), '{"type":"module"}\n');
  await symlink(path.join(ROOT, 'node_modules'), path.join(into, 'node_modules'), 'dir');
  compiledChild = path.join(into, path.relative(ROOT, CHILD)).replace(/\.ts$/, '.js');
}

async function tsFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts'))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

/** Where trials get their databases: a superuser URL and a migrated template to clone. */
export interface CrashEnvironment {
  adminUrl: string;
  template: string;
  /** Scratch directory for exports, configs and downloads. */
  dir: string;
}

export interface TrialDatabase {
  name: string;
  url: string;
  drop(options?: { keep?: boolean }): Promise<void>;
}

export async function createDatabase(environment: CrashEnvironment): Promise<TrialDatabase> {
  const name = `tiktok_sync_crash_${randomBytes(5).toString('hex')}`;
  await withAdmin(environment.adminUrl, (admin) =>
    admin.query(`create database ${name} template ${environment.template}`),
  );
  const url = databaseUrlFor(environment.adminUrl, name);
  return {
    name,
    url,
    async drop({ keep = false } = {}) {
      if (keep) return;
      await withAdmin(environment.adminUrl, (admin) =>
        admin.query(`drop database if exists ${name} with (force)`),
      );
    },
  };
}

// ---- the child process ------------------------------------------------------------------------

export interface ChildRun {
  /** Exit code, or null when killed. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** `start <i>` / `done <i>` lines seen, in order. */
  lines: string[];
  /** Milliseconds after `ready` at which the parent killed it, if it did. */
  killedAtMs: number | undefined;
  /** Milliseconds after `ready` at which it ended. */
  endedAtMs: number;
  stderr: string;
}

export interface ChildOptions {
  env: Record<string, string>;
  /** Kill this many ms after the child says `ready`. */
  killAfterMs?: number;
  /** Kill when this resolves (checked from `ready` on). */
  killWhen?: (child: ChildProcess) => Promise<void>;
  /** Called when the child says `ready` (to do something else to it than killing it). */
  onReady?: () => void;
  timeoutMs?: number;
}

/** How Node runs the child: compiled when {@link compileChild} ran, else through tsx. */
export function childCommand(): string[] {
  return compiledChild ? [compiledChild] : ['--import', 'tsx', CHILD];
}

/** Runs the crash child to its end (or to its death) and reports what it said. */
export function runChild(args: string[], options: ChildOptions): Promise<ChildRun> {
  const child = spawn(process.execPath, [...childCommand(), ...args], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'silent', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let stderr = '';
  let readyAt: number | undefined;
  let killedAtMs: number | undefined;
  let buffered = '';
  const kill = () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    killedAtMs = readyAt === undefined ? 0 : performance.now() - readyAt;
    child.kill('SIGKILL');
  };
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (line.startsWith('ready')) {
        readyAt = performance.now();
        if (options.killAfterMs !== undefined) setTimeout(kill, options.killAfterMs);
        if (options.killWhen) options.killWhen(child).then(kill, () => {});
        options.onReady?.();
      } else lines.push(line);
    }
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const timeout = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timeout);
      const endedAtMs = readyAt === undefined ? 0 : performance.now() - readyAt;
      resolve({ code, signal, lines, killedAtMs, endedAtMs, stderr });
    });
  });
}

/** Index of the last archive the child finished, or -1. */
function lastDone(run: ChildRun): number {
  let last = -1;
  for (const line of run.lines) {
    const match = /^done (\d+)/.exec(line);
    if (match) last = Number(match[1]);
  }
  return last;
}

// ---- import trials ----------------------------------------------------------------------------

/** Where a trial kills the child. */
export type KillPoint =
  /** At a uniformly random moment of the whole run. */
  | 'time'
  /** At a random moment of a parse stage (records streaming into COPY). */
  | 'parse'
  /** Inside the n-th COPY into a staging table (from inside the child). */
  | 'copy'
  /** Inside the n-th merge statement (from inside the child). */
  | 'merge'
  /** Between an archive's commit and its run record's update (from inside the child). */
  | 'after-commit'
  /** While the archive downloads from TikTok (sync trials). */
  | 'download'
  /** The database server, at a random moment of the run (server trials). */
  | 'server';

export const IMPORT_KILL_POINTS: readonly KillPoint[] = ['time', 'parse', 'copy', 'merge', 'after-commit'];

export interface ImportScenario {
  account: string;
  zips: string[];
  records: number[];
  reference: Record<string, TableChecksum>;
  referenceArchives: string[];
  /** A clean run in the child, ms from `ready` to exit. */
  durationMs: number;
  /** How long each archive's parse stage lasted in that run. */
  parseMs: number[];
  /** Statements in a clean run of all the archives. */
  copies: number;
  merges: number;
}

/**
 * Writes `count` exports of one synthetic user (each a few days after the last), imports them once
 * into a reference database, and times a clean run of the child over them.
 */
export async function prepareImportScenario(
  environment: CrashEnvironment,
  options: { scale: number; seed?: number; count?: number; account?: string },
): Promise<ImportScenario> {
  const account = options.account ?? 'crash';
  let user = generateUser({ seed: options.seed ?? 11, username: 'crash.synthetic', scale: options.scale });
  const zips: string[] = [];
  const records: number[] = [];
  for (let i = 0; i < (options.count ?? 2); i++) {
    const zip = path.join(environment.dir, `TikTok_Data_${1764000000 + i * 86400}.zip`);
    const stats = await writeExport(user, { era: '2025', format: 'json' }, zip);
    zips.push(zip);
    records.push(stats.records);
    user = evolve(user, { days: 3, seed: (options.seed ?? 11) * 100 + i });
  }

  const reference = await createDatabase(environment);
  const counted = { copies: 0, merges: 0 };
  const handle = connectTo(reference.url);
  handle.pool.on('connect', (client) => countStatements(client, counted));
  try {
    for (const zip of zips) {
      await importArchive(
        { database: handle, logger: silentLogger(), limits: DEFAULT_ARCHIVE_LIMITS },
        { accountName: account, zipPath: zip },
      );
    }
  } finally {
    await handle.close();
  }
  const checksums = await dataChecksums(reference.url);
  const archives = (await bookkeeping(reference.url)).archives;
  await reference.drop();

  // A clean run in the child: how long the whole takes, and when its stages run (the second of two:
  // the first warms the server's caches up).
  let run: ChildRun | undefined;
  let timings: Record<string, number>[] = [];
  for (let i = 0; i < 2; i++) {
    const calibration = await createDatabase(environment);
    run = await runChild(['import', account, ...zips], { env: childEnv(environment, calibration.url) });
    if (run.code !== 0) throw new Error(`The calibration run failed (${run.code}): ${run.stderr}`);
    timings = await stageTimings(calibration.url);
    await calibration.drop();
  }
  if (!run) throw new Error('no calibration run');
  const parseMs = timings.map((t) => t.parse ?? 0);
  const doneTimes = run.lines.map((line) => Number(line.split(' ')[2] ?? 0));
  return {
    account,
    zips,
    records,
    reference: checksums,
    referenceArchives: archives,
    durationMs: Math.max(...doneTimes),
    parseMs,
    copies: counted.copies,
    merges: counted.merges,
  };
}

/** Counts the COPY and merge statements a client sends (to pick kill points the child can reach). */
function countStatements(client: pg.PoolClient, counted: { copies: number; merges: number }): void {
  const target = client as unknown as { query: (...args: unknown[]) => unknown };
  const query = target.query;
  target.query = function (this: unknown, ...args: unknown[]) {
    const config = args[0] as string | { text?: string } | undefined;
    const text = typeof config === 'string' ? config : (config?.text ?? '');
    if (COPY_STATEMENT.test(text)) counted.copies++;
    else if (MERGE_STATEMENT.test(text)) counted.merges++;
    return query.apply(this, args);
  };
}

async function stageTimings(url: string): Promise<Record<string, number>[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ stage_timings: Record<string, number> }>(
      "select stage_timings from tiktok_sync.sync_runs where status = 'succeeded' order by run_id",
    );
    return rows.map((row) => row.stage_timings);
  } finally {
    await client.end();
  }
}

export function childEnv(environment: CrashEnvironment, url: string): Record<string, string> {
  return { DATABASE_URL: url, TIKTOK_SYNC_DATA_DIR: environment.dir, LOG_LEVEL: 'silent' };
}

export interface TrialResult {
  kind: 'import' | 'sync' | 'server';
  kill: KillPoint;
  /** True when the child died by SIGKILL (a kill point inside the child may not be reached). */
  killed: boolean;
  /** Kills in this trial (a soak trial may kill the restarted process too). */
  kills: number;
  /** What the run record said the killed run was doing (`none` when no run was in progress). */
  stageAtKill: string;
  /** Milliseconds into the run at the first kill. */
  atMs: number;
  abandoned: number;
  abandonedAfterCommit: number;
  /** Runs recorded failed by their own process, which lost its database connection (server trials). */
  connectionLost?: number;
  /** How the server was killed and when it came back (server trials). */
  detail?: string;
  /** What the killed imports said, run ids and stages left out (server trials). */
  said?: string[];
  /** Empty when the database equals the clean reference; otherwise what differs. */
  differences: string[];
  durationMs: number;
}

/**
 * One trial: a fresh database, the child over all archives killed at `kill`, then restarted from the
 * archive it was on (and, with `killAgain`, killed once more at a random time and restarted) until
 * every archive is in; then compared with the reference.
 */
export async function importTrial(
  environment: CrashEnvironment,
  scenario: ImportScenario,
  kill: KillPoint,
  options: { random?: () => number; killAgain?: number } = {},
): Promise<TrialResult> {
  const random = options.random ?? Math.random;
  const started = performance.now();
  const pick = (max: number) => 1 + Math.floor(random() * max);
  let database: TrialDatabase;
  let run: ChildRun;
  // A moment drawn from the clean run's timings may fall after this run ended (the machine got
  // faster, or the stage did): then the trial is drawn again, twice at most.
  let durationMs = scenario.durationMs;
  for (let attempt = 1; ; attempt++) {
    database = await createDatabase(environment);
    const url = database.url;
    const env = childEnv(environment, url);
    const plan: ChildOptions = { env };
    switch (kill) {
      case 'time':
        plan.killAfterMs = random() * 0.9 * durationMs;
        break;
      case 'parse': {
        // Watched from outside: once the run record says `parse` for the n-th archive, a random
        // moment within the time that stage took in the clean run.
        // A retried trial draws from a shorter window: the stage ended sooner than in the clean run.
        const nth = Math.floor(random() * scenario.zips.length);
        const after = (random() * 0.9 * (scenario.parseMs[nth] ?? 100)) / 2 ** (attempt - 1);
        plan.killWhen = async () => {
          await untilStage(url, 'parse', nth);
          await delay(after);
        };
        break;
      }
      case 'copy':
        env.CRASH_AT = `copy:${pick(scenario.copies)}`;
        env.CRASH_DELAY_MS = String(Math.floor(random() * 20));
        break;
      case 'merge':
        env.CRASH_AT = `merge:${pick(scenario.merges)}`;
        env.CRASH_DELAY_MS = String(Math.floor(random() * 10));
        break;
      case 'after-commit':
        env.CRASH_AT = `after-commit:${pick(scenario.zips.length)}`;
        break;
      default:
        throw new Error(`${kill} is not an import kill point`);
    }
    run = await runChild(['import', scenario.account, ...scenario.zips], plan);
    const timed = kill === 'time' || kill === 'parse';
    if (run.signal === 'SIGKILL' || !timed || attempt === 3) break;
    durationMs = run.endedAtMs;
    await database.drop();
  }

  const killed = run.signal === 'SIGKILL';
  const atMs = run.killedAtMs ?? run.endedAtMs;
  const stageAtKill = killed ? await runningStage(database.url) : 'not killed';
  let kills = killed ? 1 : 0;
  let againLeft = options.killAgain ?? 0;
  let next = lastDone(run) + 1;
  while (next < scenario.zips.length) {
    const rest = scenario.zips.slice(next);
    const again = againLeft > 0 && random() < 0.5;
    if (again) againLeft--;
    run = await runChild(['import', scenario.account, ...rest], {
      env: childEnv(environment, database.url),
      ...(again ? { killAfterMs: random() * scenario.durationMs } : {}),
    });
    if (run.signal === 'SIGKILL') kills++;
    else if (run.code !== 0) throw new Error(`The restarted child failed (${run.code}): ${run.stderr}`);
    next += lastDone(run) + 1;
  }

  const differences = checksumDifferences(scenario.reference, await dataChecksums(database.url));
  const books = await bookkeeping(database.url);
  if (books.running > 0) differences.push(`${books.running} run(s) still marked running`);
  if (books.archives.join() !== scenario.referenceArchives.join()) {
    differences.push(
      `archives ${books.archives.join(', ')} instead of ${scenario.referenceArchives.join(', ')}`,
    );
  }
  if (killed && stageAtKill !== 'none' && books.abandoned === 0) {
    differences.push(`the run killed at stage ${stageAtKill} was not closed as abandoned`);
  }
  await database.drop({ keep: differences.length > 0 });
  return {
    kind: 'import',
    kill,
    killed,
    kills,
    stageAtKill,
    atMs: Math.round(atMs),
    abandoned: books.abandoned,
    abandonedAfterCommit: books.abandonedAfterCommit,
    differences: differences.length > 0 ? [`database ${database.name} kept`, ...differences] : [],
    durationMs: Math.round(performance.now() - started),
  };
}

/** Resolves once the `nth` run (0-based, in this database) has reached `stage`. */
async function untilStage(url: string, stage: string, nth: number): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (;;) {
      const { rows } = await client.query<{ stage: string; status: string }>(
        'select stage, status from tiktok_sync.sync_runs order by run_id offset $1 limit 1',
        [nth],
      );
      const row = rows[0];
      if (row && (row.stage === stage || row.status !== 'running')) return;
      await delay(3);
    }
  } finally {
    await client.end();
  }
}

/** The stage of the run left `running` by a killed process, or `none`. */
export async function runningStage(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ stage: string }>(
      "select stage from tiktok_sync.sync_runs where status = 'running' order by run_id desc limit 1",
    );
    return rows[0]?.stage ?? 'none';
  } finally {
    await client.end();
  }
}

// ---- server trials (the database server killed under the import) -------------------------------

/** What a child may say when its database goes away: never a stack trace or an unhandled event. */
const RAW_TRACE = /^\s+at |Emitted 'error' event|node:internal|\(unexpected; please report/m;

/**
 * One trial where the database server dies instead of the import: the child imports every archive,
 * the server is killed at a random moment of the run (`immediate` or `sigkill`, see
 * throwaway-server.ts) and started again, either at once (the import may then record its own run) or
 * once the import has exited (the next command closes the run); the import is run again from the
 * archive it was on, and with `killAgain` the server may die once more. The child must end each
 * time with one sentence, and the database must then equal the clean reference. `environment` must
 * point at `server`.
 */
export async function serverTrial(
  environment: CrashEnvironment,
  server: ThrowawayServer,
  scenario: ImportScenario,
  options: { random?: () => number; killAgain?: number } = {},
): Promise<TrialResult> {
  const random = options.random ?? Math.random;
  const started = performance.now();
  const database = await createDatabase(environment);
  const env = childEnv(environment, database.url);
  const differences: string[] = [];
  const details: string[] = [];
  const said: string[] = [];
  let againLeft = options.killAgain ?? 0;
  let kills = 0;
  /** Kills that fell while the import ran (a kill after it finished only restarts the server). */
  let hits = 0;
  let first = true;
  let stageAtKill = 'none';
  let atMs = 0;
  let next = 0;
  for (let attempt = 0; next < scenario.zips.length; attempt++) {
    if (attempt === 6) {
      differences.push(`the import did not finish in ${attempt} runs`);
      break;
    }
    const again = !first && againLeft > 0 && random() < 0.5;
    if (again) againLeft--;
    const killing = first || again;
    first = false;
    const how = SERVER_KILLS[Math.floor(random() * SERVER_KILLS.length)]!;
    const restartAtOnce = random() < 0.5;
    const afterMs = random() * 0.9 * scenario.durationMs;
    let killed: Promise<void> | undefined;
    const run = await runChild(['import', scenario.account, ...scenario.zips.slice(next)], {
      env,
      ...(killing
        ? {
            onReady: () => {
              killed = delay(afterMs).then(async () => {
                const stage = await runningStage(database.url).catch(() => 'unknown');
                await server.kill(how);
                if (kills === 0) {
                  stageAtKill = stage;
                  atMs = afterMs;
                }
                kills++;
                details.push(`${how} at ${stage}, back ${restartAtOnce ? 'at once' : 'after the exit'}`);
                if (restartAtOnce) await server.restart();
              });
              // Awaited below, once the child has exited; a failure must wait for that too.
              killed.catch(() => {});
            },
          }
        : {}),
    });
    if (killed) {
      await killed;
      if (!restartAtOnce) await server.restart();
      if (run.code !== 0) hits++;
      const line = run.stderr.split('\n').find((l) => l.startsWith('error: '));
      said.push(
        line === undefined
          ? `(exit ${run.code ?? run.signal}, nothing said)`
          : line
              .replace(/`[a-z]+`/g, '`…`')
              .replace(/run \d+/g, 'run …')
              .replace(/:\d+/g, ':…'),
      );
    }
    if (RAW_TRACE.test(run.stderr))
      differences.push(`the import said more than one sentence: ${run.stderr.trim()}`);
    else if (run.code !== 0 && !killed)
      differences.push(`the import failed (${run.code}): ${run.stderr.trim()}`);
    next += lastDone(run) + 1;
  }

  differences.push(...checksumDifferences(scenario.reference, await dataChecksums(database.url)));
  const books = await bookkeeping(database.url);
  if (books.running > 0) differences.push(`${books.running} run(s) still marked running`);
  if (books.archives.join() !== scenario.referenceArchives.join()) {
    differences.push(
      `archives ${books.archives.join(', ')} instead of ${scenario.referenceArchives.join(', ')}`,
    );
  }
  await database.drop({ keep: differences.length > 0 });
  return {
    kind: 'server',
    kill: 'server',
    killed: hits > 0,
    kills,
    stageAtKill,
    atMs: Math.round(atMs),
    abandoned: books.abandoned,
    abandonedAfterCommit: books.abandonedAfterCommit,
    connectionLost: books.connectionLost,
    detail: details.join('; '),
    said,
    differences: differences.length > 0 ? [`database ${database.name} kept`, ...differences] : [],
    durationMs: Math.round(performance.now() - started),
  };
}

// ---- sync trials (through the API, killed while downloading) --------------------------------------

export const ENCRYPTION_KEY = Buffer.alloc(32, 9).toString('base64');

/**
 * One trial through TikTok's API (the sandbox, on the real clock): `tiktok-sync sync --once` for a
 * fresh connected user, killed while the archive downloads (slowed down), run again (it must resume
 * the same request), then once more for the next export. The reference imports the very archives the
 * sandbox served for those requests into a clean database.
 */
export async function syncTrial(
  environment: CrashEnvironment,
  sandbox: Sandbox,
  username: string,
  options: { random?: () => number; downloadMs?: number } = {},
): Promise<TrialResult> {
  const random = options.random ?? Math.random;
  const started = performance.now();
  const database = await createDatabase(environment);
  const handle = connectTo(database.url);
  const { tokens, oauth } = await connect(sandbox, { account: username });
  try {
    const accountId = await ensureAccount(handle.db, username);
    const store = new TokenStore({
      db: handle.db.withTables<TikTokTables>(),
      oauth,
      encryptionKey: parseEncryptionKey(ENCRYPTION_KEY),
      clock: sandbox.clock,
    });
    await store.saveGrant(accountId, tokens);
  } finally {
    await handle.close();
  }
  const dataDir = path.join(environment.dir, database.name);
  const config = await writeConfig(environment.dir, `${database.name}.json`, {
    tiktok: { pollInitialSeconds: 0.05, pollMaxSeconds: 0.2, waitSeconds: 60 },
  });
  const env = {
    ...childEnv(environment, database.url),
    TIKTOK_SYNC_DATA_DIR: dataDir,
    TIKTOK_SYNC_CONFIG: config,
    TIKTOK_API_BASE_URL: sandbox.url,
    TIKTOK_AUTH_BASE_URL: sandbox.consentUrl,
    TIKTOK_CLIENT_KEY: sandbox.clientKey,
    TIKTOK_CLIENT_SECRET: sandbox.clientSecret,
    TIKTOK_SYNC_ENCRYPTION_KEY: ENCRYPTION_KEY,
  };

  const downloads = sandbox.hits.download;
  sandbox.faults.slowDownload({ chunkBytes: 1024, delayMs: 10, count: 1 });
  const first = await runChild(['sync', username], {
    env,
    killWhen: async () => {
      while (sandbox.hits.download === downloads) await delay(5);
      await delay(random() * (options.downloadMs ?? 500));
    },
  });
  sandbox.faults.slowDownload(undefined);
  const killed = first.signal === 'SIGKILL';
  const stageAtKill = killed ? await requestStage(database.url) : 'not killed';
  const differences: string[] = [];
  for (const round of ['restart', 'next export']) {
    const run = await runChild(['sync', username], { env });
    if (run.code !== 0) differences.push(`the ${round} failed (${run.code}): ${run.stderr.trim()}`);
  }

  const requests = await importedRequests(database.url);
  const made = sandbox.requests().filter((request) => request.username === username);
  if (made.length !== 2) differences.push(`${made.length} data requests were made instead of 2`);
  if (requests.length !== 2 || requests.some((request) => request.status !== 'imported')) {
    differences.push(`requests: ${JSON.stringify(requests)}`);
  }

  // The reference: the archives TikTok served for these requests, imported once each.
  const reference = await createDatabase(environment);
  const client = new PortabilityClient({
    tokens: fixedToken(tokens.accessToken.reveal()),
    endpoints: { apiBaseUrl: sandbox.url, authBaseUrl: sandbox.consentUrl },
    download: { directory: environment.dir },
  });
  const referenceHandle = connectTo(reference.url);
  try {
    for (const request of requests) {
      const archive = await client.download(request.requestId);
      await importArchive(
        { database: referenceHandle, logger: silentLogger(), limits: DEFAULT_ARCHIVE_LIMITS },
        { accountName: username, zipPath: archive.path },
      );
    }
  } finally {
    await referenceHandle.close();
  }
  differences.push(
    ...checksumDifferences(await dataChecksums(reference.url), await dataChecksums(database.url)),
  );
  const books = await bookkeeping(database.url);
  if (books.running > 0) differences.push(`${books.running} run(s) still marked running`);
  if (books.archives.join() !== (await bookkeeping(reference.url)).archives.join()) {
    differences.push('the archives stored differ from the ones served');
  }
  await reference.drop();
  await database.drop({ keep: differences.length > 0 });
  return {
    kind: 'sync',
    kill: 'download',
    killed,
    kills: killed ? 1 : 0,
    stageAtKill,
    atMs: Math.round(first.killedAtMs ?? 0),
    abandoned: books.abandoned,
    abandonedAfterCommit: books.abandonedAfterCommit,
    differences: differences.length > 0 ? [`database ${database.name} kept`, ...differences] : [],
    durationMs: Math.round(performance.now() - started),
  };
}

/** Where the killed sync was: its data request's status and, if one ran, the import's stage. */
async function requestStage(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ status: string }>(
      'select status from tiktok_sync.data_requests where finished_at is null',
    );
    const run = await runningStage(url);
    return `request ${rows[0]?.status ?? 'none'}${run === 'none' ? '' : `, import ${run}`}`;
  } finally {
    await client.end();
  }
}

async function importedRequests(url: string): Promise<{ requestId: string; status: string }[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ request_id: string; status: string }>(
      'select request_id, status from tiktok_sync.data_requests order by added_at, request_id',
    );
    return rows.map((row) => ({ requestId: row.request_id, status: row.status }));
  } finally {
    await client.end();
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Size of a file, for reports. */
export async function fileSize(file: string): Promise<number> {
  return (await stat(file)).size;
}

/** Writes a JSON config file for the child and returns its path. */
export async function writeConfig(dir: string, name: string, config: unknown): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, JSON.stringify(config));
  return file;
}

export type { DatabaseHandle };
