import { type Kysely, sql } from 'kysely';

/**
 * The data tables, one per export section, in schema `tiktok`. Every table has the same bookkeeping
 * columns; keys lead with `account_id` so the schema can be distributed by account.
 *
 * Written as data rather than 19 near-identical CREATE TABLE statements; this file is frozen like any
 * migration and imports nothing from the application.
 */

type Column = readonly [name: string, type: string, comment: string];

interface Table {
  name: string;
  comment: string;
  /** The column telling sub-kinds apart (favorite kind, DM kind…), if any. */
  part?: Column;
  columns: readonly Column[];
  /** Indexes beyond the primary key, for analysts' common filters. */
  indexes?: readonly string[];
}

const VIDEO_ID = 'TikTok video id (19 digits) taken from the link, when the link names one.';

const TABLES: readonly Table[] = [
  {
    name: 'watch_history',
    comment: 'Videos the user watched (Watch History / Video Browsing History), one row per view.',
    columns: [
      ['watched_at', 'timestamptz not null', 'When the video was watched (UTC).'],
      ['video_id', 'bigint', VIDEO_ID],
      ['link', 'text', 'Link to the video as exported.'],
      ['title', 'text', 'Video title (exports from 2026 on).'],
    ],
    indexes: ['(account_id, watched_at)', '(video_id)'],
  },
  {
    name: 'likes',
    comment: 'Videos the user liked (Like List).',
    columns: [
      ['liked_at', 'timestamptz not null', 'When the video was liked (UTC).'],
      ['video_id', 'bigint', VIDEO_ID],
      ['link', 'text', 'Link to the video as exported.'],
    ],
    indexes: ['(account_id, liked_at)', '(video_id)'],
  },
  {
    name: 'favorites',
    comment:
      'Things the user saved as favorites: videos, sounds, hashtags, effects, collections and newer kinds.',
    part: [
      'kind',
      'text not null',
      'video, sound, hashtag, effect, collection, comment, location, playlist, movie_tv, drama or other.',
    ],
    columns: [
      ['favorited_at', 'timestamptz', 'When it was added to favorites (UTC).'],
      [
        'item_id',
        'bigint',
        'Id of the video, sound, effect or hashtag, taken from the link when it names one.',
      ],
      ['link', 'text', 'Link as exported.'],
      ['name', 'text', 'Name or title, for kinds that have one (e.g. a collection).'],
    ],
    indexes: ['(account_id, kind, favorited_at)'],
  },
  {
    name: 'searches',
    comment: 'Searches the user made in the app (Search History).',
    columns: [
      ['searched_at', 'timestamptz not null', 'When the search was made (UTC).'],
      ['term', 'text', 'What was searched for.'],
    ],
    indexes: ['(account_id, searched_at)'],
  },
  {
    name: 'shares',
    comment: 'Content the user shared (Share History).',
    columns: [
      ['shared_at', 'timestamptz not null', 'When it was shared (UTC).'],
      ['shared_content', 'text', 'What was shared, e.g. share_video.'],
      ['link', 'text', 'Link to what was shared.'],
      ['method', 'text', 'How it was shared, e.g. chat_head, whatsapp.'],
      ['video_id', 'bigint', VIDEO_ID],
    ],
    indexes: ['(account_id, shared_at)'],
  },
  {
    name: 'comments',
    comment: 'Comments the user wrote on videos.',
    columns: [
      ['commented_at', 'timestamptz not null', 'When the comment was written (UTC).'],
      ['comment', 'text', 'The comment text.'],
      ['photo', 'text', 'Photo attached to the comment, if any.'],
      ['video', 'text', 'Video attached to the comment, if any.'],
      ['sticker', 'text', 'Sticker attached to the comment, if any.'],
      ['url', 'text', 'Link to the post that was commented on.'],
      ['video_id', 'bigint', 'Id of the commented video, taken from url when it names one.'],
    ],
    indexes: ['(account_id, commented_at)'],
  },
  {
    name: 'followers',
    comment: 'Accounts that follow the user (Follower List).',
    columns: [
      ['username', 'text not null', "The follower's TikTok username."],
      ['followed_at', 'timestamptz', 'When they started following (UTC).'],
    ],
  },
  {
    name: 'following',
    comment: 'Accounts the user follows (Following List).',
    columns: [
      ['username', 'text not null', "The followed account's TikTok username."],
      ['followed_at', 'timestamptz', 'When the user started following them (UTC).'],
    ],
  },
  {
    name: 'blocks',
    comment: 'Accounts the user blocked (Block List).',
    columns: [
      ['username', 'text not null', "The blocked account's TikTok username."],
      ['blocked_at', 'timestamptz', 'When it was blocked (UTC).'],
    ],
  },
  {
    name: 'logins',
    comment: 'Logins to the account (Login History).',
    columns: [
      ['logged_in_at', 'timestamptz not null', 'When the login happened (UTC).'],
      ['ip', 'text', 'IP address of the login.'],
      ['device_model', 'text', 'Device model.'],
      ['device_system', 'text', 'Operating system of the device.'],
      ['network_type', 'text', 'Network type, e.g. Wi-Fi, 4G.'],
      ['carrier', 'text', 'Mobile carrier.'],
    ],
    indexes: ['(account_id, logged_in_at)'],
  },
  {
    name: 'posts',
    comment: 'Videos and photo posts the user published, with their settings.',
    part: [
      'status',
      'text not null',
      "posted, or recently_deleted (in the export's Recently Deleted Posts).",
    ],
    columns: [
      ['posted_at', 'timestamptz not null', 'When it was posted (UTC).'],
      [
        'link',
        'text',
        'Signed, expiring download URL(s) of the media as of the latest export; photo posts list several separated by newlines. A new URL alone does not count as a change.',
      ],
      ['video_id', 'bigint', 'Video id, when the link names one.'],
      ['title', 'text', 'Caption of the post.'],
      ['likes', 'bigint', 'Number of likes as of the latest export.'],
      ['who_can_view', 'text', 'Audience setting, e.g. Everyone, Friends, Only me.'],
      ['allow_comments', 'text', 'Whether comments are allowed.'],
      ['allow_stitches', 'text', 'Whether stitches are allowed.'],
      ['allow_duets', 'text', 'Whether duets are allowed.'],
      ['allow_stickers', 'text', 'Whether stickers are allowed.'],
      ['allow_sharing_to_story', 'text', 'Whether sharing to story is allowed.'],
      ['content_disclosure', 'text', 'Branded/promotional content disclosure.'],
      ['ai_generated_content', 'text', 'Whether it is labelled AI-generated.'],
      ['sound', 'text', 'Sound used.'],
      ['location', 'text', 'Location tagged.'],
      ['add_yours_text', 'text', 'Add Yours prompt text.'],
      ['alternate_text', 'text', 'Alternate text for accessibility.'],
      ['cover_image', 'text', 'Cover image URL.'],
    ],
    indexes: ['(account_id, posted_at)'],
  },
  {
    name: 'profile',
    comment: "The user's current profile (one row per account), as of the latest export.",
    columns: [
      ['username', 'text', 'TikTok username (handle).'],
      ['display_name', 'text', 'Display name.'],
      ['bio', 'text', 'Bio text.'],
      ['birth_date', 'date', 'Date of birth.'],
      ['email', 'text', 'Email address on the account.'],
      ['phone', 'text', 'Telephone number on the account.'],
      ['likes_received', 'bigint', "Total likes received on the user's videos."],
      ['follower_count', 'bigint', 'Number of followers.'],
      ['following_count', 'bigint', 'Number of accounts followed.'],
      ['profile_photo', 'text', 'Profile photo URL.'],
      ['profile_video', 'text', 'Profile video URL.'],
      ['inferred_gender', 'text', 'Gender TikTok inferred.'],
      ['account_region', 'text', 'Account region (exports from 2026 on).'],
    ],
  },
  {
    name: 'dm_conversations',
    comment: 'Direct-message conversations: one per peer (Chat History with …), group chat or Tako chat.',
    part: ['kind', 'text not null', "direct (one peer), group, or tako (chats with TikTok's assistant)."],
    columns: [
      [
        'conversation',
        'text not null',
        "The peer's username for direct chats, otherwise the chat's name or title.",
      ],
    ],
  },
  {
    name: 'dm_messages',
    comment:
      'Direct messages, sent and received. Identical messages sent in the same second are separate rows (occurrence 1, 2…).',
    part: ['kind', 'text not null', 'direct, group or tako, as in dm_conversations.'],
    columns: [
      ['conversation', 'text not null', 'The conversation (dm_conversations.conversation).'],
      ['sent_at', 'timestamptz not null', 'When the message was sent (UTC).'],
      ['sender', 'text', 'Username of the sender (the user or the peer).'],
      ['content', 'text', 'Message text, or a shared link.'],
      ['video_id', 'bigint', 'Id of a shared video, when the content is a video link.'],
    ],
    indexes: ['(account_id, conversation, sent_at)'],
  },
  {
    name: 'live_sessions',
    comment: 'LIVE sessions the user hosted (go_live) or watched (watch_live).',
    part: ['kind', 'text not null', 'go_live (hosted) or watch_live (watched).'],
    columns: [
      ['room_id', 'bigint', 'TikTok LIVE room id.'],
      ['started_at', 'timestamptz', 'Start of the session, or when it was watched (UTC).'],
      ['ended_at', 'timestamptz', 'End of a hosted session (UTC).'],
      ['duration', 'text', 'Duration as exported.'],
      ['title', 'text', 'Room title.'],
      ['link', 'text', 'Link to the room or its replay.'],
      ['total_earning', 'text', 'Earnings of a hosted session, as exported.'],
      ['total_likes', 'text', 'Likes received in a hosted session.'],
      ['total_views', 'text', 'Views of a hosted session.'],
      ['total_gifters', 'text', 'Number of gifters in a hosted session.'],
    ],
  },
  {
    name: 'live_comments',
    comment: 'Comments the user wrote while watching LIVE sessions.',
    columns: [
      ['room_id', 'bigint not null', 'The LIVE room (live_sessions.room_id).'],
      ['commented_at', 'timestamptz', 'When the comment was written (UTC).'],
      ['content', 'text', 'The comment text.'],
    ],
  },
  {
    name: 'purchases',
    comment: 'Gifts sent and bought, coin purchases and wallet transactions.',
    part: ['kind', 'text not null', 'send_gift, buy_gift, coin_purchase, wallet_transaction or other.'],
    columns: [
      ['purchased_at', 'timestamptz', 'When it happened (UTC).'],
      ['amount', 'text', 'Price or gift amount as exported (may include a currency).'],
      ['username', 'text', 'Recipient of a gift.'],
    ],
  },
  {
    name: 'settings',
    comment: 'App settings, one row per setting; nested settings have keys joined with " / ".',
    columns: [
      [
        'key',
        'text not null',
        'Setting name as exported, e.g. Private Account or Push Notification / Likes.',
      ],
      ['value', 'text', 'Setting value; lists and maps as JSON text.'],
    ],
  },
  {
    name: 'hashtags',
    comment: 'Hashtags the user used (Hashtag list).',
    columns: [
      ['name', 'text', 'Hashtag name.'],
      ['link', 'text', 'Link to the hashtag page.'],
    ],
  },
];

const q = (text: string) => `'${text.replaceAll("'", "''")}'`;

function createTable(table: Table): string {
  const name = `tiktok.${table.name}`;
  const own = [...(table.part ? [table.part] : []), ...table.columns];
  const hasExtra = table.name !== 'settings';
  const lines = [
    `account_id bigint not null references tiktok_sync.accounts (account_id)`,
    `record_key uuid not null`,
    `occurrence integer not null default 1`,
    `row_hash uuid not null`,
    ...own.map(([column, type]) => `${column} ${type}`),
    ...(hasExtra ? ['extra jsonb'] : []),
    `first_seen_at timestamptz not null default now()`,
    `first_seen_run_id bigint not null`,
    `updated_at timestamptz`,
    `updated_run_id bigint`,
    `removed_at timestamptz`,
    `removed_run_id bigint`,
    `primary key (account_id, record_key, occurrence)`,
  ];
  const comments: Column[] = [
    ['account_id', '', 'The account (tiktok.accounts.account_id).'],
    [
      'record_key',
      '',
      'Hash of the fields that identify the record (its natural key); stable across exports.',
    ],
    ['occurrence', '', 'n-th identical record with this key in one export (1 for almost all rows).'],
    [
      'row_hash',
      '',
      'Hash of the compared fields, to skip unchanged records without comparing every column.',
    ],
    ...own,
    ...(hasExtra
      ? ([['extra', '', 'Fields of the record that this version does not model, as exported.']] as Column[])
      : []),
    ['first_seen_at', '', 'When an import first stored this record.'],
    ['first_seen_run_id', '', 'The sync run that first stored this record.'],
    ['updated_at', '', 'When a later export last changed this record, if ever.'],
    ['updated_run_id', '', 'The sync run that last changed this record.'],
    [
      'removed_at',
      '',
      "Set when a later export of this section no longer contained the record (unliked, unfollowed, or past TikTok's retention); cleared if it comes back. Rows are never deleted.",
    ],
    ['removed_run_id', '', 'The sync run that marked the record removed.'],
  ];
  return [
    `create table ${name} (\n  ${lines.join(',\n  ')}\n);`,
    `comment on table ${name} is ${q(table.comment)};`,
    ...comments.map(([column, , text]) => `comment on column ${name}.${column} is ${q(text)};`),
    ...(table.indexes ?? []).map(
      (columns, i) => `create index ${table.name}_idx${i + 1} on ${name} ${columns};`,
    ),
  ].join('\n');
}

export async function up(db: Kysely<any>): Promise<void> {
  await sql.raw(TABLES.map(createTable).join('\n\n')).execute(db);

  await sql`
    create table tiktok.profile_snapshots (
      account_id bigint not null references tiktok_sync.accounts (account_id),
      archive_id bigint not null,
      captured_at timestamptz not null default now(),
      run_id bigint not null,
      follower_count bigint,
      following_count bigint,
      likes_received bigint,
      primary key (account_id, archive_id)
    );
    comment on table tiktok.profile_snapshots is 'Follower and following counts and likes received over time: one row per archive in which they differ from the previous snapshot.';
    comment on column tiktok.profile_snapshots.account_id is 'The account.';
    comment on column tiktok.profile_snapshots.archive_id is 'The archive the counts came from.';
    comment on column tiktok.profile_snapshots.captured_at is 'When that archive was imported.';
    comment on column tiktok.profile_snapshots.run_id is 'The sync run that imported it.';
    comment on column tiktok.profile_snapshots.follower_count is 'Number of followers.';
    comment on column tiktok.profile_snapshots.following_count is 'Number of accounts followed.';
    comment on column tiktok.profile_snapshots.likes_received is 'Total likes received.';

    create table tiktok.raw_sections (
      account_id bigint not null references tiktok_sync.accounts (account_id),
      path text not null,
      content_hash uuid not null,
      content jsonb not null,
      first_seen_at timestamptz not null default now(),
      first_seen_run_id bigint not null,
      first_seen_archive_id bigint not null,
      superseded_at timestamptz,
      superseded_run_id bigint,
      primary key (account_id, path, content_hash)
    );
    comment on table tiktok.raw_sections is 'Sections of the export that have no table of their own (status, ads, shop, wallet, reviews…), kept as JSON: one row per distinct content of a section.';
    comment on column tiktok.raw_sections.account_id is 'The account.';
    comment on column tiktok.raw_sections.path is 'Where the section sits in the export, e.g. Ads and data/Off TikTok Activity or TikTok Shopping/Order History.txt.';
    comment on column tiktok.raw_sections.content_hash is 'MD5 of the section''s JSON text.';
    comment on column tiktok.raw_sections.content is 'The section as exported (TXT sections as a list of records).';
    comment on column tiktok.raw_sections.first_seen_at is 'When this content was first imported.';
    comment on column tiktok.raw_sections.first_seen_run_id is 'The run that first imported this content.';
    comment on column tiktok.raw_sections.first_seen_archive_id is 'The archive this content first came from.';
    comment on column tiktok.raw_sections.superseded_at is 'Set when a later export had different content for this section; null for the current content.';
    comment on column tiktok.raw_sections.superseded_run_id is 'The run that superseded it.';

    create view tiktok.accounts as
      select account_id, name, open_id, created_at from tiktok_sync.accounts;
    comment on view tiktok.accounts is 'The accounts whose data is kept (without credentials).';
    comment on column tiktok.accounts.account_id is 'Our id of the account; every data table carries it.';
    comment on column tiktok.accounts.name is 'The name the operator gave the account.';
    comment on column tiktok.accounts.open_id is 'TikTok''s open_id of the user for our app, when connected through OAuth.';
    comment on column tiktok.accounts.created_at is 'When the account was added.';

    create view tiktok.daily_activity as
      with days as (
        select account_id, watched_at::date as day, 'watched' as what from tiktok.watch_history
        union all select account_id, liked_at::date, 'liked' from tiktok.likes
        union all select account_id, searched_at::date, 'searched' from tiktok.searches
        union all select account_id, commented_at::date, 'commented' from tiktok.comments
        union all select account_id, shared_at::date, 'shared' from tiktok.shares
        union all select account_id, sent_at::date, 'messaged' from tiktok.dm_messages
      )
      select account_id, day,
        count(*) filter (where what = 'watched') as videos_watched,
        count(*) filter (where what = 'liked') as videos_liked,
        count(*) filter (where what = 'searched') as searches,
        count(*) filter (where what = 'commented') as comments,
        count(*) filter (where what = 'shared') as shares,
        count(*) filter (where what = 'messaged') as messages
      from days group by account_id, day;
    comment on view tiktok.daily_activity is 'Per account and UTC day: videos watched and liked, searches, comments, shares and direct messages (including records later removed from exports).';
    comment on column tiktok.daily_activity.account_id is 'The account.';
    comment on column tiktok.daily_activity.day is 'The day (UTC).';
    comment on column tiktok.daily_activity.videos_watched is 'Views in the watch history.';
    comment on column tiktok.daily_activity.videos_liked is 'Likes given.';
    comment on column tiktok.daily_activity.searches is 'Searches made.';
    comment on column tiktok.daily_activity.comments is 'Comments written.';
    comment on column tiktok.daily_activity.shares is 'Things shared.';
    comment on column tiktok.daily_activity.messages is 'Direct messages sent or received.';

    create view tiktok.dm_conversation_summary as
      select c.account_id, c.kind, c.conversation,
        count(m.*) as messages,
        min(m.sent_at) as first_message_at,
        max(m.sent_at) as last_message_at,
        c.removed_at
      from tiktok.dm_conversations c
      left join tiktok.dm_messages m
        on m.account_id = c.account_id and m.kind = c.kind and m.conversation = c.conversation
      group by c.account_id, c.kind, c.conversation, c.removed_at;
    comment on view tiktok.dm_conversation_summary is 'Each direct-message conversation with its number of messages and first and last message time.';
    comment on column tiktok.dm_conversation_summary.account_id is 'The account.';
    comment on column tiktok.dm_conversation_summary.kind is 'direct, group or tako.';
    comment on column tiktok.dm_conversation_summary.conversation is 'The peer''s username or the chat''s name.';
    comment on column tiktok.dm_conversation_summary.messages is 'Messages kept, including ones no longer in the latest export.';
    comment on column tiktok.dm_conversation_summary.first_message_at is 'Earliest message (UTC).';
    comment on column tiktok.dm_conversation_summary.last_message_at is 'Latest message (UTC).';
    comment on column tiktok.dm_conversation_summary.removed_at is 'Set when the conversation is no longer in the latest export.';
  `.execute(db);
}
