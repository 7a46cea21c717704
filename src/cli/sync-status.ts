import { type AccountSyncStatus, accountSyncStatus, formatAccountSyncStatus } from '../scheduler/status.js';
import type { TikTokTables } from '../tiktok/db-types.js';
import type { CommandContext } from './context.js';
import type { Output } from './output.js';

export interface SyncStatusOptions {
  account?: string | undefined;
  json?: boolean | undefined;
}

/**
 * The daemon's view of each account for `tiktok-sync status`: state (active, waiting for TikTok,
 * downloading, importing, retrying, needs consent, paused, stopped, complete), last successful sync
 * and what it changed, next due time, the request in flight and its age, and the last error.
 */
export async function syncStatusRows(
  context: Pick<CommandContext, 'database'>,
  options: SyncStatusOptions = {},
): Promise<AccountSyncStatus[]> {
  return accountSyncStatus(context.database.db.withTables<TikTokTables>(), {
    now: Date.now(),
    account: options.account,
  });
}

/** Prints the rows as a table under a heading, or as JSON (`{ "sync": [...] }`) with `json`. */
export async function printSyncStatus(
  context: Pick<CommandContext, 'database'>,
  output: Output,
  options: SyncStatusOptions = {},
): Promise<void> {
  const rows = await syncStatusRows(context, options);
  if (options.json) {
    output.out(JSON.stringify({ sync: rows }, null, 2));
    return;
  }
  output.out('Sync');
  output.out(formatAccountSyncStatus(rows, Date.now()));
}
