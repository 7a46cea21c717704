import { type Kysely, sql } from 'kysely';

/** The counts of the daily views: column, the `tiktok.events` kind it counts (all: none), comment. */
const DAILY_COUNTS: readonly [string, string | undefined, string][] = [
  ['videos_watched', 'watched', 'Views in the watch history.'],
  ['videos_liked', 'liked', 'Likes given.'],
  ['searches', 'searched', 'Searches made.'],
  ['comments', 'commented', 'Comments written.'],
  ['shares', 'shared', 'Things shared.'],
  ['messages', 'messaged', 'Direct messages sent or received.'],
  ['events', undefined, 'Every timestamped action that day (tiktok.events).'],
];

/** A view of `tiktok.events` counted per account and day (`day`: the column grouped by). */
function dailyView(name: string, days: readonly string[], day: string): string {
  const counts = DAILY_COUNTS.map(([column, kind]) =>
    kind === undefined ? `count(*) as ${column}` : `count(*) filter (where kind = '${kind}') as ${column}`,
  );
  const comments = DAILY_COUNTS.map(
    ([column, , comment]) => `comment on column tiktok.${name}.${column} is '${comment}';`,
  );
  return [
    `create view tiktok.${name} as select account_id, ${[...days, ...counts].join(', ')}`,
    `  from tiktok.events group by account_id, ${day};`,
    `comment on column tiktok.${name}.account_id is 'The account.';`,
    ...comments,
  ].join('\n');
}

/**
 * Views for SQL and BI tools that give the same answers whatever the session's time zone:
 *
 * - each account's own time zone (`tiktok_sync.accounts.timezone`, default UTC; set with
 *   `tiktok-sync account timezone`), shown in `tiktok.accounts`;
 * - `tiktok.events`: one row per timestamped action across every section of schema `tiktok`, with its
 *   UTC day and hour and the same in the account's zone, so activity questions are one GROUP BY;
 * - `tiktok.daily_activity` buckets by the UTC day explicitly (it used the session's zone), and
 *   `tiktok.daily_activity_local` by the account's own day;
 * - `tiktok.table_rows` and `tiktok.sync_freshness`: how much is stored and how fresh it is.
 *
 * Views run with their owner's rights, so the analyst role reads `sync_freshness` without reading
 * the bookkeeping schema itself.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table tiktok_sync.accounts add column timezone text not null default 'UTC';
    comment on column tiktok_sync.accounts.timezone is 'The account''s own time zone (IANA name), for the views'' local days and hours; default UTC.';

    create or replace view tiktok.accounts as
      select account_id, name, open_id, created_at, timezone from tiktok_sync.accounts;
    comment on column tiktok.accounts.timezone is 'The account''s own time zone (IANA name): the *_local columns of the views are in it.';

    create view tiktok.events as
      with e as (
        select account_id, 'watched'::text as kind, watched_at as at, link as item, title as detail, removed_at from tiktok.watch_history
        union all select account_id, 'liked', liked_at, link, null, removed_at from tiktok.likes
        union all select account_id, 'favorited', favorited_at, coalesce(link, name), kind, removed_at from tiktok.favorites
        union all select account_id, 'searched', searched_at, term, null, removed_at from tiktok.searches
        union all select account_id, 'shared', shared_at, coalesce(link, shared_content), method, removed_at from tiktok.shares
        union all select account_id, 'commented', commented_at, comment, null, removed_at from tiktok.comments
        union all select account_id, 'followed_by', followed_at, username, null, removed_at from tiktok.followers
        union all select account_id, 'followed', followed_at, username, null, removed_at from tiktok.following
        union all select account_id, 'blocked', blocked_at, username, null, removed_at from tiktok.blocks
        union all select account_id, 'logged_in', logged_in_at, device_model, coalesce(device_system, network_type), removed_at from tiktok.logins
        union all select account_id, 'posted', posted_at, link, title, removed_at from tiktok.posts
        union all select account_id, 'messaged', sent_at, conversation, kind, removed_at from tiktok.dm_messages
        union all select account_id, kind, started_at, coalesce(title, link), duration, removed_at from tiktok.live_sessions
        union all select account_id, 'live_commented', commented_at, content, room_id::text, removed_at from tiktok.live_comments
        union all select account_id, 'purchased', purchased_at, amount, kind, removed_at from tiktok.purchases
        union all select account_id, 'off_tiktok', happened_at, source, event, removed_at from tiktok.off_tiktok_activity
        union all select account_id, 'reposted', reposted_at, link, null, removed_at from tiktok.reposts
        union all select account_id, 'ad_visited', visited_at, coalesce(ad_link, ad_title), ad_title, removed_at from tiktok.ad_visits
        union all select account_id, 'browsed_product', browsed_at, product_name, shop_name, removed_at from tiktok.product_browsing
        union all select account_id, 'ordered', ordered_at, product_name, shop_name, removed_at from tiktok.shop_orders
        union all select account_id, 'shop_' || kind, at, product_name, shop_name, removed_at from tiktok.shop_activity
        union all select account_id, 'reviewed_place', reviewed_at, place, rating, removed_at from tiktok.location_reviews
      )
      select e.account_id, e.kind, e.at,
        (e.at at time zone 'UTC')::date as day_utc,
        extract(hour from e.at at time zone 'UTC')::int as hour_utc,
        (e.at at time zone a.timezone)::date as day_local,
        extract(hour from e.at at time zone a.timezone)::int as hour_local,
        extract(isodow from e.at at time zone a.timezone)::int as weekday_local,
        e.item, e.detail, e.removed_at is not null as removed
      from e join tiktok_sync.accounts a using (account_id)
      where e.at is not null;
    comment on view tiktok.events is 'One row per timestamped action of every section (watches, likes, searches, messages, logins, posts, follows…), including records no longer in the latest export: activity questions are one GROUP BY. Day and hour columns are computed in an explicit zone, so they do not depend on the session''s time zone.';
    comment on column tiktok.events.account_id is 'The account (tiktok.accounts).';
    comment on column tiktok.events.kind is 'What happened: watched, liked, favorited, searched, shared, commented, followed_by (a new follower), followed, blocked, logged_in, posted, messaged, go_live, watch_live, live_commented, purchased, off_tiktok, reposted, ad_visited, browsed_product, ordered, shop_<activity>, reviewed_place.';
    comment on column tiktok.events.at is 'When it happened (timestamptz).';
    comment on column tiktok.events.day_utc is 'The UTC day of at.';
    comment on column tiktok.events.hour_utc is 'The UTC hour of at (0–23).';
    comment on column tiktok.events.day_local is 'The day of at in the account''s own time zone (tiktok.accounts.timezone).';
    comment on column tiktok.events.hour_local is 'The hour of at (0–23) in the account''s own time zone.';
    comment on column tiktok.events.weekday_local is 'The ISO weekday of at in the account''s own time zone (1 = Monday … 7 = Sunday).';
    comment on column tiktok.events.item is 'What it was about: a video link, search term, username, conversation, device…';
    comment on column tiktok.events.detail is 'A detail of the section where one helps (a title, a kind, a device system…), else null.';
    comment on column tiktok.events.removed is 'True when the record is no longer in the latest export (kept as history).';

    drop view tiktok.daily_activity;
    ${sql.raw(dailyView('daily_activity', ['day_utc as day', 'day_utc'], 'day_utc'))}
    comment on view tiktok.daily_activity is 'Per account and UTC day (whatever the session''s time zone): videos watched and liked, searches, comments, shares, direct messages and all events (including records later removed from exports).';
    comment on column tiktok.daily_activity.day is 'The UTC day (the same as day_utc; kept for existing queries).';
    comment on column tiktok.daily_activity.day_utc is 'The UTC day.';

    ${sql.raw(dailyView('daily_activity_local', ['day_local'], 'day_local'))}
    comment on view tiktok.daily_activity_local is 'As tiktok.daily_activity, per day in the account''s own time zone (tiktok.accounts.timezone).';
    comment on column tiktok.daily_activity_local.day_local is 'The day in the account''s own time zone.';

    create view tiktok.table_rows as
      with r as (
        select account_id, 'watch_history'::text as table_name, removed_at from tiktok.watch_history
        union all select account_id, 'likes', removed_at from tiktok.likes
        union all select account_id, 'favorites', removed_at from tiktok.favorites
        union all select account_id, 'searches', removed_at from tiktok.searches
        union all select account_id, 'shares', removed_at from tiktok.shares
        union all select account_id, 'comments', removed_at from tiktok.comments
        union all select account_id, 'followers', removed_at from tiktok.followers
        union all select account_id, 'following', removed_at from tiktok.following
        union all select account_id, 'blocks', removed_at from tiktok.blocks
        union all select account_id, 'logins', removed_at from tiktok.logins
        union all select account_id, 'posts', removed_at from tiktok.posts
        union all select account_id, 'dm_conversations', removed_at from tiktok.dm_conversations
        union all select account_id, 'dm_messages', removed_at from tiktok.dm_messages
        union all select account_id, 'live_sessions', removed_at from tiktok.live_sessions
        union all select account_id, 'live_comments', removed_at from tiktok.live_comments
        union all select account_id, 'purchases', removed_at from tiktok.purchases
        union all select account_id, 'settings', removed_at from tiktok.settings
        union all select account_id, 'hashtags', removed_at from tiktok.hashtags
        union all select account_id, 'off_tiktok_activity', removed_at from tiktok.off_tiktok_activity
        union all select account_id, 'devices', removed_at from tiktok.devices
        union all select account_id, 'reposts', removed_at from tiktok.reposts
        union all select account_id, 'ad_visits', removed_at from tiktok.ad_visits
        union all select account_id, 'ad_interests', removed_at from tiktok.ad_interests
        union all select account_id, 'product_browsing', removed_at from tiktok.product_browsing
        union all select account_id, 'shop_orders', removed_at from tiktok.shop_orders
        union all select account_id, 'shop_vouchers', removed_at from tiktok.shop_vouchers
        union all select account_id, 'shop_activity', removed_at from tiktok.shop_activity
        union all select account_id, 'location_reviews', removed_at from tiktok.location_reviews
        union all select account_id, 'section_values', removed_at from tiktok.section_values
      )
      select account_id, table_name,
        count(*) filter (where removed_at is null) as current_rows,
        count(*) filter (where removed_at is not null) as removed_rows
      from r group by account_id, table_name;
    comment on view tiktok.table_rows is 'Per account and table of schema tiktok: rows in the latest export (current) and rows kept as history (removed).';
    comment on column tiktok.table_rows.account_id is 'The account.';
    comment on column tiktok.table_rows.table_name is 'The table in schema tiktok.';
    comment on column tiktok.table_rows.current_rows is 'Rows the latest export holds.';
    comment on column tiktok.table_rows.removed_rows is 'Rows no longer in the latest export, kept as history.';

    create view tiktok.sync_freshness as
      select a.account_id, a.name as account,
        last.finished_at as last_success_at,
        last.exported_at as last_exported_at,
        last.exported_at_source,
        newest.exported_at as newest_export_at,
        last.run_id as last_run_id,
        (select count(*) from tiktok_sync.sync_runs r
          where r.account_id = a.account_id and r.status = 'succeeded') as successful_runs,
        coalesce((select jsonb_object_agg(t.table_name, t.current_rows order by t.table_name)
          from tiktok.table_rows t where t.account_id = a.account_id), '{}') as rows_per_table
      from tiktok_sync.accounts a
      left join lateral (
        select r.run_id, r.finished_at, ar.exported_at, ar.exported_at_source
        from tiktok_sync.sync_runs r join tiktok_sync.archives ar on ar.archive_id = r.archive_id
        where r.account_id = a.account_id and r.status = 'succeeded'
        order by r.finished_at desc, r.run_id desc limit 1
      ) last on true
      left join lateral (
        select max(ar.exported_at) as exported_at from tiktok_sync.archives ar where ar.account_id = a.account_id
      ) newest on true;
    comment on view tiktok.sync_freshness is 'Per account: the last successful sync or import, when TikTok made that export, the newest export stored, and the current rows per table (tiktok.table_rows).';
    comment on column tiktok.sync_freshness.account_id is 'The account.';
    comment on column tiktok.sync_freshness.account is 'The account''s name.';
    comment on column tiktok.sync_freshness.last_success_at is 'When the last successful sync or import finished; null if none did.';
    comment on column tiktok.sync_freshness.last_exported_at is 'When TikTok made the export that run imported.';
    comment on column tiktok.sync_freshness.exported_at_source is 'How last_exported_at was told: collect_time, apply_time, file_name, member_times or import_time.';
    comment on column tiktok.sync_freshness.newest_export_at is 'When TikTok made the newest export stored for the account (the data is as fresh as this).';
    comment on column tiktok.sync_freshness.last_run_id is 'The run of the last success (tiktok_sync.sync_runs).';
    comment on column tiktok.sync_freshness.successful_runs is 'How many syncs and imports of the account succeeded.';
    comment on column tiktok.sync_freshness.rows_per_table is 'Current rows per table of schema tiktok, as a JSON object.';
  `.execute(db);
}
