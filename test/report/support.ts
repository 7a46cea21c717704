/**
 * The report tests' data: a synthetic user imported twice (the second export some days later, with
 * likes withdrawn, follows ended and new followers), and a second user whose export holds no direct
 * messages. And the number of marks each chart should draw, counted by the tests' own SQL.
 */
import path from 'node:path';
import { setAccountTimezone } from '../../src/db/account-admin.js';
import { connectTo } from '../../src/db/connect.js';
import { DEFAULT_ARCHIVE_LIMITS } from '../../src/ingest/archive.js';
import { importArchive } from '../../src/ingest/import-archive.js';
import { silentLogger } from '../../src/logger.js';
import { evolve, generateUser, writeExport } from '../../src/synthetic/index.js';
import type { TestDatabase } from '../helpers/database.js';

/** The account with two syncs, in its own zone. */
export const ANA = { name: 'ana', zone: 'Europe/Berlin' } as const;
/** The account whose export has no direct messages, in UTC. */
export const BO = { name: 'bo', zone: 'UTC' } as const;

export async function seedAccounts(database: TestDatabase, dir: string): Promise<void> {
  const first = generateUser({ seed: 71, username: 'ana.synthetic', scale: 500 });
  const later = evolve(first, { seed: 72, days: 6 });
  const other = generateUser({ seed: 73, username: 'bo.synthetic', scale: 250 });
  const exports: [string, string][] = [];
  for (const [account, user, name, categories] of [
    [ANA.name, first, 'ana-1.zip', undefined],
    [ANA.name, later, 'ana-2.zip', undefined],
    [BO.name, other, 'bo.zip', ['activity', 'profile', 'video'] as const],
  ] as const) {
    const zipPath = path.join(dir, name);
    await writeExport(user, { era: '2025', format: 'json', categories }, zipPath);
    exports.push([account, zipPath]);
  }
  const handle = connectTo(database.url);
  try {
    for (const [accountName, zipPath] of exports) {
      await importArchive(
        { database: handle, logger: silentLogger(), limits: DEFAULT_ARCHIVE_LIMITS },
        { accountName, zipPath },
      );
    }
  } finally {
    await handle.close();
  }
  await setAccountTimezone(database.pool, ANA.name, ANA.zone);
}

/** Every chart of an account's pages, by name. */
export const ACCOUNT_CHARTS = [
  'activity-daily',
  'activity-heatmap',
  'sessions-daily',
  'sessions-length',
  'changes',
  'followers',
  'following',
  'likes-received',
  'searches',
  'hashtags',
  'messages-weekly',
  'logins',
] as const;

const ACCOUNT = '(select account_id from tiktok.accounts where name = $1)';

/** Watches with the gap to the previous one: a gap over 30 minutes (or none) starts a session. */
const SESSIONS = `with w as (
  select watched_at, watched_at - lag(watched_at) over (order by watched_at) as gap
  from tiktok.watch_history where account_id = ${ACCOUNT})`;

/** What each successful run changed, and whether the run was the account's first. */
const CHANGES = `with runs as (
    select r.run_id, coalesce(a.exported_at, r.finished_at) as at, r.run_id = min(r.run_id) over () as first
    from tiktok_sync.sync_runs r left join tiktok_sync.archives a on a.archive_id = r.archive_id
    where r.account_id = ${ACCOUNT} and r.status = 'succeeded'
  ), changed as (
    select removed_run_id as run_id, 'like' as what from tiktok.likes where account_id = ${ACCOUNT} and removed_run_id is not null
    union all select removed_run_id, 'follow' from tiktok.following where account_id = ${ACCOUNT} and removed_run_id is not null
    union all select removed_run_id, 'post' from tiktok.posts where account_id = ${ACCOUNT} and removed_run_id is not null
    union all select first_seen_run_id, 'follower' from tiktok.followers where account_id = ${ACCOUNT}
  )`;

/** Per chart, the SQL that counts its data points for account `$1` in zone `$2`. */
const COUNTS: Record<(typeof ACCOUNT_CHARTS)[number], string> = {
  'activity-daily': `select count(distinct ((at at time zone $2)::date,
      case when kind in ('watched', 'liked', 'searched', 'messaged') then kind else 'other' end))
    from tiktok.events where account_id = ${ACCOUNT}`,
  'activity-heatmap': `select count(distinct (extract(isodow from at at time zone $2), extract(hour from at at time zone $2)))
    from tiktok.events where account_id = ${ACCOUNT}`,
  'sessions-daily': `${SESSIONS} select count(distinct (watched_at at time zone $2)::date)
    from w where gap is null or gap > interval '30 minutes'`,
  'sessions-length': `${SESSIONS} select count(*) from w where gap is null or gap > interval '30 minutes'`,
  changes: `${CHANGES} select count(distinct ((r.at at time zone $2)::date, c.what))
    from changed c join runs r using (run_id) where not (r.first and c.what = 'follower')`,
  followers: `select count(follower_count) from tiktok.profile_snapshots where account_id = ${ACCOUNT}`,
  following: `select count(following_count) from tiktok.profile_snapshots where account_id = ${ACCOUNT}`,
  'likes-received': `select count(likes_received) from tiktok.profile_snapshots where account_id = ${ACCOUNT}`,
  searches: `select least(15, count(distinct lower(btrim(term)))) from tiktok.searches
    where account_id = ${ACCOUNT} and btrim(term) <> ''`,
  hashtags: `select least(15, count(distinct lower(m[1])))
    from (select title from tiktok.posts where account_id = ${ACCOUNT}
          union all select title from tiktok.watch_history where account_id = ${ACCOUNT}) t,
      regexp_matches(t.title, '#([[:alnum:]_]+)', 'g') m`,
  'messages-weekly': `with top as (
      select kind, conversation from tiktok.dm_messages where account_id = ${ACCOUNT}
      group by 1, 2 order by count(*) desc, conversation, kind limit 12)
    select count(distinct (m.kind, m.conversation, date_trunc('week', m.sent_at at time zone $2)))
    from tiktok.dm_messages m join top using (kind, conversation) where m.account_id = ${ACCOUNT}`,
  logins: `select count(*) from tiktok.logins where account_id = ${ACCOUNT}`,
};

/** How many data points each of the account's charts should show, in `zone`. */
export async function expectedPoints(
  database: TestDatabase,
  account: string,
  zone: string,
): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const chart of ACCOUNT_CHARTS) {
    // $1 and $2 typed here too, for the counts that need only the account.
    const { rows } = await database.pool.query(
      `select (${COUNTS[chart].trim()})::int as n, $1::text as account, $2::text as zone`,
      [account, zone],
    );
    out[chart] = rows[0].n;
  }
  return out;
}
