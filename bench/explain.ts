/**
 * Where the merge spends its time, statement by statement:
 *
 *   node --import tsx bench/explain.ts [--records N] [--seed N] [--plans N] [--pg-set K=V …] [--keep]
 *
 * Runs the real imports of the benchmark (first import, re-import of the same export re-zipped, delta
 * export) on a fresh database, but every statement that writes data (to `tiktok.*` or the `pg_temp`
 * staging tables) is run as `EXPLAIN (ANALYZE, BUFFERS)` instead: it executes the same way, and the
 * import goes on with the row count read from the plan. Prints each import's statements by time, and
 * the plans of the slowest; also written to bench/out/explain.txt. Uses the archives of
 * `npm run bench` (generated if missing).
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type pg from 'pg';
import { connectTo } from '../src/db/connect.js';
import { DEFAULT_ARCHIVE_LIMITS } from '../src/ingest/archive.js';
import { importArchive } from '../src/ingest/import-archive.js';
import { mergeStatements } from '../src/ingest/merge.js';
import { TABLE_SPECS } from '../src/ingest/tables.js';
import { silentLogger } from '../src/logger.js';
import {
  ARCHIVE_DIR,
  archivePath,
  generateArchive,
  generatorFingerprint,
  OUT_DIR,
  reusableMeta,
  rezipArchive,
  rezipPath,
} from './archives.js';
import { adminUrl, BenchDatabases, vacuumAnalyze } from './databases.js';
import { BENCH_APPLICATION } from './protocol.js';

interface Statement {
  label: string;
  sql: string;
  ms: number;
  rows: number | null;
  plan: string[];
}

/** Statements that write the data tables or the staging tables, not the bookkeeping in tiktok_sync. */
const DATA_WRITE =
  /^\s*(insert|update|delete|create\s+temp(orary)?\s+table\s+[\w.]+\s+(on\s+commit\s+\w+\s+)?as\s)/i;
/** Several statements in one string cannot be explained. */
const MULTIPLE = /;\s*\S/;
const ROWS = /actual time=[\d.]+\.\.[\d.]+ rows=(\d+) loops=(\d+)/;

const flatten = (sql: string) => sql.replace(/\s+/g, ' ').trim();

/** The merge's own names of its statements (`watch_history: insert`…), by their text. */
const MERGE_NAMES = new Map<string, string>();
for (const spec of Object.values(TABLE_SPECS)) {
  for (const [name, sql] of Object.entries(mergeStatements(spec))) {
    // A statement the table does not need is absent.
    if (typeof sql === 'string') MERGE_NAMES.set(flatten(sql), `${spec.table}: ${name}`);
  }
}

function labelOf(sql: string): string {
  const flat = flatten(sql);
  const known = MERGE_NAMES.get(flat);
  if (known) return known;
  const target = /^(update|insert into|delete from|create temp table|analyze)\s+([\w."]+)/i.exec(flat);
  const from = / from (pg_temp\.\w+|tiktok\.\w+)/i.exec(flat);
  if (!target) return flat.slice(0, 60);
  const verb = target[1]!.toLowerCase();
  return `${verb} ${target[2]}${from && from[1] !== target[2] ? ` from ${from[1]}` : ''}`;
}

/** Rows the statement wrote: under a ModifyTable node, the rows its input produced. */
function rowsOf(plan: string[]): number | null {
  const modify = /^(Insert|Update|Delete|Merge) on /.test(plan[0] ?? '');
  const line = modify ? plan.find((l) => l.includes('->') && ROWS.test(l)) : plan[0];
  const match = line ? ROWS.exec(line) : null;
  return match ? Number(match[1]) * Number(match[2]) : null;
}

type Query = (...args: unknown[]) => unknown;

/** Makes every new client of the pool explain its data writes into `log`. */
function explainWrites(pool: pg.Pool, log: Statement[]): void {
  pool.on('connect', (client) => {
    const target = client as unknown as { query: Query };
    const original = target.query.bind(client) as Query;
    target.query = (...args: unknown[]) => {
      const [text, values] = args;
      if (typeof text !== 'string' || typeof values === 'function' || args.length > 2)
        return original(...args);
      const started = performance.now();
      if (!DATA_WRITE.test(text) || MULTIPLE.test(text) || /tiktok_sync/.test(text)) {
        const pending = original(...args) as Promise<pg.QueryResult>;
        return pending.then((result) => {
          const ms = performance.now() - started;
          if (ms >= 1)
            log.push({ label: labelOf(text), sql: text, ms, rows: result.rowCount ?? null, plan: [] });
          return result;
        });
      }
      const explained = original(`explain (analyze, buffers) ${text}`, values) as Promise<
        pg.QueryResult<{ 'QUERY PLAN': string }>
      >;
      return explained.then((result) => {
        const plan = result.rows.map((r) => r['QUERY PLAN']);
        const rows = rowsOf(plan);
        log.push({ label: labelOf(text), sql: text, ms: performance.now() - started, rows, plan });
        return {
          command: text.trim().split(/\s/)[0]!.toUpperCase(),
          rowCount: rows,
          rows: [],
          fields: [],
          oid: 0,
        };
      });
    };
  });
}

function report(name: string, records: number, wallMs: number, log: Statement[], plans: number): string {
  const lines: string[] = [];
  const total = log.reduce((a, s) => a + s.ms, 0);
  lines.push(
    `== ${name}: ${records.toLocaleString('en')} records, ${(wallMs / 1000).toFixed(1)} s (statements ${(total / 1000).toFixed(1)} s, EXPLAIN ANALYZE overhead included)`,
  );
  const sorted = [...log].sort((a, b) => b.ms - a.ms);
  for (const s of sorted.slice(0, 20)) {
    lines.push(
      `  ${s.ms.toFixed(0).padStart(7)} ms  ${(s.rows == null ? '' : s.rows.toLocaleString('en')).padStart(9)} rows  ${s.label}`,
    );
  }
  for (const s of sorted.filter((x) => x.plan.length > 0).slice(0, plans)) {
    lines.push(
      '',
      `-- ${s.label} (${s.ms.toFixed(0)} ms)`,
      s.sql.replace(/^\s*\n/, '').replace(/\s+$/, ''),
      '',
    );
    lines.push(...s.plan.map((l) => `  ${l}`));
  }
  return lines.join('\n');
}

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '1000000' },
    seed: { type: 'string', default: '42' },
    plans: { type: 'string', default: '3' },
    keep: { type: 'boolean', default: false },
    'pg-set': { type: 'string', multiple: true },
  },
});
const records = Number(values.records);
const seed = Number(values.seed);
const plans = Number(values.plans);

await mkdir(ARCHIVE_DIR, { recursive: true });
const fingerprint = generatorFingerprint();
const zip = async (delta: boolean) => {
  const zipPath = archivePath(records, seed, delta);
  if (!reusableMeta(zipPath, fingerprint) || !existsSync(zipPath)) {
    process.stderr.write(`generating ${path.relative(process.cwd(), zipPath)}\n`);
    await generateArchive({ phase: 'generate', records, seed, delta, zipPath });
  }
  return zipPath;
};
/** The first export re-zipped: the same content in a new archive, as the benchmark's reimport. */
const rezipped = async () => {
  const sourceZip = await zip(false);
  const zipPath = rezipPath(sourceZip);
  if (!reusableMeta(zipPath, fingerprint)) {
    process.stderr.write(`re-zipping into ${path.relative(process.cwd(), zipPath)}\n`);
    await rezipArchive({ phase: 'rezip', sourceZip, zipPath });
  }
  return zipPath;
};
const cases: [string, string][] = [
  ['first import', await zip(false)],
  ['re-import', await rezipped()],
  ['delta export', await zip(true)],
];

const databases = new BenchDatabases(adminUrl(), values['pg-set'] ?? []);
const url = await databases.create('explain');
const sections: string[] = [];
try {
  for (const [name, zipPath] of cases) {
    const log: Statement[] = [];
    const database = connectTo(url, BENCH_APPLICATION);
    explainWrites(database.pool, log);
    try {
      const started = performance.now();
      const result = await importArchive(
        { database, logger: silentLogger(), limits: DEFAULT_ARCHIVE_LIMITS },
        { accountName: 'bench', zipPath },
      );
      const section = report(name, result.records, performance.now() - started, log, plans);
      process.stdout.write(`${section}\n\n`);
      sections.push(section);
    } finally {
      await database.close();
    }
    if (name === 'first import') await vacuumAnalyze(url);
  }
} finally {
  if (values.keep) process.stderr.write(`kept database ${new URL(url).pathname.slice(1)}\n`);
  else await databases.dropAll();
}
await writeFile(path.join(OUT_DIR, 'explain.txt'), `${sections.join('\n\n')}\n`);
