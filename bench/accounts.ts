/**
 * Several accounts imported into one database, one after another or all at once, the way the daemon
 * works on up to `sync.concurrency` accounts (src/scheduler/scheduler.ts): each account's export
 * through `importArchive()`, on one pool shared by all of them.
 */
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { DatabaseHandle } from '../src/db/connect.js';
import type { Database } from '../src/db/schema.js';
import { DEFAULT_ARCHIVE_LIMITS } from '../src/ingest/archive.js';
import { importArchive } from '../src/ingest/import-archive.js';
import { silentLogger } from '../src/logger.js';
import { BENCH_APPLICATION } from './protocol.js';

/**
 * The pool `tiktok-sync run` gives the daemon for `concurrency` accounts (src/cli/run.ts:
 * `sync.concurrency + 4`). An import holds one connection for its transaction and, meanwhile, takes
 * another for its run record (stage updates through kysely), so a pool of `concurrency` alone could
 * starve: every connection held by a transaction waiting for one more.
 */
export const poolSizeFor = (concurrency: number) => concurrency + 4;

/**
 * A handle like the daemon's (src/scheduler/pool.ts), under the benchmark's application name so the
 * backends' CPU can be found. Idle connections are never closed: an account that finishes early
 * keeps its backends, and their CPU is still counted at the end.
 */
export function accountsDatabase(url: string, concurrency: number): DatabaseHandle {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSizeFor(concurrency),
    application_name: BENCH_APPLICATION,
    // As the daemon's: a pool that cannot hand out a connection fails the import instead of hanging.
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 0,
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    pool,
    db,
    connectionString: url,
    embeddedDataDir: undefined,
    close: () => db.destroy(),
  };
}

export interface AccountImport {
  account: string;
  records: number;
  wallMs: number;
}

/** The account name of the `i`-th export (from 0). */
export const accountName = (i: number) => `bench-${i + 1}`;

async function importOne(database: DatabaseHandle, account: string, zipPath: string): Promise<AccountImport> {
  const started = performance.now();
  const result = await importArchive(
    { database, logger: silentLogger(), limits: DEFAULT_ARCHIVE_LIMITS },
    { accountName: account, zipPath },
  );
  return { account, records: result.records, wallMs: performance.now() - started };
}

/** Imports every export into its own account: one after another, or all at once. */
export async function importAccounts(
  database: DatabaseHandle,
  zipPaths: readonly string[],
  concurrent: boolean,
): Promise<AccountImport[]> {
  if (concurrent) return Promise.all(zipPaths.map((zip, i) => importOne(database, accountName(i), zip)));
  const done: AccountImport[] = [];
  for (const [i, zip] of zipPaths.entries()) done.push(await importOne(database, accountName(i), zip));
  return done;
}
