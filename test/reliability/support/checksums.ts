import pg from 'pg';
import { DATA_SCHEMAS } from '../../../src/ingest/tables.js';

/**
 * Columns that say when and by which run a row was written, not what it holds: they differ between
 * two databases that hold the same data (run and archive ids come from sequences, which a rolled-back
 * import still advances). They are replaced by what they mean: "still current" and the SHA-256 of the
 * archive that first saw, last changed or removed the row.
 */
export const BOOKKEEPING: ReadonlySet<string> = new Set([
  'account_id',
  'first_seen_at',
  'first_seen_run_id',
  'updated_at',
  'updated_run_id',
  'removed_at',
  'removed_run_id',
  'superseded_at',
  'superseded_run_id',
  'first_seen_archive_id',
  'archive_id',
  'run_id',
  'captured_at',
  // When the account row was made, and the open_id its own connect got (tiktok.accounts).
  'created_at',
  'open_id',
  // When TikTok made the export: its Check times differ between the trial and the reference run.
  'exported_at',
]);

const RUN_ARCHIVE = (column: string) =>
  `(select encode(a.sha256, 'hex') from tiktok_sync.sync_runs r join tiktok_sync.archives a on a.archive_id = r.archive_id where r.run_id = t.${column})`;
const ARCHIVE = (column: string) =>
  `(select encode(a.sha256, 'hex') from tiktok_sync.archives a where a.archive_id = t.${column})`;

/** What stands in for a bookkeeping column, when it carries meaning. */
const MEANING: Record<string, string> = {
  removed_at: '(t.removed_at is null)',
  superseded_at: '(t.superseded_at is null)',
  first_seen_run_id: RUN_ARCHIVE('first_seen_run_id'),
  updated_run_id: RUN_ARCHIVE('updated_run_id'),
  removed_run_id: RUN_ARCHIVE('removed_run_id'),
  first_seen_archive_id: ARCHIVE('first_seen_archive_id'),
  archive_id: ARCHIVE('archive_id'),
};

export interface TableChecksum {
  rows: number;
  md5: string;
}

/**
 * An ordered content checksum of every table of schema `tiktok`: `md5(string_agg(row, order by row))`
 * over the data columns, with bookkeeping columns replaced by their meaning (see above). Two
 * databases that hold the same data, written once each, give the same checksums.
 */
export async function dataChecksums(url: string): Promise<Record<string, TableChecksum>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows: columns } = await client.query<{ table_name: string; column_name: string }>(
      `select c.table_schema || '.' || c.table_name as table_name, c.column_name from information_schema.columns c
         join information_schema.tables t using (table_schema, table_name)
        where c.table_schema = any($1) and t.table_type = 'BASE TABLE'
        order by c.table_name, c.ordinal_position`,
      [DATA_SCHEMAS],
    );
    const tables = new Map<string, string[]>();
    for (const { table_name: table, column_name: column } of columns) {
      const list = tables.get(table) ?? [];
      if (!BOOKKEEPING.has(column)) list.push(`t.${column}`);
      else if (MEANING[column]) list.push(MEANING[column]);
      tables.set(table, list);
    }
    const result: Record<string, TableChecksum> = {};
    for (const [table, expressions] of tables) {
      const { rows } = await client.query<{ n: number; md5: string | null }>(
        `select count(*)::int as n, md5(string_agg(x, E'\\n' order by x)) as md5
           from (select row(${expressions.join(', ')})::text as x from ${table} t) rows`,
      );
      result[table] = { rows: rows[0]!.n, md5: rows[0]!.md5 ?? 'empty' };
    }
    return result;
  } finally {
    await client.end();
  }
}

/** Tables whose checksums differ, with both sides, for a failure message. */
export function checksumDifferences(
  expected: Record<string, TableChecksum>,
  actual: Record<string, TableChecksum>,
): string[] {
  const names = new Set([...Object.keys(expected), ...Object.keys(actual)]);
  const out: string[] = [];
  for (const name of [...names].sort()) {
    const a = expected[name];
    const b = actual[name];
    if (a?.md5 !== b?.md5 || a?.rows !== b?.rows) {
      out.push(`${name}: expected ${a?.rows} rows ${a?.md5}, found ${b?.rows} rows ${b?.md5}`);
    }
  }
  return out;
}

export interface Bookkeeping {
  /** Runs still `running`. */
  running: number;
  /** Runs closed as `abandoned` (their process was killed). */
  abandoned: number;
  /** Of those, the ones whose transaction had committed. */
  abandonedAfterCommit: number;
  /** Runs recorded failed by their own process after it lost its database connection. */
  connectionLost: number;
  /** SHA-256 of every archive stored, sorted. */
  archives: string[];
}

export async function bookkeeping(url: string): Promise<Bookkeeping> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const runs = await client.query<{ running: number; abandoned: number; committed: number; lost: number }>(
      `select count(*) filter (where status = 'running')::int as running,
              count(*) filter (where error_code = 'abandoned')::int as abandoned,
              count(*) filter (where error_code = 'abandoned' and archive_id is not null)::int as committed,
              count(*) filter (where error_code = 'database_connection_lost')::int as lost
         from tiktok_sync.sync_runs`,
    );
    const archives = await client.query<{ sha: string }>(
      `select encode(sha256, 'hex') as sha from tiktok_sync.archives order by 1`,
    );
    return {
      running: runs.rows[0]!.running,
      abandoned: runs.rows[0]!.abandoned,
      abandonedAfterCommit: runs.rows[0]!.committed,
      connectionLost: runs.rows[0]!.lost,
      archives: archives.rows.map((row) => row.sha),
    };
  } finally {
    await client.end();
  }
}
