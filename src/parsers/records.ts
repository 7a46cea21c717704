/**
 * What the parsers produce: a stream of {@link ParseEvent}s, one shape per target table, whatever the
 * export era (2021–23 `user_data.json`, late-2025 and 2026 `user_data_tiktok.json`) or format (JSON, TXT).
 *
 * Conventions for every row:
 * - Timestamps are ISO-8601 UTC strings (`2024-05-01T12:34:56Z`); export dates carry no zone or a
 *   trailing ` UTC`, and both mean UTC.
 * - TikTok ids and counts are decimal strings, never JS numbers (ids exceed 2^53).
 * - Empty leaf values (`""`, `"N/A"`, `"None"`, `null`) become `null`.
 * - Text has NUL characters removed (Postgres rejects `\u0000`); each removal is reported as a warning.
 * - `extra` holds the record's keys that we do not model, as JSON text with numbers kept exact, or
 *   `null` when there are none; unknown keys are also reported as warnings.
 */

/** ISO-8601 UTC timestamp string, e.g. `2024-05-01T12:34:56Z`. */
export type Timestamp = string;
/** Decimal digits, kept as text so that 19-digit ids survive exactly. */
export type Int64 = string;
/** JSON text (numbers written exactly as they appeared in the export). */
export type JsonText = string;

export interface WatchHistoryRow {
  watched_at: Timestamp;
  video_id: Int64 | null;
  link: string | null;
  title: string | null;
  extra: JsonText | null;
}

export interface LikeRow {
  liked_at: Timestamp;
  video_id: Int64 | null;
  link: string | null;
  extra: JsonText | null;
}

/** `favorites.part` is the favorite kind. */
export type FavoriteKind =
  | 'video'
  | 'sound'
  | 'hashtag'
  | 'effect'
  | 'collection'
  | 'comment'
  | 'location'
  | 'playlist'
  | 'movie_tv'
  | 'drama'
  | 'other';

export interface FavoriteRow {
  favorited_at: Timestamp | null;
  /** Id taken from the link (video, sound, effect, hashtag id) when it has one. */
  item_id: Int64 | null;
  link: string | null;
  /** A name or title when the kind has one (collection name, hashtag name…). */
  name: string | null;
  extra: JsonText | null;
}

export interface SearchRow {
  searched_at: Timestamp;
  term: string | null;
  extra: JsonText | null;
}

export interface ShareRow {
  shared_at: Timestamp;
  shared_content: string | null;
  link: string | null;
  method: string | null;
  video_id: Int64 | null;
  extra: JsonText | null;
}

export interface CommentRow {
  commented_at: Timestamp;
  comment: string | null;
  photo: string | null;
  video: string | null;
  sticker: string | null;
  /** `url`, `originalPostUrl` or `original post link`, whichever the era writes. */
  url: string | null;
  video_id: Int64 | null;
  extra: JsonText | null;
}

/** followers, following and blocks share this shape. */
export interface UserListRow {
  at: Timestamp | null;
  username: string;
  extra: JsonText | null;
}

export interface LoginRow {
  logged_in_at: Timestamp;
  ip: string | null;
  device_model: string | null;
  device_system: string | null;
  network_type: string | null;
  carrier: string | null;
  extra: JsonText | null;
}

/** `posts.part` is `posted` or `recently_deleted`. */
export interface PostRow {
  posted_at: Timestamp;
  /** Signed CDN URL(s); they change between exports. Photo posts join several with `\n`. */
  link: string | null;
  video_id: Int64 | null;
  title: string | null;
  likes: Int64 | null;
  who_can_view: string | null;
  allow_comments: string | null;
  allow_stitches: string | null;
  allow_duets: string | null;
  allow_stickers: string | null;
  allow_sharing_to_story: string | null;
  content_disclosure: string | null;
  ai_generated_content: string | null;
  sound: string | null;
  location: string | null;
  add_yours_text: string | null;
  alternate_text: string | null;
  cover_image: string | null;
  extra: JsonText | null;
}

/** One per export (the `ProfileMap`). */
export interface ProfileRow {
  username: string | null;
  display_name: string | null;
  bio: string | null;
  /** `YYYY-MM-DD`, converted from the export's `DD-Mon-YYYY`. */
  birth_date: string | null;
  email: string | null;
  phone: string | null;
  likes_received: Int64 | null;
  follower_count: Int64 | null;
  following_count: Int64 | null;
  profile_photo: string | null;
  profile_video: string | null;
  inferred_gender: string | null;
  account_region: string | null;
  /** Everything else in the ProfileMap (links to other platforms, PlatformInfo, aiSelf…). */
  extra: JsonText | null;
}

/** `dm_conversations.part` / `dm_messages.part` is `direct`, `group` or `tako`. */
export interface DmConversationRow {
  /** The peer's handle (`Chat History with <peer>:`), a group name, or a Tako chat title. */
  conversation: string;
  extra: JsonText | null;
}

export interface DmMessageRow {
  conversation: string;
  sent_at: Timestamp;
  sender: string | null;
  content: string | null;
  /** Id of a shared video when the content is a share link. */
  video_id: Int64 | null;
  extra: JsonText | null;
}

/** `live_sessions.part` is `go_live` or `watch_live`. */
export interface LiveSessionRow {
  room_id: Int64 | null;
  started_at: Timestamp | null;
  ended_at: Timestamp | null;
  duration: string | null;
  title: string | null;
  link: string | null;
  total_earning: string | null;
  total_likes: string | null;
  total_views: string | null;
  total_gifters: string | null;
  extra: JsonText | null;
}

export interface LiveCommentRow {
  room_id: Int64;
  commented_at: Timestamp | null;
  content: string | null;
  extra: JsonText | null;
}

/** `purchases.part` is `send_gift`, `buy_gift`, `wallet_transaction`, `coin_purchase` or `other`. */
export interface PurchaseRow {
  purchased_at: Timestamp | null;
  /** Price or gift amount as written in the export (may carry a currency). */
  amount: string | null;
  /** The recipient, for gifts. */
  username: string | null;
  extra: JsonText | null;
}

/** One per leaf of the settings maps; nested maps join their keys with ` / `. */
export interface SettingRow {
  key: string;
  /** Strings as they are; lists and objects as JSON text. */
  value: string | null;
}

export interface HashtagRow {
  name: string | null;
  link: string | null;
  extra: JsonText | null;
}

export interface TableRows {
  watch_history: WatchHistoryRow;
  likes: LikeRow;
  favorites: FavoriteRow;
  searches: SearchRow;
  shares: ShareRow;
  comments: CommentRow;
  followers: UserListRow;
  following: UserListRow;
  blocks: UserListRow;
  logins: LoginRow;
  posts: PostRow;
  profile: ProfileRow;
  dm_conversations: DmConversationRow;
  dm_messages: DmMessageRow;
  live_sessions: LiveSessionRow;
  live_comments: LiveCommentRow;
  purchases: PurchaseRow;
  settings: SettingRow;
  hashtags: HashtagRow;
}

export type TableName = keyof TableRows;

export const TABLE_NAMES = [
  'watch_history',
  'likes',
  'favorites',
  'searches',
  'shares',
  'comments',
  'followers',
  'following',
  'blocks',
  'logins',
  'posts',
  'profile',
  'dm_conversations',
  'dm_messages',
  'live_sessions',
  'live_comments',
  'purchases',
  'settings',
  'hashtags',
] as const satisfies readonly TableName[];

/**
 * A section of the export was present (even when empty: `null`, `[]`, `{}`). The loader only marks
 * rows as removed in (table, part) pairs that the export announced this way, so categories absent
 * from an export are left alone.
 */
export interface SectionEvent {
  kind: 'section';
  table: TableName;
  /** Sub-kind within the table (favorite kind, DM kind, live kind…); `''` when the table has none. */
  part: string;
  /** Where it was found, e.g. `Your Activity/Watch History` or `Activity/Browsing History.txt`. */
  path: string;
}

export type RecordEvent = {
  [T in TableName]: { kind: 'record'; table: T; part: string; row: TableRows[T] };
}[TableName];

/** An unmodeled section kept as JSON (one per archive and section path). */
export interface RawEvent {
  kind: 'raw';
  /** e.g. `Ads and data/Off TikTok Activity` or `TikTok Shopping/Order History.txt`. */
  path: string;
  json: JsonText;
}

/** Something odd but survivable: an unknown key or section, a stripped NUL, an unparseable leaf. */
export interface WarningEvent {
  kind: 'warning';
  code: 'unknown_section' | 'unknown_key' | 'nul_stripped' | 'bad_value' | 'unknown_member' | string;
  message: string;
  path: string;
}

export type ParseEvent = SectionEvent | RecordEvent | RawEvent | WarningEvent;

/** What format detection found. */
export interface ArchiveInfo {
  format: 'json' | 'txt';
  /** `2021-2023`, `2025`, `2026`, or `unknown`. */
  era: string;
}
