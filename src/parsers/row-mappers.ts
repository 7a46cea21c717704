/**
 * Flat export records → table rows, shared by the JSON and TXT parsers: the field table of each
 * table (every era's key for each column) and the functions that build its rows.
 */
import { describeValue, JsonNumber, JsonObject, type JsonValue, toJsonText } from './json-tree.js';
import { type ParseContext, preview } from './parse-context.js';
import { FieldIndex, type RecordLoc, RecordReader } from './record-reader.js';
import type {
  CommentRow,
  DmMessageRow,
  FavoriteRow,
  HashtagRow,
  LikeRow,
  LiveCommentRow,
  LiveSessionRow,
  LoginRow,
  PostRow,
  ProfileRow,
  PurchaseRow,
  SearchRow,
  SettingRow,
  ShareRow,
  TableRows,
  UserListRow,
  WatchHistoryRow,
} from './records.js';
import { isIgnoredSectionKey, type ListTable } from './sections.js';
import {
  anyIdFromLink,
  effectIdFromLink,
  hashtagIdFromLink,
  isEmptyText,
  isIntegerText,
  normalizeBirthDate,
  normKey,
  soundIdFromLink,
  videoIdFromLink,
  videoIdFromMessage,
} from './values.js';

// Field tables. Aliases cover every era's spelling; normKey folds case, spaces and punctuation.

const DATE = ['Date', 'Time'];

const WATCH = new FieldIndex({
  date: [...DATE, 'WatchTime', 'Watched At'],
  link: ['Link', 'VideoLink', 'Video Link', 'Url'],
  title: ['Title', 'VideoTitle'],
});

const LIKE = new FieldIndex({
  date: [...DATE, 'LikeTime'],
  link: ['Link', 'VideoLink', 'Video Link', 'Url'],
});

const FAVORITE = new FieldIndex({
  date: [...DATE, 'FavoriteTime', 'CreateTime'],
  link: [
    'Link',
    'Url',
    'VideoLink',
    'SoundLink',
    'EffectLink',
    'HashtagLink',
    'PlaylistLink',
    'CollectionLink',
    'LocationLink',
    'CommentLink',
    'DramaLink',
  ],
  name: [
    'Name',
    'Title',
    'FavoriteCollection',
    'CollectionName',
    'HashtagName',
    'SoundName',
    'EffectName',
    'PlaylistName',
    'LocationName',
    'DramaName',
    'Comment',
    'Content',
  ],
});

const SEARCH = new FieldIndex({ date: DATE, term: ['SearchTerm', 'Term', 'Search', 'Query', 'Keyword'] });

const SHARE = new FieldIndex({
  date: DATE,
  content: ['SharedContent', 'Content'],
  link: ['Link', 'Url'],
  method: ['Method', 'ShareMethod'],
});

const COMMENT = new FieldIndex({
  date: [...DATE, 'CommentTime', 'CreateTime'],
  comment: ['Comment', 'CommentContent', 'Content', 'Text'],
  photo: ['Photo', 'Image'],
  video: ['Video'],
  sticker: ['Sticker'],
  url: ['url', 'Link'],
  originalPostUrl: ['originalPostUrl'],
  originalPostLink: ['original post link'],
});

const USER_LIST = new FieldIndex({ date: DATE, username: ['UserName', 'User', 'Name'] });

const LOGIN = new FieldIndex({
  date: DATE,
  ip: ['IP', 'IPAddress'],
  deviceModel: ['DeviceModel'],
  deviceSystem: ['DeviceSystem', 'OS'],
  networkType: ['NetworkType', 'Network'],
  carrier: ['Carrier'],
});

const POST = new FieldIndex({
  date: [...DATE, 'CreateTime', 'PostTime'],
  link: ['Link', 'VideoLink', 'MediaLink'],
  videoId: ['VideoId', 'ItemId', 'PostId'],
  title: ['Title', 'Caption', 'Description'],
  likes: ['Likes', 'Like(s)', 'LikeCount'],
  whoCanView: ['WhoCanView'],
  allowComments: ['AllowComments', 'AllowComment'],
  allowStitches: ['AllowStitches', 'AllowStitch'],
  allowDuets: ['AllowDuets', 'AllowDuet'],
  allowStickers: ['AllowStickers', 'AllowSticker'],
  allowSharingToStory: ['AllowSharingToStory'],
  contentDisclosure: ['ContentDisclosure'],
  aiGenerated: ['AIGeneratedContent', 'AIGenerated'],
  sound: ['Sound'],
  location: ['Location'],
  addYoursText: ['AddYoursText'],
  alternateText: ['AlternateText'],
  coverImage: ['CoverImage'],
});

const PURCHASE = new FieldIndex({
  date: [...DATE, 'CreateTime', 'TransactionTime', 'PurchaseTime', 'OrderTime'],
  amount: ['GiftAmount', 'Price', 'Amount', 'Coins', 'CoinAmount', 'Value', 'Total'],
  username: ['UserName', 'Recipient', 'ToUser'],
  type: ['Type', 'TransactionType'],
});

const HASHTAG = new FieldIndex({ name: ['HashtagName', 'Name', 'Hashtag'], link: ['HashtagLink', 'Link'] });

const LIVE = new FieldIndex(
  {
    roomId: ['RoomId', 'Room'],
    start: ['LiveStartTime', 'StartTime', 'WatchTime'],
    end: ['LiveEndTime', 'EndTime'],
    duration: ['LiveDuration', 'Duration'],
    title: ['RoomTitle', 'Title'],
    link: ['ReplayUrl', 'ReplayLink', 'Link'],
    earning: ['TotalEarning', 'Earning', 'Earnings'],
    likes: ['TotalLike', 'TotalLikes'],
    views: ['TotalView', 'TotalViews'],
    gifters: ['TotalGifter', 'TotalGifters'],
    comments: ['Comments'],
  },
  ['CoverUri', 'QualitySetting', 'MutedList', 'Questions'],
);

const LIVE_COMMENT = new FieldIndex(
  { date: ['CommentTime', ...DATE], content: ['CommentContent', 'Content', 'Comment'] },
  ['RawTime'],
);

const MESSAGE = new FieldIndex({
  date: [...DATE, 'SentTime', 'CreateTime'],
  from: ['From', 'Sender', 'UserName'],
  content: ['Content', 'Message', 'Text'],
});

const TAKO = new FieldIndex({
  title: ['Chat Title', 'Title', 'Name'],
  messages: ['Messages', 'MessageList'],
});

const PROFILE = new FieldIndex(
  {
    username: ['userName', 'Username'],
    displayName: ['displayName', 'Nickname'],
    bio: ['bioDescription', 'Bio'],
    birthDate: ['birthDate', 'Date of Birth', 'Birthday'],
    email: ['emailAddress', 'Email'],
    phone: ['telephoneNumber', 'PhoneNumber', 'Phone'],
    likesReceived: ['likesReceived'],
    followerCount: ['followerCount', 'Followers'],
    followingCount: ['followingCount', 'Following'],
    profilePhoto: ['profilePhoto'],
    profileVideo: ['profileVideo'],
    inferredGender: ['inferredGender'],
    accountRegion: ['accountRegion', 'Region'],
  },
  ['instagramLink', 'youtubeLink', 'lemon8Link', 'twitterLink', 'aiSelf', 'PlatformInfo', 'fundraiser'],
);

/** Row of a list table from one record, or `null` to skip it (reported). */
export function mapListRecord(
  table: ListTable,
  part: string,
  r: RecordReader,
  rec: JsonObject,
  loc: RecordLoc,
): TableRows[ListTable] | null {
  switch (table) {
    case 'watch_history':
      return watchRow(r.load(rec, WATCH, loc));
    case 'likes':
      return likeRow(r.load(rec, LIKE, loc));
    case 'favorites':
      return favoriteRow(r.load(rec, FAVORITE, loc), part);
    case 'searches':
      return searchRow(r.load(rec, SEARCH, loc));
    case 'shares':
      return shareRow(r.load(rec, SHARE, loc));
    case 'comments':
      return commentRow(r.load(rec, COMMENT, loc));
    case 'followers':
    case 'following':
    case 'blocks':
      return userListRow(r.load(rec, USER_LIST, loc));
    case 'logins':
      return loginRow(r.load(rec, LOGIN, loc));
    case 'posts':
      return postRow(r.load(rec, POST, loc));
    case 'live_sessions':
      return liveSessionRow(r.load(rec, LIVE, loc), null).row;
    case 'purchases':
      return purchaseRow(r.load(rec, PURCHASE, loc));
    case 'hashtags':
      return hashtagRow(r.load(rec, HASHTAG, loc));
  }
}

function watchRow(r: RecordReader): WatchHistoryRow | null {
  const s = WATCH.slot;
  const watched_at = r.requiredTimestamp(s.date, 'a watched video');
  if (watched_at === undefined) return null;
  const link = r.text(s.link);
  return { watched_at, video_id: videoIdFromLink(link), link, title: r.text(s.title), extra: r.extra() };
}

function likeRow(r: RecordReader): LikeRow | null {
  const s = LIKE.slot;
  const liked_at = r.requiredTimestamp(s.date, 'a like');
  if (liked_at === undefined) return null;
  const link = r.text(s.link);
  return { liked_at, video_id: videoIdFromLink(link), link, extra: r.extra() };
}

function favoriteRow(r: RecordReader, kind: string): FavoriteRow {
  const s = FAVORITE.slot;
  const favorited_at = r.timestamp(s.date);
  const link = r.text(s.link);
  const item_id =
    kind === 'video'
      ? videoIdFromLink(link)
      : kind === 'sound'
        ? soundIdFromLink(link)
        : kind === 'effect'
          ? effectIdFromLink(link)
          : kind === 'hashtag'
            ? hashtagIdFromLink(link)
            : anyIdFromLink(link);
  return { favorited_at, item_id, link, name: r.text(s.name), extra: r.extra() };
}

function searchRow(r: RecordReader): SearchRow | null {
  const s = SEARCH.slot;
  const searched_at = r.requiredTimestamp(s.date, 'a search');
  if (searched_at === undefined) return null;
  return { searched_at, term: r.text(s.term), extra: r.extra() };
}

function shareRow(r: RecordReader): ShareRow | null {
  const s = SHARE.slot;
  const shared_at = r.requiredTimestamp(s.date, 'a share');
  if (shared_at === undefined) return null;
  const link = r.text(s.link);
  return {
    shared_at,
    shared_content: r.text(s.content),
    link,
    method: r.text(s.method),
    video_id: videoIdFromLink(link),
    extra: r.extra(),
  };
}

function commentRow(r: RecordReader): CommentRow | null {
  const s = COMMENT.slot;
  const commented_at = r.requiredTimestamp(s.date, 'a comment');
  if (commented_at === undefined) return null;
  // 2026 writes the same link under several keys; the first non-empty one is the column.
  let url: string | null = null;
  for (const slot of [s.url, s.originalPostUrl, s.originalPostLink]) {
    const v = r.text(slot);
    if (url === null) url = v;
    else if (v !== null && v !== url) r.keepInExtra(slot);
  }
  return {
    commented_at,
    comment: r.text(s.comment),
    photo: r.text(s.photo),
    video: r.text(s.video),
    sticker: r.text(s.sticker),
    url,
    video_id: videoIdFromLink(url),
    extra: r.extra(),
  };
}

function userListRow(r: RecordReader): UserListRow | null {
  const s = USER_LIST.slot;
  const at = r.timestamp(s.date);
  const username = r.text(s.username);
  if (username === null) {
    // Without a username the row has no key; report it instead of inventing one.
    const path = r.where();
    r.cx.warn('bad_value', `Skipped an entry without a username at \`${path}\` in \`${r.cx.member}\`.`, path);
    return null;
  }
  return { at, username, extra: r.extra() };
}

function loginRow(r: RecordReader): LoginRow | null {
  const s = LOGIN.slot;
  const logged_in_at = r.requiredTimestamp(s.date, 'a login');
  if (logged_in_at === undefined) return null;
  return {
    logged_in_at,
    ip: r.text(s.ip),
    device_model: r.text(s.deviceModel),
    device_system: r.text(s.deviceSystem),
    network_type: r.text(s.networkType),
    carrier: r.text(s.carrier),
    extra: r.extra(),
  };
}

function postRow(r: RecordReader): PostRow | null {
  const s = POST.slot;
  const posted_at = r.requiredTimestamp(s.date, 'a post');
  if (posted_at === undefined) return null;
  const link = r.text(s.link);
  return {
    posted_at,
    link,
    video_id: r.int(s.videoId) ?? videoIdFromLink(link),
    title: r.text(s.title),
    likes: r.int(s.likes),
    who_can_view: r.text(s.whoCanView),
    allow_comments: r.text(s.allowComments),
    allow_stitches: r.text(s.allowStitches),
    allow_duets: r.text(s.allowDuets),
    allow_stickers: r.text(s.allowStickers),
    allow_sharing_to_story: r.text(s.allowSharingToStory),
    content_disclosure: r.text(s.contentDisclosure),
    ai_generated_content: r.text(s.aiGenerated),
    sound: r.text(s.sound),
    location: r.text(s.location),
    add_yours_text: r.text(s.addYoursText),
    alternate_text: r.text(s.alternateText),
    cover_image: r.text(s.coverImage),
    extra: r.extra(),
  };
}

function purchaseRow(r: RecordReader): PurchaseRow {
  const s = PURCHASE.slot;
  // The kind of wallet transaction has no column; it stays in `extra` without a warning.
  r.keepInExtra(s.type);
  return {
    purchased_at: r.timestamp(s.date),
    amount: r.text(s.amount),
    username: r.text(s.username),
    extra: r.extra(),
  };
}

function hashtagRow(r: RecordReader): HashtagRow {
  const s = HASHTAG.slot;
  return { name: r.text(s.name), link: r.text(s.link), extra: r.extra() };
}

/**
 * A LIVE session: a `GoLiveList` record, or a `WatchLiveMap` entry whose key is the room id.
 * Returns the entry's `Comments` list for {@link mapWatchLive}; without a room id to attach them to,
 * comments stay in `extra`.
 */
function liveSessionRow(
  r: RecordReader,
  roomKey: string | null,
): { row: LiveSessionRow; comments: JsonValue } {
  const s = LIVE.slot;
  const comments = r.value(s.comments) ?? null;
  if (comments !== null && !Array.isArray(comments)) {
    throw r.cx.wrongType('a list', describeValue(comments), r.fieldPath(s.comments));
  }
  const roomField = r.text(s.roomId);
  const row: LiveSessionRow = {
    room_id: roomKey ?? r.int(s.roomId),
    started_at: r.timestamp(s.start),
    ended_at: r.timestamp(s.end),
    duration: r.text(s.duration),
    title: r.text(s.title),
    link: r.text(s.link),
    total_earning: r.text(s.earning),
    total_likes: r.text(s.likes),
    total_views: r.text(s.views),
    total_gifters: r.text(s.gifters),
    extra: null,
  };
  if (roomKey !== null && roomField !== null && roomField !== roomKey) r.keepInExtra(s.roomId);
  if (roomKey === null && comments !== null) r.keepInExtra(s.comments);
  row.extra = r.extra();
  return { row, comments };
}

/** A `WatchLiveMap` entry → one session row and its comment rows. */
export function mapWatchLive(
  cx: ParseContext,
  r: RecordReader,
  roomId: string,
  entry: JsonObject,
  loc: RecordLoc,
): void {
  // The room id is the map's key, and it fills a bigint column: anything else is a damaged export.
  if (!isIntegerText(roomId))
    throw cx.wrongType('a room id (digits) as the key', `\`${preview(roomId)}\``, loc.where());
  const { row, comments } = liveSessionRow(r.load(entry, LIVE, loc), roomId);
  cx.record('live_sessions', 'watch_live', row);
  if (!Array.isArray(comments)) return;
  const inner = new RecordReader(cx);
  for (let i = 0; i < comments.length; i++) {
    const c = comments[i]!;
    const where = () => `${loc.where()}/Comments[${i}]`;
    if (c === null) continue;
    if (!(c instanceof JsonObject)) throw cx.wrongType('an object', describeValue(c), where());
    const cl: RecordLoc = { section: `${loc.section}/Comments`, where };
    inner.load(c, LIVE_COMMENT, cl);
    const s = LIVE_COMMENT.slot;
    const comment: LiveCommentRow = {
      room_id: roomId,
      commented_at: inner.timestamp(s.date),
      content: inner.text(s.content),
      extra: null,
    };
    comment.extra = inner.extra();
    cx.record('live_comments', '', comment);
  }
}

/** A DM message (`{Date, From, Content}`) of a conversation, or `null` when it has no date. */
export function mapMessage(
  r: RecordReader,
  conversation: string,
  rec: JsonObject,
  loc: RecordLoc,
): DmMessageRow | null {
  r.load(rec, MESSAGE, loc);
  const s = MESSAGE.slot;
  const sent_at = r.requiredTimestamp(s.date, 'a message');
  if (sent_at === undefined) return null;
  const content = r.text(s.content);
  return {
    conversation,
    sent_at,
    sender: r.text(s.from),
    content,
    video_id: videoIdFromMessage(content),
    extra: r.extra(),
  };
}

/** A `TakoChatHistoryList` entry → a conversation row and its message rows. */
export function mapTako(cx: ParseContext, r: RecordReader, entry: JsonObject, loc: RecordLoc): void {
  r.load(entry, TAKO, loc);
  const s = TAKO.slot;
  const title = r.text(s.title) ?? '';
  const messages = r.value(s.messages) ?? null;
  if (messages !== null && !Array.isArray(messages)) {
    throw cx.wrongType('a list', describeValue(messages), r.fieldPath(s.messages));
  }
  cx.record('dm_conversations', 'tako', { conversation: title, extra: r.extra() });
  if (messages === null) return;
  const inner = new RecordReader(cx);
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    const where = () => `${loc.where()}/Messages[${i}]`;
    if (m === null) continue;
    if (!(m instanceof JsonObject)) throw cx.wrongType('an object', describeValue(m), where());
    const row = mapMessage(inner, title, m, { section: `${loc.section}/Messages`, where });
    if (row !== null) cx.record('dm_messages', 'tako', row);
  }
}

/** The `ProfileMap` → the one profile row. */
export function mapProfile(cx: ParseContext, r: RecordReader, rec: JsonObject, loc: RecordLoc): ProfileRow {
  r.load(rec, PROFILE, loc);
  const s = PROFILE.slot;
  const birthText = r.text(s.birthDate);
  let birth_date: string | null = null;
  if (birthText !== null) {
    birth_date = normalizeBirthDate(birthText) ?? null;
    if (birth_date === null) {
      const path = r.fieldPath(s.birthDate);
      cx.warn(
        'bad_value',
        `Expected a birth date like \`05-Jul-2001\` at \`${path}\` in \`${cx.member}\`, found \`${preview(birthText)}\`; it was kept in \`extra\`.`,
        path,
      );
      r.keepInExtra(s.birthDate);
    }
  }
  const row: ProfileRow = {
    username: r.text(s.username),
    display_name: r.text(s.displayName),
    bio: r.text(s.bio),
    birth_date,
    email: r.text(s.email),
    phone: r.text(s.phone),
    likes_received: r.int(s.likesReceived),
    follower_count: r.int(s.followerCount),
    following_count: r.int(s.followingCount),
    profile_photo: r.text(s.profilePhoto),
    profile_video: r.text(s.profileVideo),
    inferred_gender: r.text(s.inferredGender),
    account_region: r.text(s.accountRegion),
    extra: null,
  };
  row.extra = r.extra();
  return row;
}

/**
 * Settings map → one row per leaf. Nested objects join their keys with ` / `; lists (and objects
 * inside lists) become JSON text; a `SettingsMap` wrapper adds nothing to the key.
 */
export function mapSettings(cx: ParseContext, value: JsonValue, path: string): SettingRow[] {
  const rows: SettingRow[] = [];
  const clean = (s: string) => cx.clean(s, () => path);
  const walk = (v: JsonValue, key: string, top: boolean): void => {
    if (v instanceof JsonObject) {
      if (v.size === 0 && key !== '') {
        rows.push({ key, value: '{}' });
        return;
      }
      for (let i = 0; i < v.keys.length; i++) {
        const k = clean(v.keys[i]!);
        if (top && isIgnoredSectionKey(k)) continue;
        const transparent = top && normKey(k) === 'settingsmap';
        walk(v.values[i]!, transparent ? key : key === '' ? k : `${key} / ${k}`, transparent);
      }
      return;
    }
    if (key === '') {
      if (v !== null && !(Array.isArray(v) && v.length === 0)) {
        throw cx.wrongType('an object', describeValue(v), path);
      }
      return;
    }
    rows.push({ key, value: settingValue(v, clean) });
  };
  walk(value, '', true);
  return rows;
}

function settingValue(v: JsonValue, clean: (s: string) => string): string | null {
  if (v === null) return null;
  if (typeof v === 'string') {
    const s = clean(v);
    return isEmptyText(s) ? null : s;
  }
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v instanceof JsonNumber) return v.text;
  return toJsonText(v, clean);
}

/** Which purchase kind a TXT record is (TXT `Purchases.txt` mixes them): gifts name a recipient. */
export function purchasePartOf(rec: JsonObject): 'send_gift' | 'buy_gift' {
  for (const key of rec.keys) {
    const n = normKey(key);
    if (n === 'giftamount' || n === 'username' || n === 'recipient') return 'send_gift';
  }
  return 'buy_gift';
}
