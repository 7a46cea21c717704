/**
 * Record generators: each turns (user, cursor) into one era-neutral item, as a pure function of the
 * segment key and the index. Renderers shape items into each era's keys.
 */
import { DAY, HOUR, MINUTE, YEAR } from './clock.js';
import { challengeLink, effectLink, ipAddress, soundLink, tiktokId, uuid, videoLink } from './ids.js';
import { Rand, streamId } from './prng.js';
import { type Cursor, type Segment, slotStart, slotTime } from './sequence.js';
import { caption, freeText, handle, searchTerm, shortText } from './text.js';
import type { Conversation, SyntheticUser } from './user.js';
import {
  CARRIERS,
  CITIES,
  DEVICES,
  HASHTAGS,
  NETWORKS,
  OFF_TIKTOK_EVENTS,
  OFF_TIKTOK_SOURCES,
  SHARE_METHODS,
  SONGS,
  TOPICS,
} from './vocab.js';

const S = {
  watch: streamId('watch'),
  video: streamId('video-id'),
  like: streamId('like'),
  fav: streamId('favorite'),
  search: streamId('search'),
  share: streamId('share'),
  comment: streamId('comment'),
  user: streamId('user-list'),
  login: streamId('login'),
  post: streamId('post'),
  postLink: streamId('post-link'),
  live: streamId('live'),
  goLive: streamId('go-live'),
  gift: streamId('gift'),
  hashtag: streamId('hashtag'),
  off: streamId('off-tiktok'),
  status: streamId('status'),
  repost: streamId('repost'),
  ads: streamId('ads-visit'),
  message: streamId('message'),
  member: streamId('member'),
  device: streamId('device'),
} as const;

/** Id of a video referred to by record `j` of `seg`: created some time before the record's slot. */
function videoIdAt(seg: Segment, j: number): string {
  const r = Rand.of(seg.key, S.video, j);
  const age = r.float() < 0.5 ? r.int(10 * MINUTE, 3 * DAY) : r.int(3 * DAY, 400 * DAY);
  return tiktokId(slotStart(seg, j) - age, r.u32());
}

export interface WatchItem {
  ts: number;
  videoId: string;
  title: string;
}

export function watchItem(c: Cursor, withTitle: boolean): WatchItem {
  const r = Rand.of(c.seg.key, S.watch, c.j);
  const ts = slotTime(c.seg, c.j, r.float());
  // Some videos are watched again shortly after: reuse the id of a previous record.
  const back = c.j > 0 && r.chance(0.04) ? Math.min(c.j, r.int(1, 5)) : 0;
  const videoId = videoIdAt(c.seg, c.j - back);
  const title = withTitle && r.chance(0.45) ? caption(r) : '';
  return { ts, videoId, title };
}

export interface DatedVideo {
  ts: number;
  videoId: string;
}

/** Likes, favorite videos and reposts: a date and a video. */
export function datedVideoItem(c: Cursor, stream: 'like' | 'fav' | 'repost'): DatedVideo {
  const r = Rand.of(c.seg.key, S[stream], c.j);
  return { ts: slotTime(c.seg, c.j, r.float()), videoId: videoIdAt(c.seg, c.j) };
}

export interface FavoriteItem {
  ts: number;
  link: string;
  /** Collection name (2026 `FavoriteCollection`). */
  name: string;
}

export function favoriteItem(c: Cursor, kind: 'sound' | 'hashtag' | 'effect' | 'collection'): FavoriteItem {
  const r = Rand.of(c.seg.key, S.fav, c.j);
  const ts = slotTime(c.seg, c.j, r.float());
  switch (kind) {
    case 'sound':
      return { ts, link: soundLink(tiktokId(ts - r.int(DAY, 700 * DAY), r.u32())), name: '' };
    case 'hashtag':
      return { ts, link: challengeLink(String(r.int(10_000, 9_999_999_999))), name: '' };
    case 'effect':
      return { ts, link: effectLink(String(r.int(100_000, 3_999_999))), name: '' };
    default: {
      const name = r.chance(0.7) ? `${r.pick(TOPICS)} ${c.g + 1}` : shortText(r, 3);
      return { ts, link: '', name };
    }
  }
}

export interface SearchItem {
  ts: number;
  term: string;
}

export function searchItem(c: Cursor): SearchItem {
  const r = Rand.of(c.seg.key, S.search, c.j);
  return { ts: slotTime(c.seg, c.j, r.float()), term: searchTerm(r) };
}

export interface ShareItem {
  ts: number;
  content: string;
  link: string;
  method: string;
}

export function shareItem(c: Cursor): ShareItem {
  const r = Rand.of(c.seg.key, S.share, c.j);
  const ts = slotTime(c.seg, c.j, r.float());
  const method = r.pick(SHARE_METHODS);
  const x = r.float();
  if (x < 0.85) return { ts, content: 'video', link: videoLink(videoIdAt(c.seg, c.j)), method };
  if (x < 0.93) {
    return {
      ts,
      content: 'user',
      link: `https://www.tiktokv.com/share/user/${tiktokId(ts - YEAR, r.u32())}/`,
      method,
    };
  }
  return { ts, content: 'live', link: `https://www.tiktok.com/live/${tiktokId(ts - HOUR, r.u32())}`, method };
}

export interface CommentItem {
  ts: number;
  text: string;
  videoId: string;
}

export function commentItem(c: Cursor): CommentItem {
  const r = Rand.of(c.seg.key, S.comment, c.j);
  return { ts: slotTime(c.seg, c.j, r.float()), text: freeText(r, 0.08), videoId: videoIdAt(c.seg, c.j) };
}

export interface UserListItem {
  ts: number;
  username: string;
}

/** Followers, following, blocks. Handles are unique within a list (the global index is part of them). */
export function userListItem(c: Cursor): UserListItem {
  const r = Rand.of(c.seg.key, S.user, c.j);
  return { ts: slotTime(c.seg, c.j, r.float()), username: handle(r, c.g) };
}

export interface LoginItem {
  ts: number;
  ip: string;
  deviceModel: string;
  deviceSystem: string;
  networkType: string;
  carrier: string;
}

export function loginItem(u: SyntheticUser, c: Cursor): LoginItem {
  const r = Rand.of(c.seg.key, S.login, c.j);
  const ts = slotTime(c.seg, c.j, r.float());
  // A user logs in from two or three devices of their own.
  const d = Rand.of(u.profile.key, S.device, r.int(0, 2));
  const [deviceModel, deviceSystem] = d.pick(DEVICES);
  const networkType = r.pick(NETWORKS);
  const carrier = networkType === 'Wi-Fi' ? '' : d.pick(CARRIERS);
  return { ts, ip: ipAddress(r), deviceModel, deviceSystem, networkType, carrier };
}

export interface PostItem {
  ts: number;
  g: number;
  photo: boolean;
  /** Signed CDN link(s), valid a few hours after the export; photo posts join several with `\n`. */
  link: string;
  likes: number;
  whoCanView: string;
  allowComments: string;
  allowStitches: string;
  allowDuets: string;
  allowStickers: string;
  allowSharingToStory: string;
  contentDisclosure: string;
  aiGenerated: string;
  sound: string;
  location: string;
  title: string;
  addYoursText: string;
  alternateText: string;
  coverImage: string;
}

function signedVideoUrl(r: Rand, now: number): string {
  const host = r.pick(['v16m', 'v19', 'v77']);
  return (
    `https://${host}.tiktokv.com/storage/v1/tos-useast2a-pve-0068/${r.hex(32)}` +
    `?a=1233&bti=${r.hex(12)}&ch=0&cr=0&dr=0&cd=0%7C0%7C0%7C0&br=${r.int(800, 4000)}&bt=${r.int(400, 2000)}` +
    `&ft=${r.hex(10)}&mime_type=video_mp4&qs=0&rc=${r.hex(24)}&expire=${now + 6 * HOUR}` +
    `&l=${r.digits(14)}${r.hex(18).toUpperCase()}&ply_type=2&policy=2&signature=${r.hex(32)}&tk=tt_chain_token`
  );
}

function signedImageUrl(r: Rand, now: number): string {
  return (
    `https://p16-sign-va.ibyteimg.com/tos-maliva-i-photomode-us/${r.hex(32)}~tplv-photomode-image.jpeg` +
    `?x-expires=${now + 6 * HOUR}&x-signature=${r.hex(28)}%3D`
  );
}

/** Own posts. The link is re-signed for every export (`now`), as TikTok's CDN links are. */
export function postItem(u: SyntheticUser, c: Cursor): PostItem {
  const r = Rand.of(c.seg.key, S.post, c.j);
  const ts = slotTime(c.seg, c.j, r.float());
  const photo = r.chance(0.2);
  const base = Math.floor(r.float() < 0.7 ? r.int(0, 200) : r.int(200, 60_000) * r.float() ** 2);
  const likes = Math.max(0, base + (u.postLikeDelta[String(c.g)] ?? 0));
  const title = r.chance(0.85) ? caption(r) : '';
  const sound = r.chance(0.5)
    ? `original sound - ${u.username}`
    : `${r.pick(SONGS)} - ${r.pick(['Sabrina Carpenter', 'ROSÉ', 'Miley Cyrus', 'Taylor Swift', 'Harry Styles', 'Tyla'])}`;
  const fields = {
    whoCanView: r.weighted([
      ['Everyone', 8],
      ['Friends', 1],
      ['Only me', 1],
    ] as const),
    allowComments: r.weighted([
      ['Everyone', 8],
      ['Friends', 1],
      ['No one', 1],
    ] as const),
    allowStitches: r.chance(0.8) ? 'Everyone' : 'Only me',
    allowDuets: r.chance(0.8) ? 'Everyone' : 'Only me',
    allowStickers: r.chance(0.8) ? 'Everyone' : 'Only me',
    allowSharingToStory: r.chance(0.9) ? 'Yes' : 'No',
    contentDisclosure: r.chance(0.9) ? 'None' : 'Your brand',
    aiGenerated: r.chance(0.95) ? 'No' : 'Yes',
    location: r.chance(0.3) ? r.pick(CITIES) : '',
    addYoursText: r.chance(0.1) ? shortText(r, 4) : '',
    alternateText: r.chance(0.1) ? shortText(r, 8) : '',
  };
  const l = Rand.of(c.seg.key ^ u.now, S.postLink, c.j);
  let link: string;
  if (photo) {
    const n = l.int(2, 6);
    const urls: string[] = [];
    for (let i = 0; i < n; i++) urls.push(signedImageUrl(l, u.now));
    link = urls.join('\n');
  } else {
    link = signedVideoUrl(l, u.now);
  }
  const coverImage = signedImageUrl(l, u.now);
  return { ts, g: c.g, photo, link, likes, title, sound, coverImage, ...fields };
}

export interface LiveComment {
  ts: number;
  text: string;
}

export interface LiveWatchItem {
  roomId: string;
  ts: number;
  link: string;
  /** `null` when the user wrote nothing (TikTok writes `null`, not `[]`). */
  comments: LiveComment[] | null;
}

export function liveWatchItem(u: SyntheticUser, c: Cursor): LiveWatchItem {
  const r = Rand.of(c.seg.key, S.live, c.j);
  const ts = slotTime(c.seg, c.j, r.float());
  const started = ts - r.int(MINUTE, 2 * HOUR);
  const roomId = tiktokId(started, r.u32());
  const host = handle(r, c.g);
  const n = r.chance(0.4) ? 0 : r.int(1, 5);
  let comments: LiveComment[] | null = null;
  if (n > 0) {
    comments = [];
    let t = ts;
    for (let i = 0; i < n; i++) {
      t = Math.min(u.now - 1, t + r.int(5, 10 * MINUTE));
      comments.push({ ts: t, text: shortText(r, 7) });
    }
    comments.reverse();
  }
  return { roomId, ts, link: `https://www.tiktok.com/@${host}/live`, comments };
}

export interface GoLiveItem {
  start: number;
  end: number;
  roomId: string;
  title: string;
  cover: string;
  replay: string;
  earning: string;
  likes: string;
  views: string;
  gifters: string;
  quality: string;
}

export function goLiveItem(c: Cursor): GoLiveItem {
  const r = Rand.of(c.seg.key, S.goLive, c.j);
  const start = slotTime(c.seg, c.j, r.float());
  const end = Math.min(c.seg.to - 1, start + r.int(2 * MINUTE, 3 * HOUR));
  const roomId = tiktokId(start, r.u32());
  return {
    start,
    end,
    roomId,
    title: shortText(r, 5),
    cover: `https://p16-webcast.tiktokcdn.com/webcast-va/${r.hex(32)}~tplv-obj.image`,
    replay: r.chance(0.3) ? `https://www.tiktok.com/live/replay/${roomId}` : '',
    earning: String(r.int(0, 400)),
    likes: String(r.int(0, 20_000)),
    views: String(r.int(1, 5_000)),
    gifters: String(r.int(0, 40)),
    quality: r.pick(['480x864', '540x960', '720x1280', '1080x1920']),
  };
}

export interface GiftItem {
  ts: number;
  /** Send: gift amount in coins; buy: price with currency. */
  amount: string;
  username: string;
}

export function sendGiftItem(c: Cursor): GiftItem {
  const r = Rand.of(c.seg.key, S.gift, c.j);
  return {
    ts: slotTime(c.seg, c.j, r.float()),
    amount: String(r.pick([1, 1, 1, 5, 10, 30, 99, 199, 299, 500, 1000])),
    username: handle(r, c.g),
  };
}

export function buyGiftItem(c: Cursor): GiftItem {
  const r = Rand.of(c.seg.key, S.gift, c.j + 0x4000_0000);
  const price = r.pick(['0.99', '4.99', '9.99', '19.99', '49.99', '99.99']);
  return { ts: slotTime(c.seg, c.j, r.float()), amount: `${r.pick(['€', '£', '$'])}${price}`, username: '' };
}

export interface CoinPurchaseItem {
  ts: number;
  type: string;
  coins: number;
}

export function coinPurchaseItem(c: Cursor): CoinPurchaseItem {
  const r = Rand.of(c.seg.key, S.gift, c.j + 0x2000_0000);
  return {
    ts: slotTime(c.seg, c.j, r.float()),
    type: r.pick(['Recharge', 'Recharge', 'Bonus']),
    coins: r.pick([30, 70, 350, 700, 1400, 3500, 7000]),
  };
}

export interface HashtagItem {
  name: string;
  link: string;
}

export function hashtagItem(c: Cursor): HashtagItem {
  const base = HASHTAGS[c.g % HASHTAGS.length]!;
  const round = Math.floor(c.g / HASHTAGS.length);
  const name = round === 0 ? base : `${base}${round}`;
  return { name, link: `https://www.tiktok.com/tag/${encodeURIComponent(name)}` };
}

export interface OffTikTokItem {
  ts: number;
  source: string;
  event: string;
}

export function offTikTokItem(c: Cursor): OffTikTokItem {
  const r = Rand.of(c.seg.key, S.off, c.j);
  return {
    ts: slotTime(c.seg, c.j, r.float()),
    source: r.pick(OFF_TIKTOK_SOURCES),
    event: r.pick(OFF_TIKTOK_EVENTS),
  };
}

export interface StatusItem {
  resolution: string;
  appVersion: string;
  idfa: string;
  gaid: string;
  androidId: string;
  idfv: string;
  /** A 19-digit integer that TikTok writes as a bare JSON number. */
  uid: string;
  did: string;
  webId: string;
}

export function statusItem(u: SyntheticUser, c: Cursor): StatusItem {
  const r = Rand.of(c.seg.key, S.status, c.j);
  const ios = r.chance(0.5);
  return {
    resolution: r.pick(['1170*2532', '1179*2556', '1080*2340', '1440*3120', '1920*1080']),
    appVersion: `${r.int(30, 42)}.${r.int(0, 9)}.${r.int(0, 9)}`,
    idfa: ios ? uuid(r) : '',
    gaid: ios ? '' : r.chance(0.5) ? uuid(r).toLowerCase() : '',
    androidId: ios ? '' : r.hex(16),
    idfv: ios ? uuid(r) : '',
    uid: tiktokId(u.createdAt, Rand.of(u.profile.key, S.status, 0).u32()),
    did: tiktokId(u.createdAt + r.int(0, 30 * DAY), r.u32()),
    webId: r.chance(0.3) ? tiktokId(u.createdAt + r.int(0, 90 * DAY), r.u32()) : '',
  };
}

export interface AdsVisitItem {
  ts: number;
  title: string;
  link: string;
}

export function adsVisitItem(c: Cursor): AdsVisitItem {
  const r = Rand.of(c.seg.key, S.ads, c.j);
  const ts = slotTime(c.seg, c.j, r.float());
  return {
    ts,
    title: shortText(r, 5),
    link: `https://shop.example.com/landing?utm_source=tiktok&utm_medium=paid&ttclid=${r.hex(40)}&cid=${r.digits(19)}`,
  };
}

export interface Message {
  ts: number;
  from: string;
  content: string;
}

function members(u: SyntheticUser, conv: Conversation): string[] {
  const r = Rand.of(conv.key, S.member, 0);
  const n = r.int(2, 5);
  const out = [u.username];
  for (let i = 0; i < n; i++) out.push(handle(r, i));
  return out;
}

function messageContent(r: Rand, ts: number): string {
  const x = r.float();
  if (x < 0.18) return videoLink(tiktokId(ts - r.int(HOUR, 200 * DAY), r.u32()));
  if (x < 0.2) return `https://www.tiktokv.com/share/user/${tiktokId(ts - YEAR, r.u32())}/`;
  if (x < 0.23) return `[https://media.giphy.com/media/${r.hex(18)}/giphy.gif]`;
  return freeText(r, 0.08);
}

/**
 * A conversation's messages, newest first. Messages come in pairs drawn together; in about 3% of the
 * pairs the second is the same message again (same second, sender and content), as TikTok exports show
 * when a message was delivered twice. Such pairs are legitimate duplicates and must both be kept.
 */
export function* conversationMessages(u: SyntheticUser, conv: Conversation): Generator<Message> {
  const people = conv.group ? members(u, conv) : [u.username, conv.peer];
  const segs = conv.messages.segments;
  for (let s = segs.length - 1; s >= 0; s--) {
    const seg = segs[s]!;
    const pairs = Math.ceil(seg.count / 2);
    const pseg: Segment = { key: seg.key, count: pairs, from: seg.from, to: seg.to };
    for (let k = pairs - 1; k >= 0; k--) {
      const r = Rand.of(seg.key, S.message, k);
      const t0 = slotTime(pseg, k, r.float());
      const first: Message = { ts: t0, from: r.pick(people), content: messageContent(r, t0) };
      if (2 * k + 1 < seg.count) {
        let second: Message;
        if (r.chance(0.03)) {
          second = { ...first };
        } else {
          const limit = k + 1 < pairs ? slotStart(pseg, k + 1) : seg.to;
          const t1 = r.chance(0.1) || limit <= t0 + 1 ? t0 : t0 + Math.floor(r.float() * (limit - t0));
          second = { ts: t1, from: r.pick(people), content: messageContent(r, t1) };
        }
        yield second;
      }
      yield first;
    }
  }
}
