/**
 * The report's SQL, one query per chart or table. Each reads one account (`$1`, its account_id) and
 * turns times into wall-clock text in one explicit zone (`$2`) with `at time zone`, so the answers do
 * not depend on the session's time zone and the browser draws them as they are.
 */
import type pg from 'pg';

/** A pool client inside the report's read-only transaction. */
export type Queryable = Pick<pg.ClientBase, 'query'>;

/** Wall-clock time in the zone, as `to_char` writes it: the browser reads it without a zone. */
const WALL = `'YYYY-MM-DD"T"HH24:MI:SS'`;
/** The same for tables people read. */
const SHOWN = `'YYYY-MM-DD HH24:MI'`;

/** Watches further apart than this start a new watch session. */
export const SESSION_GAP_MINUTES = 30;
/** How many search terms, hashtags and conversations the ranked charts show. */
export const TOP = 15;
export const TOP_CONVERSATIONS = 12;

/** The kinds of tiktok.events the daily chart shows apart; every other kind is `other`. */
export const DAILY_KINDS = ['watched', 'liked', 'searched', 'messaged'] as const;

async function rows<T>(db: Queryable, text: string, values: unknown[]): Promise<T[]> {
  return (await db.query(text, values)).rows as T[];
}

export interface AccountRow {
  account_id: string;
  name: string;
  timezone: string;
}

export function accounts(db: Queryable, name: string | undefined): Promise<AccountRow[]> {
  return rows(
    db,
    `select account_id::text, name, timezone from tiktok.accounts
     where $1::text is null or name = $1 order by name`,
    [name ?? null],
  );
}

export function now(db: Queryable, zone: string): Promise<{ shown: string }[]> {
  return rows(db, `select to_char(now() at time zone $1, ${SHOWN}) as shown`, [zone]);
}

/** Events per day in the zone and per kind (the kinds of {@link DAILY_KINDS}, else `other`). */
export function dailyActivity(db: Queryable, accountId: string, zone: string) {
  return rows<{ day: string; kind: string; n: number }>(
    db,
    `select to_char((at at time zone $2)::date, 'YYYY-MM-DD') as day,
       case when kind = any($3::text[]) then kind else 'other' end as kind,
       count(*)::int as n
     from tiktok.events where account_id = $1
     group by 1, 2 order by 1, 2`,
    [accountId, zone, DAILY_KINDS],
  );
}

/** Events per ISO weekday (1 = Monday) and hour of the day in the zone; only hours that have any. */
export function hourOfWeek(db: Queryable, accountId: string, zone: string) {
  return rows<{ weekday: number; hour: number; n: number }>(
    db,
    `select extract(isodow from at at time zone $2)::int as weekday,
       extract(hour from at at time zone $2)::int as hour,
       count(*)::int as n
     from tiktok.events where account_id = $1
     group by 1, 2 order by 1, 2`,
    [accountId, zone],
  );
}

/**
 * Watch sessions: watches in time order, a new session wherever the gap to the previous watch is
 * longer than {@link SESSION_GAP_MINUTES}. Length is from the first watch to the last, in minutes.
 */
export function watchSessions(db: Queryable, accountId: string, zone: string) {
  return rows<{ start: string; day: string; minutes: number; videos: number }>(
    db,
    `with gaps as (
       select watched_at,
         case when watched_at - lag(watched_at) over (order by watched_at) <= make_interval(mins => $3)
           then 0 else 1 end as starts
       from tiktok.watch_history where account_id = $1
     ), numbered as (
       select watched_at, sum(starts) over (order by watched_at rows unbounded preceding) as session
       from gaps
     )
     select to_char(min(watched_at) at time zone $2, ${WALL}) as start,
       to_char((min(watched_at) at time zone $2)::date, 'YYYY-MM-DD') as day,
       round(extract(epoch from max(watched_at) - min(watched_at)) / 60, 1)::float8 as minutes,
       count(*)::int as videos
     from numbered group by session order by min(watched_at)`,
    [accountId, zone, SESSION_GAP_MINUTES],
  );
}

/**
 * The account's successful runs with when TikTok made the export each read (the run's end when it
 * read none), and which of them is the first.
 */
const RUNS = `
  runs as (
    select r.run_id, coalesce(ar.exported_at, r.finished_at) as at,
      r.run_id = min(r.run_id) over () as first
    from tiktok_sync.sync_runs r left join tiktok_sync.archives ar on ar.archive_id = r.archive_id
    where r.account_id = $1 and r.status = 'succeeded'
  )`;

/** What each run changed: the rows it marked removed, and the followers it stored first. */
const CHANGES = `
  changes as (
    select removed_run_id as run_id, 'likes_withdrawn' as change, link as item, removed_at as at
      from tiktok.likes where account_id = $1 and removed_run_id is not null
    union all select removed_run_id, 'follows_ended', username, removed_at
      from tiktok.following where account_id = $1 and removed_run_id is not null
    union all select removed_run_id, 'posts_removed', coalesce(nullif(title, ''), link), removed_at
      from tiktok.posts where account_id = $1 and removed_run_id is not null
    union all select first_seen_run_id, 'new_followers', username, first_seen_at
      from tiktok.followers where account_id = $1
  )`;

/**
 * Per day (of the time TikTok made the export each run read, in the zone) and kind of change, how
 * many records the successful runs changed; the first run's followers are not new.
 */
export function changesPerDay(db: Queryable, accountId: string, zone: string) {
  return rows<{ day: string; change: string; n: number }>(
    db,
    `with ${RUNS}, ${CHANGES}
     select to_char((r.at at time zone $2)::date, 'YYYY-MM-DD') as day, c.change, count(*)::int as n
     from changes c join runs r using (run_id)
     where not (r.first and c.change = 'new_followers')
     group by 1, 2 order by 1, 2`,
    [accountId, zone],
  );
}

/** The latest changes one by one, newest first. */
export function latestChanges(db: Queryable, accountId: string, zone: string, limit: number) {
  return rows<{ at: string; change: string; item: string | null }>(
    db,
    `with ${RUNS}, ${CHANGES}
     select to_char(r.at at time zone $2, ${SHOWN}) as at, c.change, c.item
     from changes c join runs r using (run_id)
     where not (r.first and c.change = 'new_followers')
     order by r.at desc, r.run_id desc, c.change, c.item limit $3`,
    [accountId, zone, limit],
  );
}

/** Follower and following counts and likes received, one row per export in which one changed. */
export function profileSnapshots(db: Queryable, accountId: string, zone: string) {
  return rows<{
    at: string;
    follower_count: number | null;
    following_count: number | null;
    likes_received: number | null;
  }>(
    db,
    `select to_char(exported_at at time zone $2, ${WALL}) as at,
       follower_count::float8, following_count::float8, likes_received::float8
     from tiktok.profile_snapshots where account_id = $1 order by exported_at, archive_id`,
    [accountId, zone],
  );
}

/** The most searched terms (trimmed, lower-cased), removed records included. */
export function topSearches(db: Queryable, accountId: string) {
  return rows<{ term: string; n: number }>(
    db,
    `select lower(btrim(term)) as term, count(*)::int as n from tiktok.searches
     where account_id = $1 and btrim(term) <> ''
     group by 1 order by n desc, term limit $2`,
    [accountId, TOP],
  );
}

/** Hashtags written in the captions of the user's posts and in the titles of watched videos. */
export function topHashtags(db: Queryable, accountId: string) {
  return rows<{ tag: string; n: number }>(
    db,
    `select lower(m[1]) as tag, count(*)::int as n
     from (select title from tiktok.posts where account_id = $1
           union all select title from tiktok.watch_history where account_id = $1) t
     cross join lateral regexp_matches(t.title, '#([[:alnum:]_]+)', 'g') as m
     group by 1 order by n desc, tag limit $2`,
    [accountId, TOP],
  );
}

/** The export's own Hashtag list (tiktok.hashtags), as it is now. */
export function hashtagList(db: Queryable, accountId: string) {
  return rows<{ name: string }>(
    db,
    `select distinct name from tiktok.hashtags
     where account_id = $1 and removed_at is null and name is not null order by name`,
    [accountId],
  );
}

/** The conversations with the most messages: kind, name, count, first and last message. */
export function topConversations(db: Queryable, accountId: string, zone: string) {
  return rows<{ kind: string; conversation: string; n: number; first: string; last: string }>(
    db,
    `select kind, conversation, count(*)::int as n,
       to_char(min(sent_at) at time zone $2, ${SHOWN}) as first,
       to_char(max(sent_at) at time zone $2, ${SHOWN}) as last
     from tiktok.dm_messages where account_id = $1
     group by kind, conversation order by n desc, conversation, kind limit $3`,
    [accountId, zone, TOP_CONVERSATIONS],
  );
}

/** Messages per week (starting Monday, in the zone) in each of the top conversations. */
export function messagesPerWeek(db: Queryable, accountId: string, zone: string) {
  return rows<{ kind: string; conversation: string; week: string; next: string; n: number }>(
    db,
    `with top as (
       select kind, conversation from tiktok.dm_messages where account_id = $1
       group by kind, conversation order by count(*) desc, conversation, kind limit $3
     ), weeks as (
       select m.kind, m.conversation, date_trunc('week', m.sent_at at time zone $2) as week
       from tiktok.dm_messages m join top using (kind, conversation) where m.account_id = $1
     )
     select kind, conversation, to_char(week, 'YYYY-MM-DD') as week,
       to_char(week + interval '7 days', 'YYYY-MM-DD') as next, count(*)::int as n
     from weeks group by kind, conversation, week order by conversation, kind, week`,
    [accountId, zone, TOP_CONVERSATIONS],
  );
}

export function messageTotals(db: Queryable, accountId: string) {
  return rows<{ conversations: number; messages: number }>(
    db,
    `select count(distinct (kind, conversation))::int as conversations, count(*)::int as messages
     from tiktok.dm_messages where account_id = $1`,
    [accountId],
  );
}

/** Every login with its device (model and system) and network. */
export function logins(db: Queryable, accountId: string, zone: string) {
  return rows<{ at: string; device: string; network: string }>(
    db,
    `select to_char(logged_in_at at time zone $2, ${WALL}) as at,
       coalesce(nullif(concat_ws(' · ', nullif(device_model, ''), nullif(device_system, '')), ''),
         'unknown device') as device,
       coalesce(nullif(network_type, ''), 'unknown network') as network
     from tiktok.logins where account_id = $1 order by logged_in_at`,
    [accountId, zone],
  );
}

/** The export's device list (Status): app versions and screens, when each was first and last seen. */
export function devices(db: Queryable, accountId: string, zone: string) {
  return rows<{
    app_version: string | null;
    resolution: string | null;
    seen: string;
    removed: string | null;
  }>(
    db,
    `select d.app_version, d.resolution,
       to_char(coalesce(ar.exported_at, d.first_seen_at) at time zone $2, ${SHOWN}) as seen,
       to_char(d.removed_at at time zone $2, ${SHOWN}) as removed
     from tiktok.devices d
     left join tiktok_sync.sync_runs r on r.run_id = d.first_seen_run_id
     left join tiktok_sync.archives ar on ar.archive_id = r.archive_id
     where d.account_id = $1 order by d.first_seen_at, d.app_version`,
    [accountId, zone],
  );
}

/** Every sync and import of the accounts (all when `accountId` is null), oldest first. */
export function syncRuns(db: Queryable, accountId: string | null, zone: string) {
  return rows<{
    run_id: string;
    account: string;
    kind: string;
    status: string;
    started: string;
    started_shown: string;
    seconds: number | null;
    exported: string | null;
    inserted: number;
    removed: number;
    error: string | null;
  }>(
    db,
    `select r.run_id::text, a.name as account, r.kind, r.status,
       to_char(r.started_at at time zone $2, ${WALL}) as started,
       to_char(r.started_at at time zone $2, ${SHOWN}) as started_shown,
       round(extract(epoch from r.finished_at - r.started_at), 1)::float8 as seconds,
       to_char(ar.exported_at at time zone $2, ${SHOWN}) as exported,
       coalesce((select sum((v->>'inserted')::bigint) from jsonb_each(r.counts) e(k, v)), 0)::float8 as inserted,
       coalesce((select sum((v->>'removed')::bigint) from jsonb_each(r.counts) e(k, v)), 0)::float8 as removed,
       r.error_message as error
     from tiktok_sync.sync_runs r join tiktok_sync.accounts a using (account_id)
     left join tiktok_sync.archives ar on ar.archive_id = r.archive_id
     where $1::bigint is null or r.account_id = $1
     order by r.started_at, r.run_id`,
    [accountId, zone],
  );
}

/** Per account (all when `accountId` is null): its last success and how old the newest export is. */
export function freshness(db: Queryable, accountId: string | null, zone: string) {
  return rows<{
    account: string;
    last_success: string | null;
    newest_export: string | null;
    age_hours: number | null;
    successful_runs: number;
    current_rows: number;
  }>(
    db,
    `select account,
       to_char(last_success_at at time zone $2, ${SHOWN}) as last_success,
       to_char(newest_export_at at time zone $2, ${SHOWN}) as newest_export,
       round(extract(epoch from now() - newest_export_at) / 3600, 1)::float8 as age_hours,
       successful_runs::int,
       (select coalesce(sum(value::bigint), 0) from jsonb_each_text(rows_per_table))::float8 as current_rows
     from tiktok.sync_freshness where $1::bigint is null or account_id = $1 order by account`,
    [accountId, zone],
  );
}
