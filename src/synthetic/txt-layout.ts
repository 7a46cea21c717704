/**
 * The TXT export (docs/tiktok-api.md §5.1): a folder tree under `TikTok_Data_<ts>/Tiktok/`, one `.txt`
 * per section, records of `Key: value` lines separated by a blank line, and `Direct Messages.txt` as
 * `>>> Chat History with <user>::` blocks. Only the file names and a few labels are documented; other
 * labels are the JSON keys split into words (`DeviceModel` → `Device Model`).
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
  buyGiftItem,
  commentItem,
  conversationMessages,
  datedVideoItem,
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
import type { JsonValue } from './json-stream.js';
import type { Cursor, Sequence } from './sequence.js';

export interface TxtFile {
  /** Path inside the zip. */
  path: string;
  /** The file's text in chunks; counts rows into the context while it runs. */
  chunks: () => Iterable<string>;
}

type Line = readonly [string, string];

const CHUNK = 1 << 16;
const D = formatDate;

/** `DeviceModel` → `Device Model`, `bioDescription` → `Bio Description`, `userName` → `Username`. */
export function label(key: string): string {
  if (/^user ?name$/i.test(key)) return 'Username';
  const words = key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function recordText(lines: readonly Line[]): string {
  let s = '';
  for (let i = 0; i < lines.length; i++) s += `${i === 0 ? '' : '\n'}${lines[i]![0]}: ${lines[i]![1]}`;
  return s;
}

/** Records separated by a blank line; the file ends with a newline (an empty section is an empty file). */
function* recordsText(records: Iterable<readonly Line[]>): Generator<string> {
  let buf = '';
  let any = false;
  for (const lines of records) {
    buf += (any ? '\n\n' : '') + recordText(lines);
    any = true;
    if (buf.length >= CHUNK) {
      yield buf;
      buf = '';
    }
  }
  if (any) buf += '\n';
  if (buf.length > 0) yield buf;
}

function valueText(v: JsonValue): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export function txtFiles(ctx: RenderContext): TxtFile[] {
  const u = ctx.user;
  const seq = u.sequences;
  const era = ctx.era;
  const old = era === '2021-2023';
  const dateUtc = (ts: number) => (era === '2026' ? `${D(ts)} UTC` : D(ts));
  const root = `TikTok_Data_${u.now}/Tiktok/`;
  const files: TxtFile[] = [];

  const file = (include: boolean, path: string, chunks: () => Iterable<string>) => {
    if (include) files.push({ path: root + path, chunks });
  };
  const section = <T extends object>(
    include: boolean,
    path: string,
    table: TableName | null,
    s: Sequence,
    make: (c: Cursor) => T,
    lines: (item: T) => readonly Line[],
    order: 'desc' | 'asc' = 'desc',
  ) => {
    if (!include) return;
    if (table) ctx.present(table);
    file(true, path, function* () {
      yield* recordsText(
        (function* () {
          for (const item of ctx.items(table, s, make, order)) yield lines(item);
        })(),
      );
    });
  };
  const emptyFile = (include: boolean, path: string, table?: TableName) => {
    if (include && table) ctx.present(table);
    file(include, path, () => []);
  };
  const { activity: act, video, profile, dm, all } = ctx;

  // Activity
  section(
    act,
    `Activity/${old ? 'Video Browsing History' : 'Browsing History'}.txt`,
    'watch_history',
    seq.watch,
    (c) => watchItem(c, false),
    (w) => [
      ['Date', D(w.ts)],
      ['Link', videoLink(w.videoId)],
    ],
  );
  section(act, 'Activity/Comments.txt', 'comments', seq.comments, commentItem, (c) => [
    ['Date', dateUtc(c.ts)],
    ['Comment', c.text],
  ]);
  section(
    act,
    'Activity/Favorite Effects.txt',
    'favorites',
    seq.favEffects,
    (c) => favoriteItem(c, 'effect'),
    (f) => [
      ['Date', D(f.ts)],
      ['Effect Link', f.link],
    ],
  );
  // Real exports write this one label with a double colon.
  section(
    act,
    'Activity/Favorite HashTags.txt',
    'favorites',
    seq.favHashtags,
    (c) => favoriteItem(c, 'hashtag'),
    (f) => [
      ['Date', D(f.ts)],
      ['HashTag Link:', f.link],
    ],
  );
  section(
    act,
    'Activity/Favorite Sounds.txt',
    'favorites',
    seq.favSounds,
    (c) => favoriteItem(c, 'sound'),
    (f) => [
      ['Date', D(f.ts)],
      ['Link', f.link],
    ],
  );
  section(
    act,
    'Activity/Favorite Videos.txt',
    'favorites',
    seq.favVideos,
    (c) => datedVideoItem(c, 'fav'),
    (f) => [
      ['Date', D(f.ts)],
      ['Link', videoLink(f.videoId)],
    ],
  );
  for (const [name, table] of [
    ['Follower', 'followers'],
    ['Following', 'following'],
  ] as const) {
    section(profile, `Activity/${name}.txt`, table, seq[table], userListItem, (x) => [
      ['Date', D(x.ts)],
      ['Username', x.username],
    ]);
  }
  section(act, 'Activity/Hashtag.txt', 'hashtags', seq.hashtags, hashtagItem, (h) => [
    ['Hashtag Name', h.name],
    ['Hashtag Link', h.link],
  ]);
  section(
    act,
    'Activity/Like List.txt',
    'likes',
    seq.likes,
    (c) => datedVideoItem(c, 'like'),
    (l) => [
      ['Date', D(l.ts)],
      ['Link', videoLink(l.videoId)],
    ],
  );
  emptyFile(act, 'Activity/Location Reviews.txt');
  section(
    all,
    'Activity/Login History.txt',
    'logins',
    seq.logins,
    (c) => loginItem(u, c),
    (l) => [
      ['Date', D(l.ts)],
      ['IP', l.ip],
      ['Device Model', l.deviceModel],
      ['Device System', l.deviceSystem],
      ['Network Type', l.networkType],
      ['Carrier', l.carrier],
    ],
  );
  file(act, 'Activity/Most Recent Location Data.txt', () => [
    `${recordText([
      ['Date', D(u.now - 3 * 86_400)],
      ['Gps Data', ''],
      ['Last Region', u.profile.region],
    ])}\n`,
  ]);
  if (act) {
    ctx.present('purchases');
    file(true, 'Activity/Purchases.txt', function* () {
      yield* recordsText(
        (function* () {
          for (const g of ctx.items('purchases', seq.sendGifts, sendGiftItem)) {
            yield [
              ['Date', D(g.ts)],
              ['Gift Amount', g.amount],
              ['Username', g.username],
            ] as const;
          }
          for (const g of ctx.items('purchases', seq.buyGifts, buyGiftItem)) {
            yield [
              ['Date', D(g.ts)],
              ['Price', g.amount],
            ] as const;
          }
        })(),
      );
    });
  }
  section(act, 'Activity/Searches.txt', 'searches', seq.searches, searchItem, (s) => [
    ['Date', D(s.ts)],
    ['Search Term', s.term],
  ]);
  section(all, 'Activity/Share History.txt', 'shares', seq.shares, shareItem, (s) => [
    ['Date', D(s.ts)],
    ['Shared Content', s.content],
    ['Link', s.link],
    ['Method', s.method],
  ]);
  section(
    all,
    'Activity/Status.txt',
    null,
    seq.status,
    (c) => statusItem(u, c),
    (s) => [
      ['Resolution', s.resolution],
      ['App Version', s.appVersion],
      ['IDFA', s.idfa],
      ['GAID', s.gaid],
      ['Android ID', s.androidId],
      ['IDFV', s.idfv],
      ...(old
        ? []
        : ([
            ['UID', s.uid],
            ['DID', s.did],
          ] as const)),
      ['Web ID', s.webId],
    ],
  );

  // Ads and data
  file(all, 'Ads and data/Ad Interests.txt', () => [`Ad Interest Categories: ${adInterests(u)}\n`]);
  emptyFile(all, 'Ads and data/Instant Form Ads Responses.txt');
  section(
    all,
    'Ads and data/Off TikTok Activity.txt',
    null,
    seq.offTikTok,
    offTikTokItem,
    (o) => [
      ['Time Stamp', D(o.ts)],
      ['Source', o.source],
      ['Event', o.event],
    ],
    'asc',
  );

  // App Settings
  section(all, 'App Settings/Block List.txt', 'blocks', seq.blocks, userListItem, (x) => [
    ['Date', D(x.ts)],
    ['Username', x.username],
  ]);
  if (all) {
    const leaves = settingsLeaves(settingsMap(u, era));
    ctx.present('settings');
    ctx.add('settings', leaves.length);
    file(true, 'App Settings/Settings.txt', () => [`${recordText(leaves)}\n`]);
  }

  // Direct Messages
  if (dm) {
    ctx.present('dm_conversations');
    ctx.present('dm_messages');
    file(true, 'Direct Messages/Direct Messages.txt', function* () {
      const convs = [...u.conversations].sort((a, b) => (a.peer < b.peer ? -1 : a.peer > b.peer ? 1 : 0));
      let buf = '';
      let first = true;
      for (const conv of convs) {
        ctx.add('dm_conversations');
        buf += `${first ? '' : '\n'}>>> Chat History with ${conv.peer}::\n\n`;
        first = false;
        for (const m of conversationMessages(u, conv)) {
          ctx.add('dm_messages');
          buf += `${dateUtc(m.ts)} ${m.from}: ${m.content}\n`;
          if (buf.length >= CHUNK) {
            yield buf;
            buf = '';
          }
        }
      }
      if (buf.length > 0) yield buf;
    });
  }

  emptyFile(all, 'Income+ Wallet Transactions/Transaction History.txt');

  // Posts
  section(
    video,
    old ? 'Videos/Videos.txt' : 'Posts/Post.txt',
    'posts',
    seq.posts,
    (c) => postItem(u, c),
    (p) => {
      const lines: Line[] = [
        ['Date', D(p.ts)],
        ['Link', p.link],
        ['Like(s)', String(p.likes)],
      ];
      if (!old) {
        lines.push(
          ['Who Can View', p.whoCanView],
          ['Allow Comments', p.allowComments],
          ['Allow Stitches', p.allowStitches],
          ['Allow Duets', p.allowDuets],
          ['Allow Stickers', p.allowStickers],
          ['Allow Sharing To Story', p.allowSharingToStory],
          ['Content Disclosure', p.contentDisclosure],
          ['AI Generated Content', p.aiGenerated],
          ['Sound', p.sound],
          ['Location', p.location],
          ['Title', p.title],
          ['Add Yours Text', p.addYoursText],
          ['Alternate Text', p.alternateText],
          ['Cover Image', p.coverImage],
        );
      }
      return lines;
    },
  );
  emptyFile(video && !old, 'Posts/Recently Deleted Posts.txt', 'posts');

  // Profile
  if (profile) {
    ctx.present('profile');
    file(true, 'Profile/Profile Info.txt', () => {
      ctx.add('profile');
      const lines = Object.entries(profileMap(u, era)).map(([k, v]) => [label(k), valueText(v)] as const);
      return [`${recordText(lines)}\n`];
    });
  }
  emptyFile(all && !old, 'Profile/AI-Moji.txt');
  file(all && !old, 'Profile/Autofill.txt', () => [
    `${recordText(Object.entries(autofill()).map(([k, v]) => [label(k), valueText(v)] as const))}\n`,
  ]);

  // TikTok Live
  if (all) {
    ctx.present('live_sessions');
    ctx.present('live_comments');
    file(true, 'TikTok Live/Watch Live History.txt', function* () {
      yield* recordsText(
        (function* () {
          for (const room of ctx.items('live_sessions', seq.liveWatch, (c) => liveWatchItem(u, c))) {
            const lines: Line[] = [
              ['Room ID', room.roomId],
              ['Watch Time', D(room.ts)],
              ['Link', room.link],
            ];
            for (const cm of room.comments ?? []) {
              ctx.add('live_comments');
              lines.push(['Comment Time', D(cm.ts)], ['Comment Content', cm.text]);
            }
            yield lines;
          }
        })(),
      );
    });
    section(true, 'TikTok Live/Go Live History.txt', 'live_sessions', seq.liveGo, goLiveItem, (g) => [
      ['Live Start Time', D(g.start)],
      ['Room Id', g.roomId],
      ['Cover Uri', g.cover],
      ['Replay Url', g.replay],
      ['Total Earning', g.earning],
      ['Live End Time', D(g.end)],
      ['Total Like', g.likes],
      ['Total View', g.views],
      ['Quality Setting', g.quality],
      ['Room Title', g.title],
      ['Total Gifter', g.gifters],
    ]);
    file(true, 'TikTok Live/Go Live settings.txt', () =>
      old
        ? []
        : [`${recordText(Object.entries(goLiveSettings()).map(([k, v]) => [k, valueText(v)] as const))}\n`],
    );
    file(true, 'TikTok Live/Watch Live settings.txt', () => {
      if (old) return [];
      const w = watchLiveSettings(u);
      const m = w.WatchLiveSettingsMap as { app: string; web: string };
      return [
        `${recordText([
          ['App', m.app],
          ['Web', m.web],
          ['Most Recent Modification Time In App', valueText(w.MostRecentModificationTimeInApp!)],
          ['Most Recent Modification Time In Web', valueText(w.MostRecentModificationTimeInWeb!)],
        ])}\n`,
      ];
    });
  }

  // TikTok Shopping: present but empty
  for (const name of [
    'Communication with shops',
    'Current Payment Information',
    'Customer support history',
    'Order History',
    'Order dispute history',
    'Product Browsing History',
    'Product Reviews',
    'Returns and Refunds History',
    'Saved Address Information',
    'Shopping Cart List',
    'Vouchers',
  ]) {
    emptyFile(all, `TikTok Shopping/${name}.txt`);
  }
  return files;
}
