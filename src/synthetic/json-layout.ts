/**
 * The JSON export of each era (`user_data.json` 2021–23, `user_data_tiktok.json` late 2025 and 2026),
 * following docs/tiktok-api.md §5: maps (categories, sections, settings, profile, chats, live rooms)
 * have sorted keys; records keep TikTok's field order; empty lists are `null`, `[]` or `{}` per section.
 */
import type { TableName } from '../parsers/records.js';
import { formatDate } from './clock.js';
import type { RenderContext } from './context.js';
import {
  adInterests,
  autofill,
  goLiveSettings,
  profileMap,
  settingsLeaves,
  settingsMap,
  watchLiveSettings,
} from './facts.js';
import { videoLink } from './ids.js';
import {
  adsVisitItem,
  buyGiftItem,
  coinPurchaseItem,
  commentItem,
  conversationMessages,
  datedVideoItem,
  type FavoriteItem,
  favoriteItem,
  goLiveItem,
  hashtagItem,
  liveWatchItem,
  loginItem,
  offTikTokItem,
  postItem,
  searchItem,
  sendGiftItem,
  shareItem,
  statusItem,
  userListItem,
  watchItem,
} from './items.js';
import { type JsonNode, JsonObject, type JsonValue, LazyList, LazyMap, RawJson } from './json-stream.js';
import { type Cursor, locate, type Sequence, walk } from './sequence.js';
import type { SyntheticUser } from './user.js';

type Entry = readonly [string, JsonNode] | false | null | undefined;

function present(entries: readonly Entry[]): (readonly [string, JsonNode])[] {
  return entries.filter((e): e is readonly [string, JsonNode] => Boolean(e));
}

/** A map: entries sorted by key. */
function map(...entries: Entry[]): JsonObject {
  return new JsonObject(present(entries).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
}

/** A struct: entries in the given order. */
function struct(...entries: Entry[]): JsonObject {
  return new JsonObject(present(entries));
}

/** A top-level category, left out when the requested categories include none of its sections. */
function category(name: string, ...entries: Entry[]): Entry {
  const kept = present(entries);
  return kept.length > 0 ? [name, map(...kept)] : false;
}

function lazy<T>(empty: 'null' | '[]', items: () => Iterable<T>, shape: (item: T) => JsonValue): LazyList {
  return new LazyList(function* () {
    for (const item of items()) yield shape(item);
  }, empty);
}

const D = formatDate;
const utc = (ts: number) => `${formatDate(ts)} UTC`;

/** The sections shared by the eras, parameterized by the era's key names. */
class Sections {
  readonly u: SyntheticUser;
  readonly seq: SyntheticUser['sequences'];

  constructor(readonly ctx: RenderContext) {
    this.u = ctx.user;
    this.seq = ctx.user.sequences;
  }

  list<T extends object>(
    table: TableName | null,
    seq: Sequence,
    make: (c: Cursor) => T,
    shape: (item: T) => JsonValue,
    empty: 'null' | '[]' = 'null',
    order: 'desc' | 'asc' = 'desc',
  ): LazyList {
    if (table) this.ctx.present(table);
    return lazy(empty, () => this.ctx.items(table, seq, make, order), shape);
  }

  watch(): LazyList {
    const title = this.ctx.era === '2026';
    return this.list(
      'watch_history',
      this.seq.watch,
      (c) => watchItem(c, title),
      title
        ? (w) => ({ Date: D(w.ts), Link: videoLink(w.videoId), Title: w.title })
        : (w) => ({ Date: D(w.ts), Link: videoLink(w.videoId) }),
    );
  }

  likes(): LazyList {
    const lower = this.ctx.era !== '2021-2023';
    return this.list(
      'likes',
      this.seq.likes,
      (c) => datedVideoItem(c, 'like'),
      lower
        ? (l) => ({ date: D(l.ts), link: videoLink(l.videoId) })
        : (l) => ({ Date: D(l.ts), Link: videoLink(l.videoId) }),
    );
  }

  favVideos(): LazyList {
    return this.list(
      'favorites',
      this.seq.favVideos,
      (c) => datedVideoItem(c, 'fav'),
      (f) => ({ Date: D(f.ts), Link: videoLink(f.videoId) }),
      '[]',
    );
  }

  favorites(kind: 'sound' | 'hashtag' | 'effect' | 'collection'): LazyList {
    const seq = {
      sound: this.seq.favSounds,
      hashtag: this.seq.favHashtags,
      effect: this.seq.favEffects,
      collection: this.seq.favCollections,
    }[kind];
    const shape = (f: FavoriteItem): JsonValue =>
      kind === 'effect'
        ? { Date: D(f.ts), EffectLink: f.link }
        : kind === 'collection'
          ? { Date: D(f.ts), FavoriteCollection: f.name }
          : { Date: D(f.ts), Link: f.link };
    return this.list('favorites', seq, (c) => favoriteItem(c, kind), shape, '[]');
  }

  searches(): LazyList {
    return this.list('searches', this.seq.searches, searchItem, (s) => ({
      Date: D(s.ts),
      SearchTerm: s.term,
    }));
  }

  shares(): LazyList {
    return this.list('shares', this.seq.shares, shareItem, (s) => ({
      Date: D(s.ts),
      SharedContent: s.content,
      Link: s.link,
      Method: s.method,
    }));
  }

  comments(): LazyList {
    const era = this.ctx.era;
    return this.list('comments', this.seq.comments, commentItem, (c): JsonValue => {
      if (era === '2021-2023') return { Date: D(c.ts), Comment: c.text };
      if (era === '2025') return { date: D(c.ts), comment: c.text, photo: 'N/A', url: '' };
      return {
        date: utc(c.ts),
        comment: c.text,
        photo: 'N/A',
        video: 'N/A',
        sticker: 'N/A',
        originalPostUrl: videoLink(c.videoId),
        'original post link': '',
      };
    });
  }

  users(table: 'followers' | 'following' | 'blocks', empty: 'null' | '[]'): LazyList {
    const seq = { followers: this.seq.followers, following: this.seq.following, blocks: this.seq.blocks }[
      table
    ];
    return this.list(table, seq, userListItem, (x) => ({ Date: D(x.ts), UserName: x.username }), empty);
  }

  logins(): LazyList {
    return this.list(
      'logins',
      this.seq.logins,
      (c) => loginItem(this.u, c),
      (l) => ({
        Date: D(l.ts),
        IP: l.ip,
        DeviceModel: l.deviceModel,
        DeviceSystem: l.deviceSystem,
        NetworkType: l.networkType,
        Carrier: l.carrier,
      }),
    );
  }

  posts(): LazyList {
    const full = this.ctx.era !== '2021-2023';
    return this.list(
      'posts',
      this.seq.posts,
      (c) => postItem(this.u, c),
      (p): JsonValue =>
        full
          ? {
              Date: D(p.ts),
              Link: p.link,
              Likes: String(p.likes),
              WhoCanView: p.whoCanView,
              AllowComments: p.allowComments,
              AllowStitches: p.allowStitches,
              AllowDuets: p.allowDuets,
              AllowStickers: p.allowStickers,
              AllowSharingToStory: p.allowSharingToStory,
              ContentDisclosure: p.contentDisclosure,
              AIGeneratedContent: p.aiGenerated,
              Sound: p.sound,
              Location: p.location,
              Title: p.title,
              AddYoursText: p.addYoursText,
              AlternateText: p.alternateText,
              CoverImage: p.coverImage,
            }
          : { Date: D(p.ts), Link: p.link, Likes: String(p.likes) },
    );
  }

  recentlyDeleted(): JsonObject {
    this.ctx.present('posts');
    return struct(['PostList', []]);
  }

  sendGifts(): LazyList {
    return this.list('purchases', this.seq.sendGifts, sendGiftItem, (g) => ({
      Date: D(g.ts),
      GiftAmount: g.amount,
      UserName: g.username,
    }));
  }

  buyGifts(): LazyList {
    return this.list('purchases', this.seq.buyGifts, buyGiftItem, (g) => ({
      Price: g.amount,
      Date: D(g.ts),
    }));
  }

  purchases(): JsonObject {
    return map(
      ['BuyGifts', struct(['BuyGifts', this.buyGifts()])],
      ['SendGifts', struct(['SendGifts', this.sendGifts()])],
    );
  }

  coinPurchases(): LazyList {
    return this.list('purchases', this.seq.coinPurchases, coinPurchaseItem, (p) => ({
      Date: D(p.ts),
      Type: p.type,
      CoinAmount: p.coins,
    }));
  }

  hashtags(): LazyList {
    return this.list('hashtags', this.seq.hashtags, hashtagItem, (h) => ({
      HashtagName: h.name,
      HashtagLink: h.link,
    }));
  }

  /** Off-TikTok activity is written oldest first in real exports. */
  offTikTok(): LazyList {
    return this.list(
      null,
      this.seq.offTikTok,
      offTikTokItem,
      (o) => ({ TimeStamp: D(o.ts), Source: o.source, Event: o.event }),
      'null',
      'asc',
    );
  }

  status(): LazyList {
    const full = this.ctx.era !== '2021-2023';
    return this.list(
      null,
      this.seq.status,
      (c) => statusItem(this.u, c),
      (s): JsonValue =>
        full
          ? {
              Resolution: s.resolution,
              'App Version': s.appVersion,
              IDFA: s.idfa,
              GAID: s.gaid,
              'Android ID': s.androidId,
              IDFV: s.idfv,
              UID: new RawJson(s.uid),
              DID: s.did,
              'Web ID': s.webId,
            }
          : {
              Resolution: s.resolution,
              'App Version': s.appVersion,
              IDFA: s.idfa,
              GAID: s.gaid,
              'Android ID': s.androidId,
              IDFV: s.idfv,
              'Web ID': s.webId,
            },
    );
  }

  reposts(): LazyList {
    return this.list(
      null,
      this.seq.reposts,
      (c) => datedVideoItem(c, 'repost'),
      (r) => ({ Date: D(r.ts), Link: videoLink(r.videoId) }),
    );
  }

  adsVisits(): LazyList {
    return this.list(null, this.seq.adsVisits, adsVisitItem, (a) => ({
      CreateTime: D(a.ts),
      AdTitle: a.title,
      AdLink: a.link,
    }));
  }

  /** `ChatHistory`: one entry per conversation, keys sorted, messages newest first. */
  chatHistory(): LazyMap {
    const ctx = this.ctx;
    ctx.present('dm_conversations');
    ctx.present('dm_messages');
    const u = this.u;
    return new LazyMap(function* () {
      const convs = [...u.conversations].sort((a, b) => (a.peer < b.peer ? -1 : a.peer > b.peer ? 1 : 0));
      for (const conv of convs) {
        ctx.add('dm_conversations');
        const messages = lazy(
          '[]',
          function* () {
            for (const m of conversationMessages(u, conv)) {
              ctx.add('dm_messages');
              yield m;
            }
          },
          (m) => ({ Date: D(m.ts), From: m.from, Content: m.content }),
        );
        yield [`Chat History with ${conv.peer}:`, messages] as const;
      }
    }, '{}');
  }

  /** `WatchLiveMap`: keyed by 19-digit room id, sorted; only (id, index) pairs are held in memory. */
  watchLiveMap(): LazyMap {
    const ctx = this.ctx;
    const u = this.u;
    const seq = this.seq.liveWatch;
    ctx.present('live_sessions');
    ctx.present('live_comments');
    return new LazyMap(function* () {
      const rooms: [string, number][] = [];
      for (const c of walk(seq, 'asc')) rooms.push([liveWatchItem(u, c).roomId, c.g]);
      rooms.sort((a, b) => a[0].length - b[0].length || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      for (const [, g] of rooms) {
        const item = liveWatchItem(u, locate(seq, g)!);
        ctx.add('live_sessions');
        if (item.comments) ctx.add('live_comments', item.comments.length);
        const value: JsonValue = {
          Comments: item.comments
            ? item.comments.map((x) => ({
                CommentTime: D(x.ts),
                CommentContent: x.text,
                RawTime: x.ts * 1000,
              }))
            : null,
          Questions: null,
          WatchTime: D(item.ts),
          Link: item.link,
        };
        yield [item.roomId, value] as const;
      }
    }, '{}');
  }

  goLive(): LazyList {
    return this.list('live_sessions', this.seq.liveGo, goLiveItem, (g) => {
      const secs = g.end - g.start;
      const hh = String(Math.floor(secs / 3600)).padStart(2, '0');
      const mm = String(Math.floor((secs % 3600) / 60)).padStart(2, '0');
      const ss = String(secs % 60).padStart(2, '0');
      return {
        LiveStartTime: D(g.start),
        RoomId: g.roomId,
        CoverUri: g.cover,
        ReplayUrl: g.replay,
        TotalEarning: g.earning,
        LiveEndTime: D(g.end),
        TotalLike: g.likes,
        TotalView: g.views,
        QualitySetting: g.quality,
        RoomTitle: g.title,
        TotalGifter: g.gifters,
        MutedList: null,
        LiveDuration: `${hh}:${mm}:${ss}`,
      };
    });
  }

  live(liveName: string): Entry {
    const old = this.ctx.era === '2021-2023';
    return category(
      liveName,
      ['Go Live History', struct(['GoLiveList', this.goLive()])],
      ['Go Live Settings', old ? {} : struct(['SettingsMap', goLiveSettings()])],
      ['Watch Live History', struct(['WatchLiveMap', this.watchLiveMap()])],
      ['Watch Live Settings', old ? {} : watchLiveSettings(this.u)],
    );
  }

  settings(): JsonValue {
    const m = settingsMap(this.u, this.ctx.era);
    this.ctx.present('settings');
    this.ctx.add('settings', settingsLeaves(m).length);
    return m;
  }

  profileInfo(): JsonValue {
    this.ctx.present('profile');
    this.ctx.add('profile');
    return profileMap(this.u, this.ctx.era);
  }

  locationData(): JsonValue {
    return {
      LocationData: { Date: D(this.u.now - 86_400 * 3), GpsData: '', LastRegion: this.u.profile.region },
    };
  }
}

function shopNulls(era: '2025' | '2026'): JsonObject {
  const sections: [string, string][] = [
    ['Communication With Shops', 'CommunicationHistories'],
    ['Current Payment Information', 'PayCard'],
    ['Customer Support History', 'CustomerSupportHistories'],
    ['Order Dispute History', 'OrderDisputeHistories'],
    ['Order History', 'OrderHistories'],
    ['Product Browsing History', 'ProductBrowsingHistories'],
    ['Product Reviews', 'ProductReviewHistories'],
    ['Returns and Refunds History', 'ReturnAndRefundHistories'],
    ['Saved Address Information', 'SavedAddress'],
    ['Shopping Cart List', 'ShoppingCart'],
    ['Vouchers', 'Vouchers'],
  ];
  return map(
    ...sections.map(([name, key]) => [name, { [key]: null }] as const),
    era === '2026' && ['TikTokFavoriteItem', { TikTokFavoriteItemResult: { TikTokFavoriteItemList: null } }],
  );
}

function build2021(ctx: RenderContext): JsonObject {
  const s = new Sections(ctx);
  const { activity: act, video, profile, dm, all } = ctx;
  const empty = {};
  return map(
    category(
      'Activity',
      act && ['Favorite Effects', struct(['FavoriteEffectsList', s.favorites('effect')])],
      act && ['Favorite Hashtags', struct(['FavoriteHashtagList', s.favorites('hashtag')])],
      act && ['Favorite Sounds', struct(['FavoriteSoundList', s.favorites('sound')])],
      act && ['Favorite Videos', struct(['FavoriteVideoList', s.favVideos()])],
      profile && ['Follower List', struct(['FansList', s.users('followers', '[]')])],
      profile && ['Following List', struct(['Following', s.users('following', '[]')])],
      act && ['Hashtag', struct(['HashtagList', s.hashtags()])],
      act && ['Like List', struct(['ItemFavoriteList', s.likes()])],
      all && ['Login History', struct(['LoginHistoryList', s.logins()])],
      act && ['Most Recent Location Data', s.locationData()],
      act && ['Purchase History', s.purchases()],
      act && ['Search History', struct(['SearchList', s.searches()])],
      all && ['Share History', struct(['ShareHistoryList', s.shares()])],
      all && ['Status', struct(['Status List', s.status()])],
      act && ['Video Browsing History', struct(['VideoList', s.watch()])],
    ),
    category(
      'Ads and data',
      all && ['Ad Interests', { AdInterestCategories: adInterests(ctx.user) }],
      all && ['Ads Based On Data Received From Partners', { AdvertiserList: '', DataPartnerList: '' }],
      all && ['Usage Data From Third-Party Apps And Websites', empty],
    ),
    category(
      'App Settings',
      all && ['Block', struct(['BlockList', s.users('blocks', 'null')])],
      all && ['Settings', struct(['SettingsMap', s.settings()])],
    ),
    category('Comment', act && ['Comments', struct(['CommentsList', s.comments()])]),
    category('Direct Messages', dm && ['Chat History', struct(['ChatHistory', s.chatHistory()])]),
    category('Profile', profile && ['Profile Information', struct(['ProfileMap', s.profileInfo()])]),
    all && s.live('Tiktok Live'),
    category(
      'Tiktok Shopping',
      ...[
        'Communication History',
        'Current Payment Information',
        'Customer Support History',
        'Order Dispute History',
        'Order History',
        'Product Browsing History',
        'Product Review History',
        'Return and Refund History',
        'Saved Address Information',
        'Shopping Cart List',
        'Vouchers',
      ].map((name) => all && ([name, empty] as const)),
    ),
    category('Video', video && ['Videos', struct(['VideoList', s.posts()])]),
  );
}

function build2025(ctx: RenderContext): JsonObject {
  const s = new Sections(ctx);
  const { activity: act, video, profile, dm, all } = ctx;
  return map(
    category(
      'Ads and data',
      all && ['Ad Interests', { AdInterestCategories: adInterests(ctx.user) }],
      all && ['Instant Form Ads Responses', { ResponsesList: null }],
      all && ['Off TikTok Activity', struct(['OffTikTokActivityDataList', s.offTikTok()])],
    ),
    category(
      'App Settings',
      all && ['Block List', struct(['App', 1], ['BlockList', s.users('blocks', 'null')])],
      all && ['Settings', struct(['App', 1], ['SettingsMap', s.settings()])],
      all && ['UserThirdPlatformInformation', {}],
    ),
    category('Comment', act && ['Comments', struct(['App', 1], ['CommentsList', s.comments()])]),
    category('Direct Message', dm && ['Direct Messages', struct(['ChatHistory', s.chatHistory()])]),
    category('Income Plus Wallet Transactions', all && ['Transaction History', { TransactionsList: null }]),
    category('Location Review', act && ['Location Reviews', { ReviewsList: null }]),
    category(
      'Post',
      video && ['Posts', struct(['VideoList', s.posts()])],
      video && ['Recently Deleted Posts', s.recentlyDeleted()],
    ),
    category(
      'Profile',
      all && ['AI-Moji', { CreateDate: '', AIMojiList: null }],
      all && ['Autofill', autofill()],
      profile && ['Profile Info', struct(['App', 1], ['ProfileMap', s.profileInfo()])],
    ),
    all && ['TikTok Shop', shopNulls('2025')],
    all && s.live('Tiktok Live'),
    category(
      'Your Activity',
      act && ['Favorite Effects', struct(['FavoriteEffectsList', s.favorites('effect')])],
      act && ['Favorite Hashtags', struct(['FavoriteHashtagList', s.favorites('hashtag')])],
      act && ['Favorite Sounds', struct(['FavoriteSoundList', s.favorites('sound')])],
      act && ['Favorite Videos', struct(['App', 1], ['FavoriteVideoList', s.favVideos()])],
      profile && [
        'Follower',
        struct(['App', 1], ['IsFastLane', false], ['FansList', s.users('followers', '[]')]),
      ],
      profile && [
        'Following',
        struct(['App', 1], ['IsFastLane', false], ['Following', s.users('following', '[]')]),
      ],
      act && ['Hashtag', struct(['HashtagList', s.hashtags()])],
      act && ['Like List', struct(['App', 1], ['ItemFavoriteList', s.likes()])],
      all && ['Login History', struct(['LoginHistoryList', s.logins()])],
      act && ['Most Recent Location Data', s.locationData()],
      act && ['Purchases', s.purchases()],
      act && ['Searches', struct(['SearchList', s.searches()])],
      all && ['Share History', struct(['ShareHistoryList', s.shares()])],
      all && ['Status', struct(['Status List', s.status()])],
      act && ['Watch History', struct(['VideoList', s.watch()])],
    ),
  );
}

function build2026(ctx: RenderContext): JsonObject {
  const s = new Sections(ctx);
  const { activity: act, video, profile, dm, all } = ctx;
  const u = ctx.user;
  const summary = () => ({
    ActivitySummaryMap: {
      note: 'The data only includes activity since the account was registered.',
      videosCommentedOnSinceAccountRegistration: u.sequences.comments.segments.reduce(
        (a, x) => a + x.count,
        0,
      ),
      videosSharedSinceAccountRegistration: u.sequences.shares.segments.reduce((a, x) => a + x.count, 0),
      videosWatchedToTheEndSinceAccountRegistration: Math.round(
        u.sequences.watch.segments.reduce((a, x) => a + x.count, 0) * 0.4,
      ),
    },
  });
  return map(
    category('Comment', act && ['Comments', struct(['App', 1], ['CommentsList', s.comments()])]),
    category(
      'Direct Message',
      dm && ['Direct Messages', struct(['ChatHistory', s.chatHistory()])],
      dm && ['Group Chat', { GroupChat: {} }],
      dm && ['Tako Chat History', { TakoChatHistoryList: null }],
    ),
    category(
      'Income+ Wallet',
      all && ['Coin Purchase History', struct(['CoinPurchaseHistoryList', s.coinPurchases()])],
      all && ['Transaction History', { TransactionsList: null }],
    ),
    category(
      'Likes and Favorites',
      act && ['Collection', {}],
      act && ['Favorite Collection', struct(['FavoriteCollectionList', s.favorites('collection')])],
      act && ['Favorite Comment', { FavoriteCommentList: [] }],
      act && ['Favorite Drama', {}],
      act && ['Favorite Effects', struct(['FavoriteEffectsList', s.favorites('effect')])],
      act && ['Favorite Hashtags', struct(['FavoriteHashtagList', s.favorites('hashtag')])],
      act && ['Favorite Location', { FavoriteLocationList: [] }],
      act && ['Favorite Movies and TV', { FavoriteMoviesAndTVList: [] }],
      act && ['Favorite Playlists', { FavoritePlaylistList: [] }],
      act && ['Favorite Sounds', struct(['FavoriteSoundList', s.favorites('sound')])],
      act && ['Favorite Videos', struct(['App', 1], ['FavoriteVideoList', s.favVideos()])],
      act && ['Like List', struct(['App', 1], ['ItemFavoriteList', s.likes()])],
    ),
    category('Location Review', act && ['Location Reviews', { ReviewsList: null }]),
    category(
      'Post',
      video && ['Posts', struct(['VideoList', s.posts()])],
      video && ['Recently Deleted Posts', s.recentlyDeleted()],
      video && ['Story', {}],
    ),
    category(
      'Profile And Settings',
      all && ['AI-Moji', { CreateDate: '', AIMojiList: null }],
      all && ['AISelfImage', {}],
      all && ['Autofill', autofill()],
      all && ['Block List', struct(['App', 1], ['BlockList', s.users('blocks', 'null')])],
      profile && [
        'Follower',
        struct(['App', 1], ['IsFastLane', false], ['FansList', s.users('followers', '[]')]),
      ],
      profile && [
        'Following',
        struct(['App', 1], ['IsFastLane', false], ['Following', s.users('following', '[]')]),
      ],
      all && ['Off TikTok Activity', struct(['OffTikTokActivityDataList', s.offTikTok()])],
      profile && ['Profile Info', struct(['App', 1], ['ProfileMap', s.profileInfo()])],
      all && ['ProfileViews', { ProfileViewList: null }],
      all && ['Settings', struct(['App', 1], ['SettingsMap', s.settings()])],
    ),
    all && s.live('TikTok Live'),
    all && ['TikTok Shop', shopNulls('2026')],
    category(
      'Your Activity',
      act && ['Activity Summary', summary()],
      all && ['Ad Interests', { AdInterestCategories: adInterests(u) }],
      all && ['Ads Visit History', struct(['AdsVisitHistoryList', s.adsVisits()])],
      all && ['Donation', { DonationList: null }],
      all && ['Fundraiser', { FundraiserList: null }],
      act && ['Hashtag', struct(['HashtagList', s.hashtags()])],
      all && ['Instant Form Ads Responses', { ResponsesList: null }],
      all && ['Login History', struct(['LoginHistoryList', s.logins()])],
      act && ['Mini Drama Watch History', {}],
      all && ['Off TikTok Activity', struct(['OffTikTokActivityDataList', s.offTikTok()])],
      act && ['Purchases', s.purchases()],
      act && ['Reposts', struct(['RepostList', s.reposts()])],
      act && ['Searches', struct(['SearchList', s.searches()])],
      all && ['Share History', struct(['ShareHistoryList', s.shares()])],
      all && ['Status', struct(['Status List', s.status()])],
      all && ['Stickers', { StickerList: null }],
      act && ['Watch History', struct(['VideoList', s.watch()])],
    ),
  );
}

/** Name of the single JSON member of the era's zip. */
export function jsonMemberName(era: RenderContext['era']): string {
  return era === '2021-2023' ? 'user_data.json' : 'user_data_tiktok.json';
}

/** The era's document; its lazy parts count rows into `ctx.counts` as they are written. */
export function jsonDocument(ctx: RenderContext): JsonObject {
  switch (ctx.era) {
    case '2021-2023':
      return build2021(ctx);
    case '2025':
      return build2025(ctx);
    default:
      return build2026(ctx);
  }
}
