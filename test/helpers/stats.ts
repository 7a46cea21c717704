import pg from 'pg';
import { DATA_SCHEMAS } from '../../src/ingest/tables.js';

/**
 * Tuples inserted, updated and deleted in the data tables (schemas `tiktok` and `tiktok_private`), from `pg_stat_user_tables`.
 *
 * Backends report their counters when they go idle (at most once a second) and when they exit, so
 * this waits until the application's connections (application_name `tiktok-sync`) to the database
 * have gone: close the pools that wrote first. It fails rather than read unflushed counters.
 */
export async function dataTableWrites(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (let i = 0; ; i += 1) {
      const writers = await client.query(
        "select count(*)::int as n from pg_stat_activity where datname = current_database() and application_name = 'tiktok-sync'",
      );
      if (writers.rows[0].n === 0) break;
      if (i === 200)
        throw new Error(
          'Connections of the application are still open; close its pools before counting writes.',
        );
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await client.query('select pg_stat_clear_snapshot()');
    const result = await client.query(
      `select coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::bigint as writes
       from pg_stat_user_tables where schemaname = any($1)`,
      [DATA_SCHEMAS],
    );
    return Number(result.rows[0].writes);
  } finally {
    await client.end();
  }
}
