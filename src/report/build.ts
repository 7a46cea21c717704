import type pg from 'pg';
import { requireKnownTimezone, unknownAccount } from '../db/account-admin.js';
import type { AccountReport, Report } from './model.js';
import {
  type AccountScope,
  activityPage,
  audiencePage,
  changesPage,
  loginsPage,
  messagesPage,
  searchesPage,
  sessionsPage,
  syncsPage,
} from './pages.js';
import * as q from './queries.js';

export interface ReportOptions {
  /** Only this account; default: every account. */
  account?: string | undefined;
  /** The zone of days, hours and times; default: each account's own (UTC for the sync history). */
  tz?: string | undefined;
}

/**
 * Reads everything the report shows in one read-only transaction: one snapshot, so the pages agree
 * with each other, and nothing the report runs can write.
 */
export async function readOnly<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('begin isolation level repeatable read read only');
    try {
      return await work(client);
    } finally {
      await client.query('rollback');
    }
  } finally {
    client.release();
  }
}

/** The report's data, for `report` and for each page `serve` answers. */
export async function buildReport(pool: pg.Pool, options: ReportOptions = {}): Promise<Report> {
  return readOnly(pool, async (db) => {
    if (options.tz !== undefined) await requireKnownTimezone(db, options.tz);
    const found = await q.accounts(db, options.account);
    if (options.account !== undefined && found.length === 0) throw unknownAccount(options.account);
    const accounts: AccountReport[] = [];
    for (const account of found) {
      const scope: AccountScope = {
        accountId: account.account_id,
        name: account.name,
        zone: options.tz ?? account.timezone,
      };
      const sections = [];
      for (const page of [
        activityPage,
        sessionsPage,
        changesPage,
        audiencePage,
        searchesPage,
        messagesPage,
        loginsPage,
      ]) {
        sections.push(await page(db, scope));
      }
      accounts.push({
        accountId: account.account_id,
        name: account.name,
        zone: scope.zone,
        zoneSource: options.tz === undefined ? 'account' : 'option',
        sections,
      });
    }
    const syncZone = options.tz ?? (found.length === 1 ? found[0]!.timezone : 'UTC');
    const [generated] = await q.now(db, syncZone);
    return {
      generatedAt: generated?.shown ?? '',
      syncZone,
      account: options.account,
      accounts,
      syncs: await syncsPage(db, options.account === undefined ? undefined : found[0]?.account_id, syncZone),
    };
  });
}
