/**
 * The one table of export sections across eras: which JSON key paths (2021–23 `user_data.json`,
 * late-2025 and 2026 `user_data_tiktok.json`) and which TXT files feed which table and part.
 *
 * JSON is `category / section / container`; keys are compared with {@link normKey} (case, spaces and
 * punctuation ignored). Sections are looked up by their own name whatever category holds them, so a
 * section that moves to another category (as Follower did: `Activity` → `Your Activity` →
 * `Profile And Settings`) or a member that holds one category's sections at its top level is still
 * read. TXT files are looked up by the same section names (`Browsing History.txt`, `Post.txt`…).
 */
import type { TableName } from './records.js';
import { normKey } from './values.js';

/** Tables whose rows come one per flat record of a list. */
export type ListTable =
  | 'watch_history'
  | 'likes'
  | 'favorites'
  | 'searches'
  | 'shares'
  | 'comments'
  | 'followers'
  | 'following'
  | 'blocks'
  | 'logins'
  | 'posts'
  | 'live_sessions'
  | 'purchases'
  | 'hashtags';

/** What a container holds and how to read it. `lenient`: the shape is unverified, so a surprise is kept raw. */
export type Target =
  | { kind: 'records'; table: ListTable; part: string; lenient?: boolean }
  /** `{ "Chat History with <peer>:": [ {Date, From, Content} ] }`. */
  | { kind: 'chats'; part: 'direct' | 'group'; lenient?: boolean }
  /** `[ { "Chat Title", "Messages": [ {Date, Content} ] } ]`. */
  | { kind: 'tako' }
  /** `{ "<room id>": { WatchTime, Link, Comments: [...] } }`. */
  | { kind: 'watch_live' }
  /** The `ProfileMap` object. */
  | { kind: 'profile' };

/** A step below a section: either a container (target) or more keys (e.g. `SendGifts/SendGifts`). */
export interface ContainerNode {
  readonly target?: Target;
  readonly children?: ReadonlyMap<string, ContainerNode>;
}

export type SectionContent =
  /** Unmodeled: the whole section becomes one `raw` event. */
  | { kind: 'raw' }
  /** Every leaf becomes a `settings` row (`SettingsMap` itself is transparent). */
  | { kind: 'settings' }
  | {
      kind: 'containers';
      containers: ReadonlyMap<string, ContainerNode>;
      /** Used for a list under an unexpected key, where the container name is unverified. */
      anyList?: Target;
    };

export interface SectionDef {
  readonly id: string;
  /** Names as TikTok writes them (JSON section keys and TXT file names without `.txt`). */
  readonly names: readonly string[];
  readonly content: SectionContent;
  /** The (table, part) pairs a present section vouches for, even when it is empty. */
  readonly announces: readonly { table: TableName; part: string }[];
}

type ContainerSpec = Target | { readonly [aliases: string]: ContainerSpec };

interface SectionSpec {
  id: string;
  /** Where TikTok put it, old → new (documentation; lookups do not depend on it). */
  categories: readonly string[];
  names: readonly string[];
  raw?: true;
  settings?: true;
  /** Container key aliases joined with `|`, mapped to a target or to deeper keys. */
  containers?: { readonly [aliases: string]: ContainerSpec };
  anyList?: Target;
}

const rec = (table: ListTable, part = '', lenient = false): Target => ({
  kind: 'records',
  table,
  part,
  lenient,
});
const fav = (part: string, lenient = false): Target => rec('favorites', part, lenient);

const ACTIVITY = ['Activity', 'Your Activity'];
const FAVORITES = ['Activity', 'Your Activity', 'Likes and Favorites'];
const SHOP = ['Tiktok Shopping', 'TikTok Shop'];
const LIVE = ['Tiktok Live', 'TikTok Live'];

const SPECS: readonly SectionSpec[] = [
  // Activity → Your Activity
  {
    id: 'watch_history',
    categories: ACTIVITY,
    names: ['Video Browsing History', 'Watch History', 'Browsing History'],
    containers: { 'VideoList|Video List': rec('watch_history') },
  },
  {
    id: 'likes',
    categories: FAVORITES,
    names: ['Like List', 'Likes', 'Liked Videos'],
    containers: { 'ItemFavoriteList|LikeList|ItemLikeList': rec('likes') },
  },
  {
    id: 'favorite_videos',
    categories: FAVORITES,
    names: ['Favorite Videos', 'Favorite Video'],
    containers: { 'FavoriteVideoList|FavoriteVideosList': fav('video') },
    anyList: fav('video', true),
  },
  {
    id: 'favorite_sounds',
    categories: FAVORITES,
    names: ['Favorite Sounds', 'Favorite Sound'],
    containers: { 'FavoriteSoundList|FavoriteSoundsList': fav('sound') },
    anyList: fav('sound', true),
  },
  {
    id: 'favorite_hashtags',
    categories: FAVORITES,
    names: ['Favorite Hashtags', 'Favorite Hashtag'],
    containers: { 'FavoriteHashtagList|FavoriteHashtagsList': fav('hashtag') },
    anyList: fav('hashtag', true),
  },
  {
    id: 'favorite_effects',
    categories: FAVORITES,
    names: ['Favorite Effects', 'Favorite Effect'],
    containers: { 'FavoriteEffectsList|FavoriteEffectList': fav('effect') },
    anyList: fav('effect', true),
  },
  {
    id: 'favorite_collections',
    categories: ['Your Activity', 'Likes and Favorites'],
    names: ['Favorite Collection', 'Favorite Collections', 'Collection', 'Collections'],
    containers: { 'FavoriteCollectionList|FavoriteCollectionsList|CollectionList': fav('collection', true) },
    anyList: fav('collection', true),
  },
  {
    id: 'favorite_comments',
    categories: ['Likes and Favorites'],
    names: ['Favorite Comment', 'Favorite Comments'],
    containers: { 'FavoriteCommentList|FavoriteCommentsList': fav('comment', true) },
    anyList: fav('comment', true),
  },
  {
    id: 'favorite_locations',
    categories: ['Likes and Favorites'],
    names: ['Favorite Location', 'Favorite Locations', 'Favorite Places'],
    containers: { 'FavoriteLocationList|FavoriteLocationsList': fav('location', true) },
    anyList: fav('location', true),
  },
  {
    id: 'favorite_playlists',
    categories: ['Likes and Favorites'],
    names: ['Favorite Playlists', 'Favorite Playlist'],
    containers: { 'FavoritePlaylistList|FavoritePlaylistsList': fav('playlist', true) },
    anyList: fav('playlist', true),
  },
  {
    id: 'favorite_movies_tv',
    categories: ['Likes and Favorites'],
    names: [
      'Favorite Movies and TV',
      'Favorite Movies & TV',
      'Favorite Movies and TV Shows',
      'Favorite Movies',
    ],
    containers: { 'FavoriteMoviesAndTVList|FavoriteMovieList|FavoriteMoviesList': fav('movie_tv', true) },
    anyList: fav('movie_tv', true),
  },
  {
    id: 'favorite_drama',
    categories: ['Likes and Favorites'],
    names: ['Favorite Drama', 'Favorite Dramas', 'Favorite Mini Drama', 'Favorite Mini Dramas'],
    containers: { 'FavoriteDramaList|FavoriteDramasList': fav('drama', true) },
    anyList: fav('drama', true),
  },
  {
    id: 'searches',
    categories: ACTIVITY,
    names: ['Search History', 'Searches'],
    containers: { 'SearchList|SearchHistoryList': rec('searches') },
  },
  {
    id: 'shares',
    categories: ACTIVITY,
    names: ['Share History', 'Shares'],
    containers: { 'ShareHistoryList|ShareList': rec('shares') },
  },
  {
    id: 'logins',
    categories: ACTIVITY,
    names: ['Login History', 'Logins'],
    containers: { 'LoginHistoryList|LoginList': rec('logins') },
  },
  {
    id: 'hashtags',
    categories: ACTIVITY,
    names: ['Hashtag', 'Hashtags'],
    containers: { 'HashtagList|HashTagList': rec('hashtags') },
  },
  {
    id: 'purchases',
    categories: ACTIVITY,
    names: ['Purchase History', 'Purchases'],
    containers: {
      'SendGifts|SendGift|SentGifts': { 'SendGifts|SendGift|SentGifts': rec('purchases', 'send_gift') },
      'BuyGifts|BuyGift|BoughtGifts': { 'BuyGifts|BuyGift|BoughtGifts': rec('purchases', 'buy_gift') },
    },
  },
  {
    id: 'followers',
    categories: ['Activity', 'Your Activity', 'Profile And Settings'],
    names: ['Follower List', 'Follower', 'Followers'],
    containers: { 'FansList|FollowerList|Followers': rec('followers') },
  },
  {
    id: 'following',
    categories: ['Activity', 'Your Activity', 'Profile And Settings'],
    names: ['Following List', 'Following'],
    containers: { 'Following|FollowingList': rec('following') },
  },
  // Unmodeled Activity sections.
  { id: 'status', categories: ACTIVITY, names: ['Status'], raw: true },
  { id: 'location_data', categories: ACTIVITY, names: ['Most Recent Location Data'], raw: true },
  { id: 'activity_summary', categories: ['Your Activity'], names: ['Activity Summary'], raw: true },
  { id: 'reposts', categories: ['Your Activity'], names: ['Reposts', 'Repost'], raw: true },
  { id: 'ads_visits', categories: ['Your Activity'], names: ['Ads Visit History'], raw: true },
  { id: 'donation', categories: ['Your Activity'], names: ['Donation', 'Donations'], raw: true },
  { id: 'fundraiser', categories: ['Your Activity'], names: ['Fundraiser', 'Fundraisers'], raw: true },
  { id: 'stickers', categories: ['Your Activity'], names: ['Stickers'], raw: true },
  { id: 'mini_drama', categories: ['Your Activity'], names: ['Mini Drama Watch History'], raw: true },
  // Ads and data (2026: also under Your Activity / Profile And Settings).
  {
    id: 'off_tiktok',
    categories: ['Ads and data', 'Your Activity', 'Profile And Settings'],
    names: ['Off TikTok Activity'],
    raw: true,
  },
  { id: 'ad_interests', categories: ['Ads and data', 'Your Activity'], names: ['Ad Interests'], raw: true },
  {
    id: 'partner_ads',
    categories: ['Ads and data'],
    names: ['Ads Based On Data Received From Partners'],
    raw: true,
  },
  {
    id: 'third_party_usage',
    categories: ['Ads and data'],
    names: ['Usage Data From Third-Party Apps And Websites'],
    raw: true,
  },
  {
    id: 'instant_form_ads',
    categories: ['Ads and data', 'Your Activity'],
    names: ['Instant Form Ads Responses'],
    raw: true,
  },
  // Comments.
  {
    id: 'comments',
    categories: ['Comment', 'Activity'],
    names: ['Comments', 'Comment History'],
    containers: { 'CommentsList|CommentList': rec('comments') },
  },
  // Posts: Video/Videos → Post/Posts.
  {
    id: 'posts',
    categories: ['Video', 'Post'],
    names: ['Videos', 'Posts', 'Post'],
    containers: { 'VideoList|PostList|PostsList': rec('posts', 'posted') },
  },
  {
    id: 'recently_deleted',
    categories: ['Video', 'Post'],
    names: ['Recently Deleted Posts', 'Recently Deleted Videos', 'Recently Deleted'],
    containers: { 'PostList|VideoList|PostsList': rec('posts', 'recently_deleted') },
  },
  // Profile → Profile And Settings.
  {
    id: 'profile',
    categories: ['Profile', 'Profile And Settings'],
    names: ['Profile Information', 'Profile Info'],
    containers: { 'ProfileMap|Profile Map': { kind: 'profile' } },
  },
  {
    id: 'autofill',
    categories: ['Profile', 'Profile And Settings'],
    names: ['Autofill', 'Auto Fill'],
    raw: true,
  },
  {
    id: 'ai_moji',
    categories: ['Profile', 'Profile And Settings'],
    names: ['AI-Moji', 'AI Moji'],
    raw: true,
  },
  {
    id: 'ai_self',
    categories: ['Profile', 'Profile And Settings'],
    names: ['AISelfImage', 'AI Self Image', 'AI Self'],
    raw: true,
  },
  {
    id: 'profile_views',
    categories: ['Profile And Settings'],
    names: ['ProfileViews', 'Profile Views'],
    raw: true,
  },
  { id: 'stories', categories: ['Post'], names: ['Story', 'Stories'], raw: true },
  // App Settings → Profile And Settings.
  {
    id: 'settings',
    categories: ['App Settings', 'Profile And Settings'],
    names: ['Settings'],
    settings: true,
  },
  {
    id: 'third_party_platforms',
    categories: ['App Settings'],
    names: ['UserThirdPlatformInformation', 'User Third Platform Information'],
    raw: true,
  },
  {
    id: 'blocks',
    categories: ['App Settings', 'Profile And Settings'],
    names: ['Block', 'Block List', 'Blocked Users'],
    containers: { 'BlockList|Block List': rec('blocks') },
  },
  // Direct Messages → Direct Message.
  {
    id: 'direct_messages',
    categories: ['Direct Messages', 'Direct Message'],
    names: ['Chat History', 'Direct Messages'],
    containers: { ChatHistory: { kind: 'chats', part: 'direct' } },
  },
  {
    id: 'group_chats',
    categories: ['Direct Message'],
    names: ['Group Chat', 'Group Chats', 'Group Chat History'],
    containers: { 'GroupChat|GroupChats|GroupChatHistory': { kind: 'chats', part: 'group', lenient: true } },
  },
  {
    id: 'tako',
    categories: ['Direct Message'],
    names: ['Tako Chat History', 'Tako Chat'],
    containers: { 'TakoChatHistoryList|TakoChatHistory|TakoChatList': { kind: 'tako' } },
  },
  // TikTok LIVE.
  {
    id: 'go_live',
    categories: LIVE,
    names: ['Go Live History'],
    containers: { 'GoLiveList|GoLiveHistoryList': rec('live_sessions', 'go_live') },
  },
  {
    id: 'watch_live',
    categories: LIVE,
    names: ['Watch Live History'],
    containers: { 'WatchLiveMap|WatchLiveHistoryMap': { kind: 'watch_live' } },
  },
  { id: 'go_live_settings', categories: LIVE, names: ['Go Live Settings'], raw: true },
  { id: 'watch_live_settings', categories: LIVE, names: ['Watch Live Settings'], raw: true },
  // Income+ Wallet.
  {
    id: 'wallet_transactions',
    categories: ['Income Plus Wallet Transactions', 'Income+ Wallet'],
    names: ['Transaction History', 'Transactions'],
    containers: {
      'TransactionsList|TransactionList|TransactionHistoryList': rec('purchases', 'wallet_transaction'),
    },
    anyList: rec('purchases', 'wallet_transaction', true),
  },
  {
    id: 'coin_purchases',
    categories: ['Income+ Wallet'],
    names: ['Coin Purchase History', 'Coin Purchases'],
    containers: {
      'CoinPurchaseList|CoinPurchaseHistoryList|CoinPurchasesList': rec('purchases', 'coin_purchase'),
    },
    anyList: rec('purchases', 'coin_purchase', true),
  },
  // Location reviews.
  {
    id: 'location_reviews',
    categories: ['Activity', 'Location Review'],
    names: ['Location Reviews', 'POI Review', 'POI Reviews', 'Location Review'],
    raw: true,
  },
  // TikTok Shopping → TikTok Shop: every section is kept raw.
  ...[
    'Communication With Shops',
    'Communication History',
    'Order History',
    'Product Browsing History',
    'Shopping Cart List',
    'Vouchers',
    'Saved Address Information',
    'Product Reviews',
    'Current Payment Information',
    'Customer Support History',
    'Order Dispute History',
    'Returns and Refunds History',
    'Return and Refund History',
    'Product Review History',
    'TikTokFavoriteItem',
  ].map((name): SectionSpec => ({ id: `shop_${normKey(name)}`, categories: SHOP, names: [name], raw: true })),
];

/** Categories (top-level keys) and the eras that use exactly that spelling (compared with {@link normKey}). */
export const CATEGORIES: readonly { name: string; eras: readonly Era[] }[] = [
  { name: 'Activity', eras: ['2021-2023'] },
  { name: 'Your Activity', eras: ['2025', '2026'] },
  { name: 'Likes and Favorites', eras: ['2026'] },
  { name: 'Ads and data', eras: ['2021-2023', '2025'] },
  { name: 'App Settings', eras: ['2021-2023', '2025'] },
  { name: 'Profile', eras: ['2021-2023', '2025'] },
  { name: 'Profile And Settings', eras: ['2026'] },
  { name: 'Comment', eras: ['2021-2023', '2025', '2026'] },
  { name: 'Direct Messages', eras: ['2021-2023'] },
  { name: 'Direct Message', eras: ['2025', '2026'] },
  { name: 'Video', eras: ['2021-2023'] },
  { name: 'Post', eras: ['2025', '2026'] },
  { name: 'Tiktok Live', eras: ['2021-2023', '2025', '2026'] },
  { name: 'Tiktok Shopping', eras: ['2021-2023'] },
  { name: 'TikTok Shop', eras: ['2025', '2026'] },
  { name: 'Income Plus Wallet Transactions', eras: ['2025'] },
  { name: 'Income+ Wallet', eras: ['2026'] },
  { name: 'Location Review', eras: ['2025', '2026'] },
];

export type Era = '2021-2023' | '2025' | '2026';

/** Section-level siblings of a container that carry no records (`"App": 1`, `"IsFastLane": false`). */
const IGNORED_SECTION_KEYS = new Set(['app', 'isfastlane']);

function buildContainers(spec: { readonly [aliases: string]: ContainerSpec }): Map<string, ContainerNode> {
  const map = new Map<string, ContainerNode>();
  for (const [aliases, value] of Object.entries(spec)) {
    const node: ContainerNode =
      'kind' in value && typeof value.kind === 'string'
        ? { target: value as Target }
        : { children: buildContainers(value as { readonly [aliases: string]: ContainerSpec }) };
    for (const alias of aliases.split('|')) map.set(normKey(alias), node);
  }
  return map;
}

function collectTargets(nodes: Iterable<ContainerNode>, out: Target[]): Target[] {
  for (const node of nodes) {
    if (node.target !== undefined && !out.includes(node.target)) out.push(node.target);
    if (node.children !== undefined) collectTargets(node.children.values(), out);
  }
  return out;
}

/** The (table, part) pairs a target fills. */
export function targetTables(target: Target): { table: TableName; part: string }[] {
  switch (target.kind) {
    case 'records':
      return [{ table: target.table, part: target.part }];
    case 'chats':
      return [
        { table: 'dm_conversations', part: target.part },
        { table: 'dm_messages', part: target.part },
      ];
    case 'tako':
      return [
        { table: 'dm_conversations', part: 'tako' },
        { table: 'dm_messages', part: 'tako' },
      ];
    case 'watch_live':
      return [
        { table: 'live_sessions', part: 'watch_live' },
        { table: 'live_comments', part: '' },
      ];
    case 'profile':
      return [{ table: 'profile', part: '' }];
  }
}

/** Every target of a section, in table order (for TXT files, which hold one section each). */
export function sectionTargets(def: SectionDef): Target[] {
  if (def.content.kind !== 'containers') return [];
  const out = collectTargets(def.content.containers.values(), []);
  const any = def.content.anyList;
  if (any !== undefined && !out.some((t) => sameRecords(t, any))) out.push(any);
  return out;
}

function sameRecords(a: Target, b: Target): boolean {
  return a.kind === 'records' && b.kind === 'records' && a.table === b.table && a.part === b.part;
}

function toDef(spec: SectionSpec): SectionDef {
  let content: SectionContent;
  if (spec.raw) content = { kind: 'raw' };
  else if (spec.settings) content = { kind: 'settings' };
  else {
    content = {
      kind: 'containers',
      containers: buildContainers(spec.containers ?? {}),
      ...(spec.anyList ? { anyList: spec.anyList } : {}),
    };
  }
  const def: SectionDef = { id: spec.id, names: spec.names, content, announces: [] };
  const announces: { table: TableName; part: string }[] = [];
  if (content.kind === 'settings') announces.push({ table: 'settings', part: '' });
  for (const target of sectionTargets(def)) {
    for (const tp of targetTables(target)) {
      if (!announces.some((a) => a.table === tp.table && a.part === tp.part)) announces.push(tp);
    }
  }
  return { ...def, announces };
}

export const SECTION_DEFS: readonly SectionDef[] = SPECS.map(toDef);

const BY_NAME = new Map<string, SectionDef>();
for (const def of SECTION_DEFS) {
  for (const name of def.names) {
    const key = normKey(name);
    const known = BY_NAME.get(key);
    if (known !== undefined && known !== def) {
      throw new Error(`Section name \`${name}\` is given to both \`${known.id}\` and \`${def.id}\`.`);
    }
    BY_NAME.set(key, def);
  }
}

const CATEGORY_KEYS = new Map(CATEGORIES.map((c) => [normKey(c.name), c]));

/** A known category (top-level key), or `undefined`. */
export function findCategory(key: string): { name: string; eras: readonly Era[] } | undefined {
  return CATEGORY_KEYS.get(normKey(key));
}

/** The section a JSON key or TXT file name (without `.txt`) stands for, or `undefined`. */
export function findSection(name: string): SectionDef | undefined {
  return BY_NAME.get(normKey(name));
}

const favoriteOther = new Map<string, SectionDef>();

/**
 * A section we do not know whose name says it is a list of favorites (`Favorite Podcasts`): read as
 * favorites of kind `other`, so new kinds are not lost.
 */
export function findFavoriteOther(name: string): SectionDef | undefined {
  const key = normKey(name);
  if (!key.startsWith('favorite') || key.length <= 'favorite'.length) return undefined;
  let def = favoriteOther.get(key);
  if (def === undefined) {
    def = toDef({ id: `favorite_other_${key}`, categories: [], names: [name], anyList: fav('other', true) });
    favoriteOther.set(key, def);
  }
  return def;
}

/** A container node under a section (or under a deeper container node), by key. */
export function findContainer(
  parent: ReadonlyMap<string, ContainerNode>,
  key: string,
): ContainerNode | undefined {
  return parent.get(normKey(key));
}

/** True for section-level keys that carry no records (`App`, `IsFastLane`). */
export function isIgnoredSectionKey(key: string): boolean {
  return IGNORED_SECTION_KEYS.has(normKey(key));
}

/** The single list target of a container node, when it has exactly one (for `SendGifts: [...]`). */
export function soleTarget(node: ContainerNode): Target | undefined {
  const targets = collectTargets([node], []);
  return targets.length === 1 ? targets[0] : undefined;
}

/**
 * The export era from the top-level keys seen so far: `2026` when any key only 2026 uses is present
 * (`Likes and Favorites`, `Profile And Settings`, `Income+ Wallet`), else `2025` for the
 * `user_data_tiktok.json` keys (`Your Activity`, `Direct Message`, `Post`…), else `2021-2023` for the
 * `user_data.json` keys (`Activity`, `Video`, `Direct Messages`…), else `unknown`. Keys shared by
 * several eras (`Comment`, `Ads and data`…) say nothing.
 */
export function detectEra(topLevelKeys: Iterable<string>): Era | 'unknown' {
  let newest: Era | 'unknown' = 'unknown';
  for (const key of topLevelKeys) {
    const eras = CATEGORY_KEYS.get(normKey(key))?.eras;
    if (eras === undefined) continue;
    if (eras.length === 1 && eras[0] === '2026') return '2026';
    if (!eras.includes('2021-2023')) newest = '2025';
    else if (eras.length === 1 && newest === 'unknown') newest = '2021-2023';
  }
  return newest;
}

/** TXT file names that only exports before mid-2024 used. */
const OLD_TXT_NAMES = new Set(['videobrowsinghistory', 'videos']);

/** Era of a TXT export from its file names: only the old layout is recognizable. */
export function detectTxtEra(fileNames: Iterable<string>): Era | 'unknown' {
  for (const name of fileNames) {
    const base = name.split('/').pop() ?? name;
    if (OLD_TXT_NAMES.has(normKey(base.replace(/\.txt$/i, '')))) return '2021-2023';
  }
  return 'unknown';
}
