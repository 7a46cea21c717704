import type { TableName } from '../parsers/records.js';

/**
 * How each parsed row lands in its table: which columns, of what type, and which of them form the
 * record's natural key. The merge (see merge.ts) is generated from this one description, so every
 * table follows the same de-duplication rules. The DDL lives in migrations/; a test checks that the
 * two agree.
 */

export type ColumnType = 'text' | 'timestamptz' | 'bigint' | 'date' | 'jsonb';

export interface ColumnSpec {
  /** Column in the table. */
  readonly name: string;
  /** Field of the parsed row (records.ts) that fills it. */
  readonly field: string;
  readonly type: ColumnType;
}

export interface TableSpec {
  readonly table: TableName;
  /** The column that holds `RecordEvent.part` (favorite kind, DM kind…), if the table has parts. */
  readonly partColumn: string | undefined;
  readonly columns: readonly ColumnSpec[];
  /**
   * SQL expressions over the staged (text) columns that identify a record. Two records with equal
   * keys in one export are told apart by their occurrence number.
   */
  readonly key: readonly string[];
  /** Columns stored but not compared: a new value alone is not a change (e.g. signed, expiring URLs). */
  readonly volatile: readonly string[];
}

const text = (name: string, field = name): ColumnSpec => ({ name, field, type: 'text' });
const ts = (name: string, field = name): ColumnSpec => ({ name, field, type: 'timestamptz' });
const int = (name: string, field = name): ColumnSpec => ({ name, field, type: 'bigint' });
const extra: ColumnSpec = { name: 'extra', field: 'extra', type: 'jsonb' };

function spec(
  table: TableName,
  columns: ColumnSpec[],
  key: string[],
  options: { part?: string; volatile?: string[] } = {},
): TableSpec {
  return { table, partColumn: options.part, columns, key, volatile: options.volatile ?? [] };
}

/** A video is identified by its id when the link names one, else by the link itself. */
const VIDEO = 'coalesce(video_id, link)';

export const TABLE_SPECS: Readonly<Record<TableName, TableSpec>> = {
  watch_history: spec(
    'watch_history',
    [ts('watched_at'), int('video_id'), text('link'), text('title'), extra],
    ['watched_at', VIDEO],
  ),
  likes: spec('likes', [ts('liked_at'), int('video_id'), text('link'), extra], ['liked_at', VIDEO]),
  favorites: spec(
    'favorites',
    [ts('favorited_at'), int('item_id'), text('link'), text('name'), extra],
    ['coalesce(item_id, link, name)'],
    { part: 'kind' },
  ),
  searches: spec('searches', [ts('searched_at'), text('term'), extra], ['searched_at', 'term']),
  shares: spec(
    'shares',
    [ts('shared_at'), text('shared_content'), text('link'), text('method'), int('video_id'), extra],
    ['shared_at', 'shared_content', 'link', 'method'],
  ),
  comments: spec(
    'comments',
    [
      ts('commented_at'),
      text('comment'),
      text('photo'),
      text('video'),
      text('sticker'),
      text('url'),
      int('video_id'),
      extra,
    ],
    ['commented_at', 'comment', 'url'],
  ),
  followers: spec('followers', [text('username'), ts('followed_at', 'at'), extra], ['username']),
  following: spec('following', [text('username'), ts('followed_at', 'at'), extra], ['username']),
  blocks: spec('blocks', [text('username'), ts('blocked_at', 'at'), extra], ['username']),
  logins: spec(
    'logins',
    [
      ts('logged_in_at'),
      text('ip'),
      text('device_model'),
      text('device_system'),
      text('network_type'),
      text('carrier'),
      extra,
    ],
    ['logged_in_at', 'ip', 'device_model', 'device_system', 'network_type', 'carrier'],
  ),
  posts: spec(
    'posts',
    [
      ts('posted_at'),
      text('link'),
      int('video_id'),
      text('title'),
      int('likes'),
      text('who_can_view'),
      text('allow_comments'),
      text('allow_stitches'),
      text('allow_duets'),
      text('allow_stickers'),
      text('allow_sharing_to_story'),
      text('content_disclosure'),
      text('ai_generated_content'),
      text('sound'),
      text('location'),
      text('add_yours_text'),
      text('alternate_text'),
      text('cover_image'),
      extra,
    ],
    ['posted_at'],
    { part: 'status', volatile: ['link', 'cover_image'] },
  ),
  profile: spec(
    'profile',
    [
      text('username'),
      text('display_name'),
      text('bio'),
      { name: 'birth_date', field: 'birth_date', type: 'date' },
      text('email'),
      text('phone'),
      int('likes_received'),
      int('follower_count'),
      int('following_count'),
      text('profile_photo'),
      text('profile_video'),
      text('inferred_gender'),
      text('account_region'),
      extra,
    ],
    // One profile per account: a constant key.
    ["'profile'"],
    { volatile: ['profile_photo', 'profile_video'] },
  ),
  dm_conversations: spec('dm_conversations', [text('conversation'), extra], ['conversation'], {
    part: 'kind',
  }),
  dm_messages: spec(
    'dm_messages',
    [text('conversation'), ts('sent_at'), text('sender'), text('content'), int('video_id'), extra],
    ['conversation', 'sent_at', 'sender', 'content'],
    { part: 'kind' },
  ),
  live_sessions: spec(
    'live_sessions',
    [
      int('room_id'),
      ts('started_at'),
      ts('ended_at'),
      text('duration'),
      text('title'),
      text('link'),
      text('total_earning'),
      text('total_likes'),
      text('total_views'),
      text('total_gifters'),
      extra,
    ],
    ['room_id', 'started_at'],
    { part: 'kind' },
  ),
  live_comments: spec(
    'live_comments',
    [int('room_id'), ts('commented_at'), text('content'), extra],
    ['room_id', 'commented_at', 'content'],
  ),
  purchases: spec(
    'purchases',
    [ts('purchased_at'), text('amount'), text('username'), extra],
    ['purchased_at', 'amount', 'username'],
    { part: 'kind' },
  ),
  settings: spec('settings', [text('key'), text('value')], ['key']),
  hashtags: spec('hashtags', [text('name'), text('link'), extra], ['name', 'link']),
};

export const stageTable = (table: TableName | 'raw') => `pg_temp.stage_${table}`;

/**
 * An exact, immutable hash of text expressions: each value is length-prefixed (so no separator can
 * be forged by the data) and null is told apart from the empty string. Immutable, so Postgres can
 * compute it in a generated column while COPY loads the staging table.
 */
export function hashExpression(expressions: readonly string[]): string {
  const fields = expressions.map((e) => `coalesce(length(${e})::text || ':' || ${e}, '-')`);
  return `md5(${fields.join(` || ',' || `)})::uuid`;
}

/** Columns compared to decide whether a stored record changed. */
export function comparedColumns(spec: TableSpec): string[] {
  return spec.columns.map((c) => c.name).filter((name) => !spec.volatile.includes(name));
}

/**
 * The staging table of a spec: every field as text (COPY's cheapest input), plus the record key and
 * row hash computed by Postgres as rows arrive, and the occurrence number (fixed up after loading
 * for the rare keys that appear more than once).
 */
export function stageDdl(spec: TableSpec): string {
  const own = [...(spec.partColumn ? ['part'] : []), ...spec.columns.map((c) => c.name)];
  const key = hashExpression([...(spec.partColumn ? ['part'] : []), ...spec.key]);
  const row = hashExpression(comparedColumns(spec));
  return `create temp table stage_${spec.table} (
    ${own.map((c) => `${c} text`).join(', ')},
    record_key uuid generated always as (${key}) stored,
    row_hash uuid generated always as (${row}) stored,
    occurrence integer not null default 1
  ) on commit drop`;
}
