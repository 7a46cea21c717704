/**
 * An independent reading of generated exports for the synthetic tests: it counts rows by walking the
 * documented paths of each era, so a test can check the renderer's own `expected` counts against it.
 */
import yauzl from 'yauzl';
import type { TableName } from '../../src/parsers/records.js';
import type { Era } from '../../src/synthetic/index.js';

/** Every member of a (small) zip, by name. */
export function readZip(file: string): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true }, (err, zip) => {
      if (err || !zip) return reject(err);
      const out = new Map<string, Buffer>();
      zip.on('error', reject);
      zip.on('end', () => resolve(out));
      zip.on('entry', (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (e, stream) => {
          if (e || !stream) return reject(e);
          const parts: Buffer[] = [];
          stream.on('data', (b: Buffer) => parts.push(b));
          stream.on('error', reject);
          stream.on('end', () => {
            out.set(entry.fileName, Buffer.concat(parts));
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  });
}

// biome-ignore lint/suspicious/noExplicitAny: walking untyped JSON
type Json = any;

function len(v: Json): number {
  return Array.isArray(v) ? v.length : 0;
}

function leaves(map: Json): number {
  let n = 0;
  for (const v of Object.values(map ?? {})) {
    n += v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0 ? leaves(v) : 1;
  }
  return n;
}

/** Rows per table found in a parsed JSON export of `era` (only tables whose sections are present). */
export function countJson(doc: Json, era: Era): Partial<Record<TableName, number>> {
  const out: Partial<Record<TableName, number>> = {};
  const add = (t: TableName, n: number) => {
    out[t] = (out[t] ?? 0) + n;
  };
  const old = era === '2021-2023';
  const act = old ? doc.Activity : doc['Your Activity'];
  const favParent = era === '2026' ? doc['Likes and Favorites'] : act;
  const people = era === '2026' ? doc['Profile And Settings'] : act;
  const settingsParent = era === '2026' ? doc['Profile And Settings'] : doc['App Settings'];

  const watch = act?.[old ? 'Video Browsing History' : 'Watch History'];
  if (watch) add('watch_history', len(watch.VideoList));
  const likes = favParent?.['Like List'];
  if (likes) add('likes', len(likes.ItemFavoriteList));
  for (const [section, key] of [
    ['Favorite Videos', 'FavoriteVideoList'],
    ['Favorite Sounds', 'FavoriteSoundList'],
    ['Favorite Hashtags', 'FavoriteHashtagList'],
    ['Favorite Effects', 'FavoriteEffectsList'],
    ['Favorite Collection', 'FavoriteCollectionList'],
    ['Favorite Comment', 'FavoriteCommentList'],
    ['Favorite Location', 'FavoriteLocationList'],
    ['Favorite Movies and TV', 'FavoriteMoviesAndTVList'],
    ['Favorite Playlists', 'FavoritePlaylistList'],
  ] as const) {
    if (favParent?.[section]) add('favorites', len(favParent[section][key]));
  }
  const searches = act?.[old ? 'Search History' : 'Searches'];
  if (searches) add('searches', len(searches.SearchList));
  if (act?.['Share History']) add('shares', len(act['Share History'].ShareHistoryList));
  if (act?.['Login History']) add('logins', len(act['Login History'].LoginHistoryList));
  if (act?.Hashtag) add('hashtags', len(act.Hashtag.HashtagList));
  const purchases = act?.[old ? 'Purchase History' : 'Purchases'];
  if (purchases) add('purchases', len(purchases.SendGifts.SendGifts) + len(purchases.BuyGifts.BuyGifts));
  const coins = doc['Income+ Wallet']?.['Coin Purchase History'];
  if (coins) add('purchases', len(coins.CoinPurchaseHistoryList));
  if (doc.Comment) add('comments', len(doc.Comment.Comments.CommentsList));
  const followers = people?.[old ? 'Follower List' : 'Follower'];
  if (followers) add('followers', len(followers.FansList));
  const following = people?.[old ? 'Following List' : 'Following'];
  if (following) add('following', len(following.Following));
  const block = settingsParent?.[old ? 'Block' : 'Block List'];
  if (block) add('blocks', len(block.BlockList));
  const settings = settingsParent?.Settings;
  if (settings) add('settings', leaves(settings.SettingsMap));
  const posts = doc[old ? 'Video' : 'Post'];
  if (posts) {
    add('posts', len((old ? posts.Videos : posts.Posts).VideoList));
    if (posts['Recently Deleted Posts']) add('posts', len(posts['Recently Deleted Posts'].PostList));
  }
  const profile = doc[era === '2026' ? 'Profile And Settings' : 'Profile'];
  const info = profile?.[old ? 'Profile Information' : 'Profile Info'];
  if (info) add('profile', 1);
  const dm = old ? doc['Direct Messages']?.['Chat History'] : doc['Direct Message']?.['Direct Messages'];
  if (dm) {
    const chats = Object.values(dm.ChatHistory ?? {}) as Json[];
    add('dm_conversations', chats.length);
    add(
      'dm_messages',
      chats.reduce((a: number, m: Json) => a + len(m), 0),
    );
  }
  const live = doc[era === '2026' ? 'TikTok Live' : 'Tiktok Live'];
  if (live) {
    const rooms = Object.values(live['Watch Live History'].WatchLiveMap ?? {}) as Json[];
    add('live_sessions', len(live['Go Live History'].GoLiveList) + rooms.length);
    add(
      'live_comments',
      rooms.reduce((a: number, r: Json) => a + len(r.Comments), 0),
    );
  }
  return out;
}

/** `Key: value` records of a TXT section file (continuation lines belong to the previous value). */
export function txtRecords(text: string): Record<string, string>[] {
  if (text === '') return [];
  return text
    .replace(/\n$/, '')
    .split('\n\n')
    .map((block) => {
      const rec: Record<string, string> = {};
      let last = '';
      for (const line of block.split('\n')) {
        const m = /^([A-Za-z][A-Za-z0-9 ()]*:?): (.*)$/.exec(line);
        if (m && !(m[1]! in rec)) {
          last = m[1]!;
          rec[last] = m[2]!;
        } else if (m && last.startsWith('Comment')) {
          // Repeated keys (live comments): keep them all, numbered.
          rec[`${m[1]!} #${Object.keys(rec).length}`] = m[2]!;
        } else {
          rec[last] += `\n${line}`;
        }
      }
      return rec;
    });
}

export interface TxtChat {
  peer: string;
  messages: { date: string; from: string; content: string }[];
}

/** Parses `Direct Messages.txt`. `utc` says whether dates carry ` UTC` (2026). */
export function txtChats(text: string, utc: boolean): TxtChat[] {
  const chats: TxtChat[] = [];
  const line = utc
    ? /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC) ([^ :]+): (.*)$/
    : /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) ([^ :]+): (.*)$/;
  let current: TxtChat | undefined;
  for (const l of text.split('\n')) {
    const header = /^>>> Chat History with (.+?)::$/.exec(l);
    if (header) {
      current = { peer: header[1]!, messages: [] };
      chats.push(current);
      continue;
    }
    const m = line.exec(l);
    if (m && current) current.messages.push({ date: m[1]!, from: m[2]!, content: m[3]! });
    else if (l !== '' && current) {
      const last = current.messages[current.messages.length - 1]!;
      last.content += `\n${l}`;
    }
  }
  return chats;
}
