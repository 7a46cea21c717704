/**
 * One measurement in its own process, so its peak RSS is its own:
 *
 *   node --import tsx bench/phase.ts '<PhaseRequest as JSON>'
 *
 * Prints one line, `BENCH_RESULT <PhaseOutcome as JSON>`, and exits 0; a failure the phase can catch
 * is reported the same way with `ok: false` and exit code 1. Started by run.ts.
 */
import pg from 'pg';
import { connectTo } from '../src/db/connect.js';
import { DEFAULT_ARCHIVE_LIMITS, openArchive } from '../src/ingest/archive.js';
import { importArchive } from '../src/ingest/import-archive.js';
import { silentLogger } from '../src/logger.js';
import { accountsDatabase, importAccounts } from './accounts.js';
import { generateArchive, rezipArchive } from './archives.js';
import { loadCopyFiles, readManifest, writeCopyFiles } from './copy-baseline.js';
import { backendCpuMs, type Measurement, startMeasurement } from './measure.js';
import { createNaiveTables, naiveImport } from './naive-import.js';
import { createOwner, naiveSameSchemaImport } from './naive-same-schema.js';
import { writeSourceMaps } from './profile.js';
import {
  type AccountsRequest,
  BENCH_APPLICATION,
  type CopyRequest,
  type CopySetupRequest,
  type GenerateRequest,
  type ImportRequest,
  type NaiveRequest,
  type NaiveSameRequest,
  type ParseRequest,
  type PhaseOutcome,
  type PhaseRequest,
  RESULT_MARKER,
  type RezipRequest,
} from './protocol.js';

interface Done {
  records: number;
  measurement: Measurement;
  pgCpuMs?: number | null;
  details?: Record<string, unknown>;
}

async function generate(request: GenerateRequest): Promise<Done> {
  const stop = startMeasurement();
  const meta = await generateArchive(request);
  return { records: meta.stats.records, measurement: stop(), details: { meta } };
}

async function rezip(request: RezipRequest): Promise<Done> {
  const stop = startMeasurement();
  const meta = await rezipArchive(request);
  return { records: meta.stats.records, measurement: stop(), details: { meta } };
}

async function parse(request: ParseRequest): Promise<Done> {
  const stop = startMeasurement();
  const archive = await openArchive(request.zipPath, { limits: DEFAULT_ARCHIVE_LIMITS });
  const events: Record<string, number> = {};
  let records = 0;
  try {
    for await (const event of archive.events()) {
      events[event.kind] = (events[event.kind] ?? 0) + 1;
      if (event.kind === 'record') records += 1;
    }
  } finally {
    await archive.close();
  }
  return { records, measurement: stop(), details: { events, info: archive.info } };
}

async function copySetup(request: CopySetupRequest): Promise<Done> {
  const stop = startMeasurement();
  const manifest = await writeCopyFiles(request.zipPath, request.databaseUrl, request.outDir);
  return { records: manifest.records, measurement: stop(), details: { tables: manifest.tables.length } };
}

async function copy(request: CopyRequest): Promise<Done> {
  const manifest = await readManifest(request.outDir);
  const pool = new pg.Pool({
    connectionString: request.databaseUrl,
    application_name: BENCH_APPLICATION,
    max: 2,
  });
  try {
    const client = await pool.connect();
    try {
      const stop = startMeasurement();
      const perTableMs = await loadCopyFiles(client, manifest);
      const measurement = stop();
      const pgCpuMs = await backendCpuMs(pool, request.databaseUrl);
      return { records: manifest.records, measurement, pgCpuMs, details: { perTableMs } };
    } finally {
      client.release();
    }
  } finally {
    await pool.end();
  }
}

async function runImport(request: ImportRequest): Promise<Done> {
  const database = connectTo(request.databaseUrl, BENCH_APPLICATION);
  try {
    const stop = startMeasurement();
    // As `tiktok-sync import` runs it: every archive the benchmark imports is new to the database.
    const result = await importArchive(
      { database, logger: silentLogger(), limits: DEFAULT_ARCHIVE_LIMITS },
      { accountName: 'bench', zipPath: request.zipPath },
    );
    const measurement = stop();
    if (result.skipped) throw new Error('The import skipped the archive as the one it imported last.');
    if (result.older) {
      throw new Error(
        `The import judged the archive (exported ${result.exportedAt.toISOString()}, from ${result.exportedAtSource}) older than an export stored already, so it only filled history.`,
      );
    }
    const pgCpuMs = await backendCpuMs(database.pool, request.databaseUrl);
    if (request.sourceMapsFile) await writeSourceMaps(request.sourceMapsFile);
    const totals = { inserted: 0, updated: 0, unchanged: 0, removed: 0, restored: 0 };
    for (const counts of Object.values(result.counts)) {
      for (const key of Object.keys(totals) as (keyof typeof totals)[]) totals[key] += counts[key];
    }
    return {
      records: result.records,
      measurement,
      pgCpuMs,
      details: {
        runId: result.runId,
        newArchive: result.newArchive,
        exportedAt: result.exportedAt,
        exportedAtSource: result.exportedAtSource,
        stageTimings: result.stageTimings,
        totals,
        counts: result.counts,
        warningCount: result.warningCount,
      },
    };
  } finally {
    await database.close();
  }
}

async function naive(request: NaiveRequest): Promise<Done> {
  return naivePhase(
    request.databaseUrl,
    (pool) => createNaiveTables(pool),
    (pool) => naiveImport(pool, request.zipPath),
  );
}

async function naiveSame(request: NaiveSameRequest): Promise<Done> {
  return naivePhase(
    request.databaseUrl,
    (pool) => createOwner(pool, request.zipPath),
    (pool, owner) => naiveSameSchemaImport(pool, request.zipPath, owner),
  );
}

/**
 * A naive importer: `setup` untimed, then `run` measured; it returns the records it sent per table.
 * A failure (a V8 limit, a crash) keeps its measurement.
 */
async function naivePhase<T>(
  databaseUrl: string,
  setup: (pool: pg.Pool) => Promise<T>,
  run: (pool: pg.Pool, prepared: T) => Promise<Record<string, number>>,
): Promise<Done> {
  const pool = new pg.Pool({ connectionString: databaseUrl, application_name: BENCH_APPLICATION, max: 2 });
  try {
    const prepared = await setup(pool);
    const stop = startMeasurement();
    try {
      const sent = await run(pool, prepared);
      const measurement = stop();
      const pgCpuMs = await backendCpuMs(pool, databaseUrl);
      const records = Object.values(sent).reduce((a, n) => a + n, 0);
      return { records, measurement, pgCpuMs, details: { sent } };
    } catch (error) {
      throw Object.assign(error as Error, { measurement: stop() });
    }
  } finally {
    await pool.end();
  }
}

async function accounts(request: AccountsRequest): Promise<Done> {
  const database = accountsDatabase(request.databaseUrl, request.zipPaths.length);
  try {
    const stop = startMeasurement();
    const imports = await importAccounts(database, request.zipPaths, request.concurrent);
    const measurement = stop();
    const pgCpuMs = await backendCpuMs(database.pool, request.databaseUrl);
    const records = imports.reduce((a, i) => a + i.records, 0);
    const perAccount = imports.map((i) => ({ ...i, wallMs: Math.round(i.wallMs) }));
    return { records, measurement, pgCpuMs, details: { poolMax: database.pool.options.max, perAccount } };
  } finally {
    await database.close();
  }
}

function run(request: PhaseRequest): Promise<Done> {
  switch (request.phase) {
    case 'generate':
      return generate(request);
    case 'rezip':
      return rezip(request);
    case 'parse':
      return parse(request);
    case 'copy-setup':
      return copySetup(request);
    case 'copy':
      return copy(request);
    case 'import':
      return runImport(request);
    case 'naive':
      return naive(request);
    case 'naive-same':
      return naiveSame(request);
    case 'accounts':
      return accounts(request);
  }
}

function report(outcome: PhaseOutcome): void {
  process.stdout.write(`${RESULT_MARKER}${JSON.stringify(outcome)}\n`);
}

const startRssMb = process.memoryUsage().rss / 1024 ** 2;
const request = JSON.parse(process.argv[2] ?? '{}') as PhaseRequest;
const stopAll = startMeasurement();
try {
  const done = await run(request);
  const m = done.measurement;
  report({
    ok: true,
    records: done.records,
    wallMs: m.wallMs,
    peakRssMb: m.peakRssMb,
    nodeCpuMs: m.nodeCpuMs,
    pgCpuMs: done.pgCpuMs ?? null,
    machineCpuMs: m.machineCpuMs,
    startRssMb,
    windowUs: m.windowUs,
    details: done.details ?? {},
  });
  process.exitCode = 0;
} catch (error) {
  const e = error as Error & { code?: unknown; measurement?: Measurement };
  const m = e.measurement ?? stopAll();
  report({
    ok: false,
    records: 0,
    wallMs: m.wallMs,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    nodeCpuMs: m.nodeCpuMs,
    pgCpuMs: null,
    machineCpuMs: m.machineCpuMs,
    startRssMb,
    windowUs: m.windowUs,
    details: {},
    error: {
      code: typeof e.code === 'string' ? e.code : (e.name ?? 'Error'),
      message: String(e.message ?? e),
    },
  });
  process.exitCode = 1;
}
