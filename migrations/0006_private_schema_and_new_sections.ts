import { type Kysely, sql } from 'kysely';

/**
 * Real exports, as they are:
 *
 * - Schema `tiktok_private` for what analysts do not get unless asked (`grant-analyst
 *   --include-private`): contact data, places, payment data, and the raw sections (which may hold
 *   any of those). The profile moves there; `tiktok.profile` becomes a view without email, phone and
 *   birth date.
 * - Dates TikTok did not know are stored as null (the value policy, docs/data-model.md), so date
 *   columns and the names of deleted accounts become nullable.
 * - Records nothing identifies are kept whole in `tiktok_private.refused_records`.
 * - Tables for the sections that were kept only raw so far.
 *
 * Like 0002, the new tables are written as data; this file is frozen and imports nothing from the
 * application (the catalog in src/parsers/catalog is checked against it by test/db/schema.test.ts).
 */

type Column = readonly [name: string, type: string, comment: string];

interface Table {
  schema: 'tiktok' | 'tiktok_private';
  name: string;
  comment: string;
  part?: Column;
  columns: readonly Column[];
  extra?: boolean;
  indexes?: readonly string[];
}

const at = (name: string, what: string): Column => [
  name,
  'timestamptz',
  `${what} (UTC); null when the export did not know.`,
];
const UNVERIFIED =
  ' The shape of these records is not verified (real exports mostly leave the section empty): columns are filled from the usual key names and everything else is kept in extra.';

const TABLES: readonly Table[] = [
  {
    schema: 'tiktok',
    name: 'off_tiktok_activity',
    comment:
      'Events that apps and websites outside TikTok reported to TikTok about the user (Off TikTok Activity), for ads.',
    columns: [
      at('happened_at', 'When the event happened'),
      ['source', 'text', 'The app or website that reported it.'],
      ['event', 'text', 'What happened there, e.g. Launch, Purchase, ViewContent.'],
    ],
    indexes: ['(account_id, happened_at)', '(account_id, source)'],
  },
  {
    schema: 'tiktok',
    name: 'devices',
    comment: 'Devices and app versions the account used (the Status section), one row per distinct entry.',
    columns: [
      ['resolution', 'text', 'Screen resolution, e.g. 1170*2532.'],
      ['app_version', 'text', 'TikTok app version.'],
      ['idfa', 'text', 'Apple advertising identifier.'],
      ['gaid', 'text', 'Google advertising identifier.'],
      ['android_id', 'text', 'Android device id.'],
      ['idfv', 'text', 'Apple identifier for vendor.'],
      ['uid', 'bigint', 'TikTok user id.'],
      ['did', 'text', 'TikTok device id.'],
      ['web_id', 'text', 'TikTok web id.'],
    ],
  },
  {
    schema: 'tiktok',
    name: 'reposts',
    comment: 'Videos the user reposted (Reposts, exports from 2026 on).',
    columns: [
      at('reposted_at', 'When it was reposted'),
      ['video_id', 'bigint', 'TikTok video id taken from the link, when the link names one.'],
      ['link', 'text', 'Link to the video as exported.'],
    ],
    indexes: ['(account_id, reposted_at)'],
  },
  {
    schema: 'tiktok',
    name: 'ad_visits',
    comment: 'Ads the user visited (Ads Visit History, exports from 2026 on).',
    columns: [
      at('visited_at', 'When the ad was visited'),
      ['ad_title', 'text', 'Title of the ad.'],
      ['ad_link', 'text', 'Link of the ad.'],
    ],
    indexes: ['(account_id, visited_at)'],
  },
  {
    schema: 'tiktok',
    name: 'ad_interests',
    comment:
      'Interest categories TikTok uses to choose ads for the user (Ad Interests), one row per category.',
    columns: [['interest', 'text not null', 'The interest category as exported.']],
    extra: false,
  },
  {
    schema: 'tiktok',
    name: 'product_browsing',
    comment: `Products the user looked at in TikTok Shop (Product Browsing History).${UNVERIFIED}`,
    columns: [
      at('browsed_at', 'When the product was viewed'),
      ['product_name', 'text', 'Name of the product.'],
      ['shop_name', 'text', 'The shop that sells it.'],
      ['price', 'text', 'Price as exported (may include a currency).'],
      ['link', 'text', 'Link to the product.'],
    ],
    indexes: ['(account_id, browsed_at)'],
  },
  {
    schema: 'tiktok',
    name: 'shop_orders',
    comment: `Orders placed in TikTok Shop (Order History).${UNVERIFIED}`,
    columns: [
      at('ordered_at', 'When the order was placed'),
      ['order_id', 'text', 'Order number as exported.'],
      ['product_name', 'text', 'Product ordered.'],
      ['shop_name', 'text', 'The shop.'],
      ['quantity', 'text', 'Quantity as exported.'],
      ['amount', 'text', 'Amount paid as exported (may include a currency).'],
      ['status', 'text', 'Order status as exported.'],
    ],
    indexes: ['(account_id, ordered_at)'],
  },
  {
    schema: 'tiktok',
    name: 'shop_vouchers',
    comment: `Vouchers the user holds or held in TikTok Shop (Vouchers).${UNVERIFIED}`,
    columns: [
      ['name', 'text', 'Name of the voucher.'],
      ['code', 'text', 'Voucher code, when exported.'],
      ['discount', 'text', 'Discount as exported.'],
      at('valid_from', 'Start of validity'),
      at('valid_until', 'End of validity'),
      ['status', 'text', 'Status as exported (used, expired…).'],
      ['shop_name', 'text', 'The shop that issued it, if any.'],
    ],
  },
  {
    schema: 'tiktok',
    name: 'shop_activity',
    comment: `Other TikTok Shop lists: shopping cart, product reviews, messages with shops, customer support, order disputes, returns and refunds, favorite items.${UNVERIFIED}`,
    part: [
      'kind',
      'text not null',
      'cart, product_review, communication, support, dispute, refund or favorite_item.',
    ],
    columns: [
      at('at', 'When it happened'),
      ['product_name', 'text', 'The product concerned.'],
      ['shop_name', 'text', 'The shop concerned.'],
      ['amount', 'text', 'Amount as exported.'],
      ['status', 'text', 'Status as exported.'],
      ['content', 'text', 'Text of the review, message or reason.'],
    ],
    indexes: ['(account_id, kind, at)'],
  },
  {
    schema: 'tiktok',
    name: 'location_reviews',
    comment: `Reviews the user wrote of places (POI Review / Location Reviews).${UNVERIFIED}`,
    columns: [
      at('reviewed_at', 'When the review was written'),
      ['place', 'text', 'The place reviewed.'],
      ['rating', 'text', 'Rating as exported.'],
      ['review', 'text', 'The review text.'],
      ['link', 'text', 'Link to the place or review.'],
    ],
  },
  {
    schema: 'tiktok',
    name: 'section_values',
    comment:
      'Sections that are one map of named values (Activity Summary, Go Live Settings, Watch Live Settings): one row per value; nested keys joined with " / ".',
    part: ['section', 'text not null', 'activity_summary, go_live_settings or watch_live_settings.'],
    columns: [
      [
        'key',
        'text not null',
        'Name of the value as exported, e.g. videosWatchedToTheEndSinceAccountRegistration.',
      ],
      ['value', 'text', 'The value as exported; lists and maps as JSON text.'],
    ],
    extra: false,
  },
  {
    schema: 'tiktok_private',
    name: 'locations',
    comment:
      'The last location TikTok recorded for the account (Most Recent Location Data), one row per distinct value over the exports. Private: precise location.',
    columns: [
      at('recorded_at', 'When it was recorded'),
      ['gps', 'text', 'GPS position as exported.'],
      ['last_region', 'text', 'Region as exported.'],
    ],
  },
  {
    schema: 'tiktok_private',
    name: 'shop_addresses',
    comment: `Addresses saved in TikTok Shop (Saved Address Information). Private: contact data.${UNVERIFIED}`,
    columns: [
      ['name', 'text', 'Recipient name.'],
      ['phone', 'text', 'Phone number.'],
      ['address', 'text', 'Street address.'],
      ['city', 'text', 'City.'],
      ['region', 'text', 'Region, state or province.'],
      ['postal_code', 'text', 'Postal code.'],
      ['country', 'text', 'Country.'],
    ],
  },
  {
    schema: 'tiktok_private',
    name: 'payment_methods',
    comment: `Payment methods on file in TikTok Shop (Current Payment Information). Private: payment data.${UNVERIFIED}`,
    columns: [
      ['method', 'text', 'Kind of payment method, e.g. card.'],
      ['card', 'text', 'Card number as exported (usually masked).'],
      ['holder', 'text', 'Card holder.'],
      ['expires', 'text', 'Expiry as exported.'],
    ],
  },
  {
    schema: 'tiktok_private',
    name: 'private_values',
    comment:
      'Private maps of named values (Autofill: names, phone numbers, addresses for forms), one row per value.',
    part: ['section', 'text not null', 'autofill.'],
    columns: [
      ['key', 'text not null', 'Name of the value as exported.'],
      ['value', 'text', 'The value as exported; lists and maps as JSON text.'],
    ],
    extra: false,
  },
];

const q = (text: string) => `'${text.replaceAll("'", "''")}'`;

const BOOKKEEPING: readonly Column[] = [
  ['account_id', '', 'The account (tiktok.accounts.account_id).'],
  ['record_key', '', 'Hash of the fields that identify the record (its natural key); stable across exports.'],
  ['occurrence', '', 'n-th identical record with this key in one export (1 for almost all rows).'],
  ['row_hash', '', 'Hash of the compared fields, to skip unchanged records without comparing every column.'],
];

const LINEAGE: readonly Column[] = [
  ['first_seen_at', '', 'When an import first stored this record.'],
  ['first_seen_run_id', '', 'The sync run that first stored this record.'],
  ['updated_at', '', 'When a later export last changed this record, if ever.'],
  ['updated_run_id', '', 'The sync run that last changed this record.'],
  [
    'removed_at',
    '',
    "Set when a later export of this section no longer contained the record (withdrawn, or past TikTok's retention); cleared if it comes back. Rows are never deleted.",
  ],
  ['removed_run_id', '', 'The sync run that marked the record removed.'],
];

function createTable(table: Table): string {
  const name = `${table.schema}.${table.name}`;
  const own = [...(table.part ? [table.part] : []), ...table.columns];
  const hasExtra = table.extra !== false;
  const lines = [
    'account_id bigint not null references tiktok_sync.accounts (account_id)',
    'record_key uuid not null',
    'occurrence integer not null default 1',
    'row_hash uuid not null',
    ...own.map(([column, type]) => `${column} ${type}`),
    ...(hasExtra ? ['extra jsonb'] : []),
    'first_seen_at timestamptz not null default now()',
    'first_seen_run_id bigint not null',
    'updated_at timestamptz',
    'updated_run_id bigint',
    'removed_at timestamptz',
    'removed_run_id bigint',
    'primary key (account_id, record_key, occurrence)',
  ];
  const comments: Column[] = [
    ...BOOKKEEPING,
    ...own,
    ...(hasExtra
      ? ([
          [
            'extra',
            '',
            'Fields of the record that this version does not model, and the original of any value that could not be read (its column is then null), as exported.',
          ],
        ] as Column[])
      : []),
    ...LINEAGE,
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

/** Columns that real exports leave empty: a date TikTok did not know, the name of a deleted account. */
const NULLABLE: readonly [table: string, column: string][] = [
  ['watch_history', 'watched_at'],
  ['likes', 'liked_at'],
  ['searches', 'searched_at'],
  ['shares', 'shared_at'],
  ['comments', 'commented_at'],
  ['logins', 'logged_in_at'],
  ['posts', 'posted_at'],
  ['dm_messages', 'sent_at'],
  ['followers', 'username'],
  ['following', 'username'],
  ['blocks', 'username'],
  ['live_comments', 'room_id'],
];

export async function up(db: Kysely<unknown>): Promise<void> {
  const nullable = NULLABLE.map(([t, c]) => `alter table tiktok.${t} alter column ${c} drop not null;`).join(
    '\n',
  );
  await sql
    .raw(`
    create schema tiktok_private;
    comment on schema tiktok_private is 'Data that analysts get only when asked for (grant-analyst --include-private): contact data, places, payment data, raw sections and refused records.';

    alter table tiktok.raw_sections set schema tiktok_private;
    comment on table tiktok_private.raw_sections is 'Sections of the export that have no table of their own, kept as JSON: one row per distinct content of a section. Private: a section never seen before may hold anything.';

    alter table tiktok.profile set schema tiktok_private;
    comment on table tiktok_private.profile is 'The user''s current profile (one row per account), as of the latest export, with its private fields (email, phone, birth date). Analysts read the view tiktok.profile.';
    create view tiktok.profile as
      select account_id, username, display_name, bio, likes_received, follower_count, following_count,
        profile_photo, profile_video, inferred_gender, account_region,
        first_seen_at, updated_at, removed_at
      from tiktok_private.profile;
    comment on view tiktok.profile is 'The user''s current profile (one row per account), as of the latest export, without email, phone and birth date (those are in tiktok_private.profile).';
    comment on column tiktok.profile.account_id is 'The account.';
    comment on column tiktok.profile.username is 'TikTok username (handle).';
    comment on column tiktok.profile.display_name is 'Display name.';
    comment on column tiktok.profile.bio is 'Bio text.';
    comment on column tiktok.profile.likes_received is 'Total likes received on the user''s videos.';
    comment on column tiktok.profile.follower_count is 'Number of followers.';
    comment on column tiktok.profile.following_count is 'Number of accounts followed.';
    comment on column tiktok.profile.profile_photo is 'Profile photo URL.';
    comment on column tiktok.profile.profile_video is 'Profile video URL.';
    comment on column tiktok.profile.inferred_gender is 'Gender TikTok inferred.';
    comment on column tiktok.profile.account_region is 'Account region (exports from 2026 on).';
    comment on column tiktok.profile.first_seen_at is 'When an import first stored the profile.';
    comment on column tiktok.profile.updated_at is 'When a later export last changed it.';
    comment on column tiktok.profile.removed_at is 'Set when the latest export of the section had no profile.';

    ${nullable}

    create table tiktok_private.refused_records (
      account_id bigint not null references tiktok_sync.accounts (account_id),
      content_hash uuid not null,
      target_table text not null,
      path text not null,
      content jsonb not null,
      reason text not null,
      first_seen_at timestamptz not null default now(),
      first_seen_run_id bigint not null,
      first_seen_archive_id bigint not null,
      primary key (account_id, content_hash)
    );
    comment on table tiktok_private.refused_records is 'Records of an export that could not be stored in their table because nothing identifies them (every field of their natural key empty or unreadable), kept whole instead of being dropped. Private: they may hold anything.';
    comment on column tiktok_private.refused_records.account_id is 'The account.';
    comment on column tiktok_private.refused_records.content_hash is 'MD5 of the table, path and content: the same record of a later export is kept once.';
    comment on column tiktok_private.refused_records.target_table is 'The table the record was meant for.';
    comment on column tiktok_private.refused_records.path is 'Where the record was in the export, e.g. Your Activity/Watch History/VideoList[12].';
    comment on column tiktok_private.refused_records.content is 'The record as exported.';
    comment on column tiktok_private.refused_records.reason is 'Why it was refused.';
    comment on column tiktok_private.refused_records.first_seen_at is 'When it was first refused.';
    comment on column tiktok_private.refused_records.first_seen_run_id is 'The run that first refused it.';
    comment on column tiktok_private.refused_records.first_seen_archive_id is 'The archive it first came from.';

    ${TABLES.map(createTable).join('\n\n')}
  `)
    .execute(db);
}
