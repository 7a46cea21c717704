/**
 * `npm run soak`: the crash trials of test/reliability/crash.test.ts, many times and on larger
 * exports. Each trial starts a sync in a child process, kills it with SIGKILL at a random point
 * (during the parse, a COPY, a merge statement, between the commit and the run record's update, or
 * the download from TikTok), sometimes kills the restarted process too, lets it finish, and compares
 * every data table with a clean run of the same exports.
 *
 * Server trials kill the database server instead, at a random moment of the import: a throwaway
 * server the soak starts for them (the embedded one, test/reliability/support/throwaway-server.ts),
 * never the one DATABASE_URL names. It is killed as `pg_ctl stop -m immediate` does or with SIGKILL
 * on every server process, and started again at once or once the import has exited; the import must
 * end with one sentence, and after it is run again the data must equal the clean run's.
 *
 * Needs a Postgres where it may create databases: DATABASE_URL (a superuser, e.g.
 * postgres://postgres@127.0.0.1:5432/postgres). Settings: SOAK_TRIALS (import trials, default 50),
 * SOAK_SYNC_TRIALS (download trials, default 10), SOAK_SERVER_TRIALS (server trials, default 10),
 * SOAK_SCALE (records per export, default 100000), SOAK_SEED. Exits non-zero when any trial leaves
 * the database different from the reference.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { databaseUrlFor } from '../src/db/connect.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { type Sandbox, startSandbox } from '../src/sandbox/index.js';
import { systemClock } from '../src/tiktok/clock.js';
import { withAdmin } from '../test/helpers/database.js';
import {
  type CrashEnvironment,
  compileChild,
  IMPORT_KILL_POINTS,
  importTrial,
  prepareImportScenario,
  serverTrial,
  syncTrial,
  type TrialResult,
} from '../test/reliability/support/crash-trials.js';
import { seededRandom } from '../test/reliability/support/random.js';
import { startThrowawayServer, type ThrowawayServer } from '../test/reliability/support/throwaway-server.js';

const adminUrl = process.env.DATABASE_URL;
if (!adminUrl) {
  process.stderr.write(
    'soak needs DATABASE_URL: a Postgres role that may create databases, e.g. postgres://postgres@127.0.0.1:5432/postgres\n',
  );
  process.exit(2);
}
const importTrials = Number(process.env.SOAK_TRIALS ?? 50);
const syncTrials = Number(process.env.SOAK_SYNC_TRIALS ?? 10);
const serverTrials = Number(process.env.SOAK_SERVER_TRIALS ?? 10);
const scale = Number(process.env.SOAK_SCALE ?? 100_000);
const seed = Number(process.env.SOAK_SEED ?? Date.now() % 1_000_000);
const random = seededRandom(seed);
const log = (line: string) => process.stdout.write(`${line}\n`);

const template = `tiktok_sync_soak_template_${process.pid}`;
const dir = await mkdtemp(path.join(tmpdir(), 'tiktok-sync-soak-'));
const environment: CrashEnvironment = { adminUrl, template, dir };
let sandbox: Sandbox | undefined;
let server: ThrowawayServer | undefined;
const results: TrialResult[] = [];
const started = performance.now();

try {
  await createTemplate(adminUrl);
  await compileChild(path.join(dir, 'child'));

  log(
    `soak: seed ${seed}, ${importTrials} import trials on 2 exports of ~${scale} records, ${syncTrials} download trials, ${serverTrials} server trials`,
  );
  const scenario = await prepareImportScenario(environment, { scale, seed: seed % 1000 });
  log(
    `  exports: ${scenario.records.join(' + ')} records; clean run ${scenario.durationMs} ms, ${scenario.copies} COPY and ${scenario.merges} merge statements`,
  );
  for (let i = 0; i < importTrials; i++) {
    const point = IMPORT_KILL_POINTS[Math.floor(random() * IMPORT_KILL_POINTS.length)]!;
    report(i + 1, await importTrial(environment, scenario, point, { random, killAgain: 1 }));
  }

  sandbox = await startSandbox({
    clock: systemClock,
    readyDelayMs: 100,
    redirectUris: ['http://127.0.0.1:*/callback/'],
    accounts: Array.from({ length: syncTrials }, (_, i) => ({ username: `soak.sync${i}`, scale: 5_000 })),
  });
  for (let i = 0; i < syncTrials; i++) {
    report(
      importTrials + i + 1,
      await syncTrial(environment, sandbox, `soak.sync${i}`, { random, downloadMs: 800 }),
    );
  }

  if (serverTrials > 0) {
    server = await startThrowawayServer('tiktok-sync-soak-server-');
    await createTemplate(server.adminUrl);
    const onServer: CrashEnvironment = { ...environment, adminUrl: server.adminUrl };
    for (let i = 0; i < serverTrials; i++) {
      report(
        importTrials + syncTrials + i + 1,
        await serverTrial(onServer, server, scenario, { random, killAgain: 1 }),
      );
    }
  }
} finally {
  await server?.stop().catch(() => {});
  await sandbox?.close();
  await withAdmin(adminUrl, (admin) => admin.query(`drop database if exists ${template} with (force)`)).catch(
    () => {},
  );
  await rm(dir, { recursive: true, force: true });
}

summarize();

/** The migrated template every trial database is cloned from, on the server at `url`. */
async function createTemplate(url: string): Promise<void> {
  await withAdmin(url, (admin) => admin.query(`create database ${template}`));
  const db = new Kysely<unknown>({
    dialect: new PostgresDialect({
      pool: new pg.Pool({ connectionString: databaseUrlFor(url, template) }),
    }),
  });
  await migrateToLatest(db);
  await db.destroy();
}

function report(n: number, result: TrialResult): void {
  results.push(result);
  log(
    `  #${n} ${result.kind} kill=${result.kill} killed=${result.killed} kills=${result.kills} at=${result.atMs}ms stage=${result.stageAtKill} abandoned=${result.abandoned}${result.abandonedAfterCommit ? ` (${result.abandonedAfterCommit} after commit)` : ''}${result.connectionLost ? ` recorded-by-itself=${result.connectionLost}` : ''}${result.detail ? ` [${result.detail}]` : ''} ${result.differences.length === 0 ? 'ok' : 'FAILED'} ${result.durationMs}ms`,
  );
  for (const difference of result.differences) log(`      ${difference}`);
}

function summarize(): void {
  const count = (key: (r: TrialResult) => string) => {
    const counts = new Map<string, number>();
    for (const r of results) counts.set(key(r), (counts.get(key(r)) ?? 0) + 1);
    return [...counts].map(([name, n]) => `${name} ${n}`).join(', ');
  };
  const failed = results.filter((r) => r.differences.length > 0);
  const kills = results.reduce((sum, r) => sum + r.kills, 0);
  log('');
  log(
    `trials: ${results.length} (${results.filter((r) => r.killed).length} killed at the chosen point, ${kills} kills in all)`,
  );
  log(`by kill point: ${count((r) => r.kill)}`);
  log(`by stage at the kill: ${count((r) => r.stageAtKill)}`);
  log(`runs closed as abandoned: ${results.reduce((sum, r) => sum + r.abandoned, 0)}`);
  log(
    `runs recorded failed by their own process after losing the database: ${results.reduce((sum, r) => sum + (r.connectionLost ?? 0), 0)}`,
  );
  const said = new Map<string, number>();
  for (const line of results.flatMap((r) => r.said ?? [])) said.set(line, (said.get(line) ?? 0) + 1);
  if (said.size > 0) {
    log('what the imports said when their server was killed:');
    for (const [line, n] of [...said].sort((a, b) => b[1] - a[1])) log(`  ${n}× ${line}`);
  }
  log(`failed: ${failed.length}`);
  log(`time: ${Math.round((performance.now() - started) / 1000)} s`);
  process.exit(failed.length > 0 ? 1 : 0);
}
