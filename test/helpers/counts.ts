import type pg from 'pg';
import { qualified } from '../../src/ingest/tables.js';
import { TABLE_NAMES } from '../../src/parsers/records.js';

/** Current (not removed) rows of an account, per data table. */
export async function tableCounts(pool: pg.Pool, account: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of TABLE_NAMES) {
    const { rows } = await pool.query(
      `select count(*)::int as n from ${qualified(table)} t join tiktok.accounts a using (account_id)
       where a.name = $1 and t.removed_at is null`,
      [account],
    );
    counts[table] = rows[0].n;
  }
  return counts;
}
