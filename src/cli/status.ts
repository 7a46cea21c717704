import { sql } from 'kysely';
import type { TableCounts } from '../db/schema.js';
import { inviteCounts } from '../invites/store.js';
import { formatTable } from '../table.js';
import type { ConnectedVia, TikTokTables } from '../tiktok/db-types.js';
import type { CommandContext } from './context.js';
import type { Output } from './output.js';
import { printSyncStatus, syncStatusRows } from './sync-status.js';

export interface StatusOptions {
  account?: string | undefined;
  json?: boolean | undefined;
  limit: number;
}

/** `tiktok-sync status`: accounts, their archives and their latest runs. */
export async function cmdStatus(
  context: CommandContext,
  output: Output,
  options: StatusOptions,
): Promise<void> {
  const { db } = context.database;
  const accounts = await db
    .selectFrom('tiktok.accounts as a')
    .select([
      'a.account_id',
      'a.name',
      'a.open_id',
      'a.created_at',
      sql<number>`(select count(*)::int from tiktok_sync.archives ar where ar.account_id = a.account_id)`.as(
        'archives',
      ),
      sql<Date | null>`(select max(finished_at) from tiktok_sync.sync_runs r where r.account_id = a.account_id and r.status = 'succeeded')`.as(
        'last_success',
      ),
      sql<ConnectedVia | null>`(select c.connected_via from tiktok_sync.credentials c where c.account_id = a.account_id)`.as(
        'connected_via',
      ),
    ])
    .$if(options.account !== undefined, (q) => q.where('a.name', '=', options.account!))
    .orderBy('a.name')
    .execute();
  const accountIds = accounts.map((a) => a.account_id);
  const archives =
    accountIds.length === 0
      ? []
      : await db
          .selectFrom('tiktok_sync.archives as ar')
          .innerJoin('tiktok.accounts as a', 'a.account_id', 'ar.account_id')
          .select([
            'a.name',
            'ar.archive_id',
            'ar.file_name',
            'ar.format',
            'ar.era',
            'ar.size_bytes',
            'ar.record_count',
            'ar.imported_at',
          ])
          .where('ar.account_id', 'in', accountIds)
          .orderBy('ar.archive_id', 'desc')
          .limit(options.limit)
          .execute();
  const runs =
    accountIds.length === 0
      ? []
      : await db
          .selectFrom('tiktok_sync.sync_runs as r')
          .innerJoin('tiktok.accounts as a', 'a.account_id', 'r.account_id')
          .select([
            'a.name',
            'r.run_id',
            'r.kind',
            'r.status',
            'r.stage',
            'r.started_at',
            'r.finished_at',
            'r.counts',
            'r.warning_count',
            'r.error_code',
            'r.error_message',
          ])
          .where('r.account_id', 'in', accountIds)
          .orderBy('r.run_id', 'desc')
          .limit(options.limit)
          .execute();

  const invites = await inviteCounts(context.database.db.withTables<TikTokTables>(), Date.now());
  if (options.json) {
    const sync = await syncStatusRows(context, options);
    output.out(JSON.stringify({ accounts, sync, invites, archives, runs }, null, 2));
    return;
  }
  if (accounts.length === 0) {
    output.out(
      options.account
        ? `No account named \`${options.account}\`.`
        : 'No accounts yet: `tiktok-sync import <path> --account <name>` adds one.',
    );
    return;
  }
  output.out('Accounts');
  output.out(
    formatTable(
      ['name', 'id', 'connected', 'archives', 'last successful run'],
      accounts.map((a) => [
        a.name,
        a.account_id,
        CONNECTED[a.connected_via ?? 'none'],
        a.archives,
        a.last_success ? iso(a.last_success) : 'never',
      ]),
    ),
  );
  const by = (via: ConnectedVia | 'none') =>
    accounts.filter((a) => (a.connected_via ?? 'none') === via).length;
  output.out(
    `Connected through an invite link: ${by('invite')}; with \`connect\`: ${by('connect')}; imported only: ${by('none')}.`,
  );
  const invited = invites.outstanding + invites.used + invites.expired + invites.revoked;
  if (invited > 0) {
    output.out(
      `Invites: ${invites.outstanding} outstanding, ${invites.used} used, ${invites.expired} expired, ${invites.revoked} withdrawn (\`tiktok-sync invite --list\`).`,
    );
  }
  output.out();
  await printSyncStatus(context, output, options);
  output.out();
  output.out('Archives (newest first)');
  output.out(
    formatTable(
      ['account', 'id', 'file', 'format', 'era', 'bytes', 'records', 'imported at'],
      archives.map((a) => [
        a.name,
        a.archive_id,
        a.file_name ?? '',
        a.format,
        a.era,
        a.size_bytes,
        a.record_count,
        iso(a.imported_at),
      ]),
    ),
  );
  output.out();
  output.out('Runs (newest first)');
  output.out(
    formatTable(
      [
        'account',
        'run',
        'kind',
        'status',
        'stage',
        'started at',
        'inserted',
        'updated',
        'removed',
        'warnings',
        'error',
      ],
      runs.map((r) => {
        const total = sumCounts(r.counts);
        return [
          r.name,
          r.run_id,
          r.kind,
          r.status,
          r.stage,
          iso(r.started_at),
          total.inserted,
          total.updated,
          total.removed,
          r.warning_count,
          r.error_message ?? '',
        ];
      }),
    ),
  );
}

/** How an account's grant was made, in the accounts table. */
const CONNECTED: Record<ConnectedVia | 'none', string> = {
  invite: 'invite link',
  connect: 'connect',
  none: 'imported only',
};

function sumCounts(counts: Record<string, TableCounts>): TableCounts {
  const total = { inserted: 0, updated: 0, unchanged: 0, removed: 0, restored: 0 };
  for (const c of Object.values(counts ?? {})) {
    total.inserted += c.inserted;
    total.updated += c.updated;
    total.unchanged += c.unchanged;
    total.removed += c.removed;
    total.restored += c.restored;
  }
  return total;
}

const iso = (date: Date) => `${date.toISOString().slice(0, 19)}Z`;
