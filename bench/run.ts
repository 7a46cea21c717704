/**
 * `npm run bench`: the import's throughput against its ceilings and a naive importer, on synthetic
 * exports, each measurement in its own child process (bench/phase.ts) and on a fresh database.
 * See docs/performance.md for what each phase measures and the latest results.
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DATA_SCHEMAS } from '../src/ingest/tables.js';
import {
  ACCOUNTS,
  ARCHIVE_DIR,
  type ArchiveMeta,
  accountSeeds,
  archivePath,
  generatorFingerprint,
  OUT_DIR,
  REZIP_LATER_S,
  reusableMeta,
  rezipPath,
} from './archives.js';
import { type ChildRun, failureReason, killRunningChild, runChild } from './child.js';
import { adminUrl, BenchDatabases, serverInfo, tupleWrites, vacuumAnalyze } from './databases.js';
import { formatProfile, type ProfileSummary, summarizeProfile } from './profile.js';
import type { PhaseOutcome, PhaseRequest } from './protocol.js';
import { checkTargets, fmtInt, fmtRate, formatResults } from './report.js';
import type { BenchResults, Machine, PhaseRow } from './results.js';

const PHASES = [
  'parse',
  'copy',
  'import',
  'reimport',
  'delta',
  'naive',
  'naive-same',
  'accounts',
  'scaling',
  'huge',
] as const;
type Phase = (typeof PHASES)[number];
const DEFAULT_PHASES: readonly Phase[] = PHASES.filter((p) => p !== 'huge');

const USAGE = `Usage: npm run bench -- [options]

  --records N       records in the main export (default 1000000); the accounts phase imports 8
                    exports of N/8 records each
  --scale-base N    size of the scaling run's 1× point; it also runs 4× and 16× (default 250000)
  --seed N          seed of the synthetic user (default 42)
  --only a,b        phases to run, of ${PHASES.join(', ')} (default: all but huge)
  --huge            also import an export whose JSON is over 1 GB, and try the naive importer on it
  --huge-records N  records in that export (default 8000000, ~1.15 GB of JSON)
  --timeout S       kill a phase after S seconds (default 600)
  --naive-heap MB   V8 heap limit of the naive importers, naive and naive-same (default 4096)
  --repeat N        measure every phase N times, each on a fresh database, and keep the best (default 1)
  --node-flags=F    extra node flags for the import children, e.g. --node-flags=--max-old-space-size=192
                    (several: --node-flags="--a --b")
  --pg-set K=V      a Postgres setting for every benchmark database (ALTER DATABASE … SET), repeatable,
                    e.g. --pg-set work_mem=64MB
  --profile         also import once under --cpu-prof and summarize where the time goes
  --keep            keep the benchmark databases (their names are printed)
  --check           exit with code 1 when a target does not hold

Phases: parse and copy (the ceilings); import; reimport (a re-zipped copy of the same export, so a
new archive with unchanged content); delta (the same user's next export); naive and naive-same (shown
as naive-same-schema: the naive reading written into our own tables); accounts (8 users imported into
one database one after another, then all at once); scaling (1×, 4×, 16× of --scale-base); huge.
`;

interface Options {
  records: number;
  scaleBase: number;
  seed: number;
  phases: Set<Phase>;
  hugeRecords: number;
  timeoutMs: number;
  naiveHeapMb: number;
  repeat: number;
  importFlags: string[];
  pgSettings: string[];
  profile: boolean;
  keep: boolean;
  check: boolean;
}

function positive(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value.replace(/_/g, ''));
  if (!Number.isInteger(n) || n <= 0)
    throw new Error(`--${name} takes a positive integer, not \`${value}\`.`);
  return n;
}

function parseOptions(): Options | undefined {
  const { values } = parseArgs({
    options: {
      records: { type: 'string' },
      'scale-base': { type: 'string' },
      seed: { type: 'string' },
      only: { type: 'string' },
      huge: { type: 'boolean', default: false },
      'huge-records': { type: 'string' },
      timeout: { type: 'string' },
      'naive-heap': { type: 'string' },
      repeat: { type: 'string' },
      'node-flags': { type: 'string' },
      'pg-set': { type: 'string', multiple: true },
      profile: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      check: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return undefined;
  }
  const phases = new Set<Phase>(DEFAULT_PHASES);
  if (values.only !== undefined) {
    phases.clear();
    for (const name of values.only.split(',').map((s) => s.trim())) {
      if (!(PHASES as readonly string[]).includes(name)) {
        throw new Error(`--only names unknown phase \`${name}\`; the phases are ${PHASES.join(', ')}.`);
      }
      phases.add(name as Phase);
    }
  }
  if (values.huge) phases.add('huge');
  return {
    records: positive('records', values.records, 1_000_000),
    scaleBase: positive('scale-base', values['scale-base'], 250_000),
    seed: positive('seed', values.seed, 42),
    phases,
    hugeRecords: positive('huge-records', values['huge-records'], 8_000_000),
    timeoutMs: positive('timeout', values.timeout, 600) * 1000,
    naiveHeapMb: positive('naive-heap', values['naive-heap'], 4096),
    repeat: positive('repeat', values.repeat, 1),
    importFlags: values['node-flags']?.split(/\s+/).filter((f) => f !== '') ?? [],
    pgSettings: values['pg-set'] ?? [],
    profile: values.profile,
    keep: values.keep,
    check: values.check,
  };
}

const startedAt = performance.now();
const elapsed = () => `[${((performance.now() - startedAt) / 1000).toFixed(0).padStart(4)} s]`;
const log = (message: string) => process.stderr.write(`${elapsed()} ${message}\n`);

const CORES = os.cpus().length;

/**
 * Share of the machine's CPU that went to something other than the phase's Node process and its
 * Postgres backends while it worked: other users' load, and Postgres' own background processes.
 */
function otherCpuPct(o: PhaseOutcome | undefined): number | null {
  if (!o || o.machineCpuMs === null || o.wallMs <= 0) return null;
  const other = o.machineCpuMs - o.nodeCpuMs - (o.pgCpuMs ?? 0);
  return Math.max(0, (100 * other) / (o.wallMs * CORES));
}

/** A table row from a child's run; `records` falls back to what the archive holds when the child died. */
function rowOf(
  phase: string,
  run: ChildRun,
  fallbackRecords: number,
  tupleWritesValue: number | null,
): PhaseRow {
  const o = run.outcome;
  const ok = o?.ok === true;
  const wallS = (o?.wallMs ?? run.processMs) / 1000;
  const records = ok ? o.records : fallbackRecords;
  const row: PhaseRow = {
    phase,
    records,
    ok,
    wallS,
    perSecond: ok && wallS > 0 ? records / wallS : 0,
    peakRssMb: Math.max(o?.peakRssMb ?? 0, run.polledPeakRssMb),
    processS: run.processMs / 1000,
    nodeCpuS: o ? o.nodeCpuMs / 1000 : null,
    pgCpuS: o?.pgCpuMs != null ? o.pgCpuMs / 1000 : null,
    otherCpuPct: otherCpuPct(o),
    startRssMb: o?.startRssMb ?? 0,
    tupleWrites: tupleWritesValue,
    details: o?.details ?? {},
  };
  const failure = failureReason(run);
  if (failure) row.failure = failure;
  log(
    ok
      ? `${phase}: ${fmtInt(records)} records in ${wallS.toFixed(1)} s (${fmtRate(row.perSecond)}/s), peak RSS ${Math.round(row.peakRssMb)} MB`
      : `${phase}: failed after ${wallS.toFixed(1)} s at ${Math.round(row.peakRssMb)} MB: ${failure}`,
  );
  return row;
}

const skipped = (phase: string, why: string): PhaseRow => ({
  phase,
  records: 0,
  ok: false,
  failure: why,
  wallS: 0,
  perSecond: 0,
  peakRssMb: 0,
  processS: 0,
  nodeCpuS: null,
  pgCpuS: null,
  otherCpuPct: null,
  startRssMb: 0,
  tupleWrites: null,
  details: {},
});

/**
 * Per phase, the better of two measurements (higher throughput; a completed one over a failed one).
 * Every round's throughput is kept in `details.rounds`; tuples written and peak RSS are the worst seen,
 * since they must hold in every round.
 */
function keepBest(best: PhaseRow[], next: PhaseRow[]): PhaseRow[] {
  if (best.length === 0) return next.map((r) => ({ ...r, details: { ...r.details, rounds: [r.perSecond] } }));
  const merged = next.map((r) => {
    const old = best.find((b) => b.phase === r.phase);
    if (!old) return { ...r, details: { ...r.details, rounds: [r.perSecond] } };
    const winner = (r.ok && !old.ok) || (r.ok === old.ok && r.perSecond > old.perSecond) ? r : old;
    const writes = [old.tupleWrites, r.tupleWrites].filter((w): w is number => w !== null);
    return {
      ...winner,
      peakRssMb: Math.max(old.peakRssMb, r.peakRssMb),
      tupleWrites: writes.length > 0 ? Math.max(...writes) : null,
      details: { ...winner.details, rounds: [...((old.details.rounds as number[]) ?? []), r.perSecond] },
    };
  });
  // A scaling point shared with the import shows the import that was kept.
  const imp = merged.find((r) => r.phase === 'import');
  return merged.map((r) => (r.note && imp ? { ...imp, phase: r.phase, note: r.note } : r));
}

async function main(): Promise<number> {
  const options = parseOptions();
  if (!options) return 0;
  const want = (phase: Phase) => options.phases.has(phase);
  const admin = adminUrl();
  const server = await serverInfo(admin);
  const cpus = os.cpus();
  const machine: Machine = {
    date: new Date().toISOString(),
    cores: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryGb: Math.round(os.totalmem() / 1024 ** 3),
    node: process.version,
    postgres: server.version,
    postgresSettings: server.settings,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
  };
  log(
    `${machine.cores} cores, Node ${machine.node}, ${server.version.split(' on ')[0]}; main export ${fmtInt(options.records)} records, scaling ${[1, 4, 16].map((m) => fmtInt(options.scaleBase * m)).join(' / ')}`,
  );

  const databases = new BenchDatabases(admin, options.pgSettings);
  const cleanup = async () => {
    if (options.keep) {
      if (databases.created.length > 0) log(`kept databases: ${databases.created.join(', ')}`);
    } else await databases.dropAll();
  };
  process.once('SIGINT', () => {
    log('interrupted; stopping the running phase and dropping the databases');
    killRunningChild();
    void cleanup().finally(() => process.exit(130));
  });

  const child = (request: PhaseRequest, nodeFlags: string[] = []) =>
    runChild(request, { timeoutMs: options.timeoutMs, nodeFlags });

  // Archives: generated once per (size, seed, generator code) and reused from bench/out/archives.
  await mkdir(ARCHIVE_DIR, { recursive: true });
  const fingerprint = generatorFingerprint();
  const archives: BenchResults['archives'] = {};
  type Zip = ArchiveMeta & { zipPath: string; reused: boolean };
  /** The archive at `zipPath` from the cache, else made by the child `request` (generate or rezip). */
  const cached = async (label: string, zipPath: string, request: PhaseRequest): Promise<Zip> => {
    const meta = reusableMeta(zipPath, fingerprint);
    if (meta) return { ...meta, zipPath, reused: true };
    log(`generating ${label} → ${path.relative(process.cwd(), zipPath)}`);
    const run = await child(request);
    if (!run.outcome?.ok) throw new Error(`Generating ${zipPath} failed: ${failureReason(run)}`);
    return { ...(run.outcome.details.meta as ArchiveMeta), zipPath, reused: false };
  };
  /** Lists archives under one label in the results (several: their sums). */
  const register = (label: string, zips: Zip[]) => {
    archives[label] = {
      records: zips.reduce((a, z) => a + z.stats.records, 0),
      zipMb: zips.reduce((a, z) => a + z.stats.bytes, 0) / 1024 ** 2,
      jsonMb: zips.reduce((a, z) => a + z.stats.uncompressedBytes, 0) / 1024 ** 2,
      reused: zips.every((z) => z.reused),
    };
  };
  /** A synthetic export of `records` records of the user of `seed` (the next export, for a delta). */
  const generated = (label: string, records: number, seed: number, delta: boolean) => {
    const zipPath = archivePath(records, seed, delta);
    const what = `${label} export (${fmtInt(records)} records, seed ${seed}${delta ? ', delta' : ''})`;
    return cached(what, zipPath, { phase: 'generate', records, seed, delta, zipPath });
  };
  const archive = async (label: string, records: number, delta = false): Promise<Zip> => {
    const zip = await generated(label, records, options.seed, delta);
    register(label, [zip]);
    return zip;
  };

  const needsMain = (['parse', 'copy', 'import', 'reimport', 'delta', 'naive', 'naive-same'] as Phase[]).some(
    want,
  );
  const main = needsMain ? await archive('main', options.records) : undefined;
  // The reimport's archive: the main export's members in a new archive (archives.ts, rezipArchive).
  let rezip: Zip | undefined;
  if (main && want('reimport')) {
    const zipPath = rezipPath(main.zipPath);
    rezip = await cached(`the main export re-zipped, member times ${REZIP_LATER_S} s later`, zipPath, {
      phase: 'rezip',
      sourceZip: main.zipPath,
      zipPath,
    });
    register('re-zipped', [rezip]);
  }
  const delta = want('delta') ? await archive('delta', options.records, true) : undefined;
  // One user per account, each 1/8 of the main export's size.
  const accountZips: Zip[] = [];
  if (want('accounts')) {
    const each = Math.max(1, Math.floor(options.records / ACCOUNTS));
    for (const seed of accountSeeds(options.seed))
      accountZips.push(await generated('account', each, seed, false));
    register(`accounts ${ACCOUNTS}×`, accountZips);
  }
  const scaleSizes = [1, 4, 16].map((m) => ({ label: `scale ${m}×`, records: options.scaleBase * m }));
  const scaleArchives = new Map<number, Zip>();
  if (want('scaling')) {
    for (const s of scaleSizes) {
      if (s.records === options.records && main) scaleArchives.set(s.records, main);
      else scaleArchives.set(s.records, await archive(s.label, s.records));
    }
  }
  const huge = want('huge') ? await archive('huge', options.hugeRecords) : undefined;

  const importChild = (request: PhaseRequest) => child(request, options.importFlags);
  const naiveChild = (request: PhaseRequest) =>
    child(request, [`--max-old-space-size=${options.naiveHeapMb}`]);

  /** One measurement of every selected phase, each on a fresh database. */
  const measureOnce = async (): Promise<PhaseRow[]> => {
    const rows: PhaseRow[] = [];
    if (main && want('parse')) {
      rows.push(
        rowOf('parse', await child({ phase: 'parse', zipPath: main.zipPath }), main.stats.records, null),
      );
    }

    if (main && want('copy')) {
      const url = await databases.create('copy');
      const outDir = path.join(OUT_DIR, `copy-${process.pid}`);
      try {
        const setup = await child({ phase: 'copy-setup', zipPath: main.zipPath, databaseUrl: url, outDir });
        if (!setup.outcome?.ok) rows.push(skipped('copy', `setup failed: ${failureReason(setup)}`));
        else {
          log(
            `copy setup: COPY text of ${fmtInt(setup.outcome.records)} rows written in ${(setup.outcome.wallMs / 1000).toFixed(1)} s`,
          );
          const before = await tupleWrites(url, DATA_SCHEMAS);
          const run = await child({ phase: 'copy', databaseUrl: url, outDir });
          rows.push(rowOf('copy', run, main.stats.records, (await tupleWrites(url, DATA_SCHEMAS)) - before));
        }
      } finally {
        await rm(outDir, { recursive: true, force: true });
        if (!options.keep) await databases.drop(url);
      }
    }

    if (main && (want('import') || want('reimport') || want('delta'))) {
      const url = await databases.create('import');
      const importOnce = async (phase: string, zip: Zip) => {
        const before = await tupleWrites(url, DATA_SCHEMAS);
        const run = await importChild({ phase: 'import', zipPath: zip.zipPath, databaseUrl: url });
        const row = rowOf(phase, run, zip.stats.records, (await tupleWrites(url, DATA_SCHEMAS)) - before);
        rows.push(row);
        return row;
      };
      try {
        const first = await importOnce('import', main);
        if (first.ok) {
          first.details.vacuumMs = Math.round(await vacuumAnalyze(url));
          if (rezip) {
            const row = await importOnce('reimport', rezip);
            row.details.archive = path.basename(rezip.zipPath);
          }
          if (delta) {
            const row = await importOnce('delta', delta);
            row.details.change = delta.change;
          }
        } else {
          if (want('reimport')) rows.push(skipped('reimport', 'the first import failed'));
          if (want('delta')) rows.push(skipped('delta', 'the first import failed'));
        }
      } finally {
        if (!options.keep) await databases.drop(url);
      }
    }

    if (main && want('naive')) {
      const url = await databases.create('naive', { migrate: false });
      try {
        const before = await tupleWrites(url, ['naive']);
        const run = await naiveChild({ phase: 'naive', zipPath: main.zipPath, databaseUrl: url });
        rows.push(rowOf('naive', run, main.stats.records, (await tupleWrites(url, ['naive'])) - before));
      } finally {
        if (!options.keep) await databases.drop(url);
      }
    }

    if (main && want('naive-same')) {
      const url = await databases.create('naive_same');
      try {
        const before = await tupleWrites(url, DATA_SCHEMAS);
        const run = await naiveChild({ phase: 'naive-same', zipPath: main.zipPath, databaseUrl: url });
        const writes = (await tupleWrites(url, DATA_SCHEMAS)) - before;
        rows.push(rowOf('naive-same-schema', run, main.stats.records, writes));
      } finally {
        if (!options.keep) await databases.drop(url);
      }
    }

    if (accountZips.length > 0) {
      const zipPaths = accountZips.map((z) => z.zipPath);
      const records = accountZips.reduce((a, z) => a + z.stats.records, 0);
      for (const concurrent of [false, true]) {
        const label = `accounts ${concurrent ? 'concurrent' : 'sequential'}`;
        const url = await databases.create(label);
        try {
          const before = await tupleWrites(url, DATA_SCHEMAS);
          const run = await importChild({ phase: 'accounts', zipPaths, databaseUrl: url, concurrent });
          rows.push(rowOf(label, run, records, (await tupleWrites(url, DATA_SCHEMAS)) - before));
        } finally {
          if (!options.keep) await databases.drop(url);
        }
      }
    }

    if (want('scaling')) {
      for (const s of scaleSizes) {
        const shared = rows.find((r) => r.phase === 'import' && r.ok);
        if (shared && s.records === options.records) {
          rows.push({ ...shared, phase: s.label, note: 'shared with import' });
          continue;
        }
        const zip = scaleArchives.get(s.records)!;
        const url = await databases.create(`scale_${s.records}`);
        try {
          const run = await importChild({ phase: 'import', zipPath: zip.zipPath, databaseUrl: url });
          rows.push(rowOf(s.label, run, zip.stats.records, await tupleWrites(url, DATA_SCHEMAS)));
        } finally {
          if (!options.keep) await databases.drop(url);
        }
      }
    }

    if (huge) {
      const oneGb = huge.stats.uncompressedBytes > 1024 ** 3;
      if (!oneGb)
        log(
          `the huge export's JSON is ${fmtInt(huge.stats.uncompressedBytes / 1024 ** 2)} MB, not over 1 GB; raise --huge-records`,
        );
      const importUrl = await databases.create('huge_import');
      try {
        const run = await importChild({ phase: 'import', zipPath: huge.zipPath, databaseUrl: importUrl });
        rows.push(rowOf('huge import', run, huge.stats.records, await tupleWrites(importUrl, DATA_SCHEMAS)));
      } finally {
        if (!options.keep) await databases.drop(importUrl);
      }
      const naiveUrl = await databases.create('huge_naive', { migrate: false });
      try {
        const run = await naiveChild({ phase: 'naive', zipPath: huge.zipPath, databaseUrl: naiveUrl });
        const writes = run.outcome?.ok ? await tupleWrites(naiveUrl, ['naive']) : null;
        rows.push(rowOf('huge naive', run, huge.stats.records, writes));
      } finally {
        if (!options.keep) await databases.drop(naiveUrl);
      }
    }
    return rows;
  };

  let rows: PhaseRow[] = [];
  let profile: ProfileSummary | undefined;
  try {
    for (let i = 1; i <= options.repeat; i++) {
      if (options.repeat > 1) log(`round ${i} of ${options.repeat}`);
      rows = keepBest(rows, await measureOnce());
    }

    if (main && options.profile) {
      const dir = path.join(OUT_DIR, 'profile');
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
      const url = await databases.create('profile');
      try {
        log('profiling an import (not part of the table)');
        const sourceMapsFile = path.join(dir, 'source-maps.json');
        const run = await child(
          { phase: 'import', zipPath: main.zipPath, databaseUrl: url, sourceMapsFile },
          [...options.importFlags, '--cpu-prof', `--cpu-prof-dir=${dir}`],
        );
        const file = (await readdir(dir)).find((f) => f.endsWith('.cpuprofile'));
        if (run.outcome?.ok && file) {
          profile = summarizeProfile(path.join(dir, file), run.outcome.windowUs, sourceMapsFile);
          profile.wallS = run.outcome.wallMs / 1000;
        } else log(`the profiled import failed: ${failureReason(run) ?? 'no profile written'}`);
      } finally {
        if (!options.keep) await databases.drop(url);
      }
    }
  } finally {
    await cleanup();
  }

  const targets = checkTargets(rows);
  const results: BenchResults = {
    machine,
    options: {
      records: options.records,
      scaleBase: options.scaleBase,
      seed: options.seed,
      phases: [...options.phases],
      hugeRecords: options.phases.has('huge') ? options.hugeRecords : undefined,
      accounts: options.phases.has('accounts') ? ACCOUNTS : undefined,
      naiveHeapMb: options.naiveHeapMb,
      repeat: options.repeat,
      importNodeFlags: options.importFlags,
      pgSettings: options.pgSettings,
    },
    archives,
    phases: rows,
    targets,
    ...(profile ? { profile } : {}),
    totalS: (performance.now() - startedAt) / 1000,
  };
  await writeFile(path.join(OUT_DIR, 'last.json'), `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`\n${formatResults(results)}\n`);
  if (profile) process.stdout.write(`\n${formatProfile(profile)}\n`);
  process.stdout.write(`\nresults: ${path.relative(process.cwd(), path.join(OUT_DIR, 'last.json'))}\n`);
  return options.check && targets.some((t) => t.holds === false) ? 1 : 0;
}

try {
  process.exitCode = await main();
} catch (error) {
  process.stderr.write(`bench: ${(error as Error).message}\n`);
  process.exitCode = 1;
}
