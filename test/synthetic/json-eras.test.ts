import { describe, expect, it } from 'vitest';
import { ERAS, generateUser, renderJson } from '../../src/synthetic/index.js';
import { countJson } from './export-reader.js';

const user = generateUser({ seed: 11, username: 'era.tester', scale: 600 });
// biome-ignore lint/suspicious/noExplicitAny: parsed JSON
const parse = (era: (typeof ERAS)[number]): any => JSON.parse(renderJson(user, { era }).text);

const DATE = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/;
const VIDEO = /^https:\/\/www\.tiktokv\.com\/share\/video\/(\d{19})\/$/;

describe('renderJson', () => {
  it('writes the 2021–2023 user_data.json layout with capitalized keys', () => {
    const r = renderJson(user, { era: '2021-2023' });
    expect(r.name).toBe('user_data.json');
    const doc = JSON.parse(r.text);
    expect(Object.keys(doc)).toEqual([
      'Activity',
      'Ads and data',
      'App Settings',
      'Comment',
      'Direct Messages',
      'Profile',
      'Tiktok Live',
      'Tiktok Shopping',
      'Video',
    ]);
    const watch = doc.Activity['Video Browsing History'].VideoList;
    expect(watch[0].Date).toMatch(DATE);
    expect(watch[0].Link).toMatch(VIDEO);
    expect(doc.Activity['Like List'].ItemFavoriteList[0]).toHaveProperty('Date');
    expect(doc.Activity['Like List'].ItemFavoriteList[0]).toHaveProperty('Link');
    expect(doc.Activity['Favorite Effects'].FavoriteEffectsList[0]).toHaveProperty('EffectLink');
    expect(doc.Activity['Follower List'].FansList[0]).toHaveProperty('UserName');
    expect(Object.keys(doc.Comment.Comments.CommentsList[0])).toEqual(['Date', 'Comment']);
    expect(Object.keys(doc['Direct Messages']['Chat History'].ChatHistory)[0]).toMatch(
      /^Chat History with .+:$/,
    );
    expect(doc['App Settings'].Block.BlockList[0]).toHaveProperty('UserName');
    expect(Object.keys(doc.Video.Videos.VideoList[0])).toEqual(['Date', 'Link', 'Likes']);
    expect(doc.Profile['Profile Information'].ProfileMap.birthDate).toMatch(/^\d\d-[A-Z][a-z]{2}-\d{4}$/);
  });

  it('writes the late-2025 user_data_tiktok.json layout with lowercase like and comment keys', () => {
    const r = renderJson(user, { era: '2025' });
    expect(r.name).toBe('user_data_tiktok.json');
    const doc = JSON.parse(r.text);
    expect(Object.keys(doc)).toEqual([
      'Ads and data',
      'App Settings',
      'Comment',
      'Direct Message',
      'Income Plus Wallet Transactions',
      'Location Review',
      'Post',
      'Profile',
      'TikTok Shop',
      'Tiktok Live',
      'Your Activity',
    ]);
    const act = doc['Your Activity'];
    expect(Object.keys(act['Watch History'].VideoList[0])).toEqual(['Date', 'Link']);
    expect(Object.keys(act['Like List'].ItemFavoriteList[0])).toEqual(['date', 'link']);
    expect(act['Like List'].App).toBe(1);
    expect(act.Follower.IsFastLane).toBe(false);
    expect(Object.keys(doc.Comment.Comments.CommentsList[0])).toEqual(['date', 'comment', 'photo', 'url']);
    expect(doc['Direct Message']['Direct Messages'].ChatHistory).toBeTypeOf('object');
    const post = doc.Post.Posts.VideoList[0];
    expect(post.Likes).toMatch(/^\d+$/);
    expect(post).toHaveProperty('WhoCanView');
    expect(post).toHaveProperty('AllowComments');
    expect(doc.Post['Recently Deleted Posts'].PostList).toEqual([]);
    const profile = doc.Profile['Profile Info'].ProfileMap;
    expect(profile.likesReceived).toMatch(/^\d+$/);
    expect(profile.followerCount).toBeTypeOf('number');
    expect(Array.isArray(profile.PlatformInfo)).toBe(true);
    expect(doc['App Settings'].Settings.SettingsMap.Interests).toBeTypeOf('string');
    expect(doc['TikTok Shop']['Order History'].OrderHistories).toBeNull();
    expect(doc['Income Plus Wallet Transactions']['Transaction History'].TransactionsList).toBeNull();
    // Off-TikTok activity is written oldest first, as in real exports.
    const off = doc['Ads and data']['Off TikTok Activity'].OffTikTokActivityDataList;
    expect(off[0].TimeStamp <= off[off.length - 1].TimeStamp).toBe(true);
  });

  it('writes the 2026 layout: Likes and Favorites, Profile And Settings, UTC comment dates, titles', () => {
    const doc = parse('2026');
    expect(Object.keys(doc)).toEqual([
      'Comment',
      'Direct Message',
      'Income+ Wallet',
      'Likes and Favorites',
      'Location Review',
      'Post',
      'Profile And Settings',
      'TikTok Live',
      'TikTok Shop',
      'Your Activity',
    ]);
    expect(doc['Likes and Favorites']['Like List'].ItemFavoriteList[0].date).toMatch(DATE);
    expect(doc['Likes and Favorites']['Like List'].ItemFavoriteList[0].link).toMatch(VIDEO);
    expect(doc['Likes and Favorites']['Favorite Collection'].FavoriteCollectionList[0]).toHaveProperty(
      'FavoriteCollection',
    );
    expect(doc['Likes and Favorites']['Favorite Comment'].FavoriteCommentList).toEqual([]);
    expect(doc['Likes and Favorites']['Favorite Drama']).toEqual({});
    expect(Object.keys(doc['Your Activity']['Watch History'].VideoList[0])).toEqual([
      'Date',
      'Link',
      'Title',
    ]);
    const comment = doc.Comment.Comments.CommentsList[0];
    expect(comment.date).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
    expect(comment).toHaveProperty('original post link');
    expect(comment.originalPostUrl).toMatch(VIDEO);
    const ps = doc['Profile And Settings'];
    expect(ps.Follower.FansList[0]).toHaveProperty('UserName');
    expect(ps['Profile Info'].ProfileMap.accountRegion).toMatch(/^[A-Z]{2}$/);
    expect(ps.Settings.SettingsMap).toHaveProperty(['Who can see your following list::']);
    expect(ps['Off TikTok Activity']).toEqual(doc['Your Activity']['Off TikTok Activity']);
    expect(doc['Direct Message']['Group Chat'].GroupChat).toEqual({});
    expect(doc['Income+ Wallet']['Coin Purchase History'].CoinPurchaseHistoryList[0].CoinAmount).toBeTypeOf(
      'number',
    );
  });

  it('keeps 19-digit ids exact: video links, live room keys and the bare UID number', () => {
    const r = renderJson(user, { era: '2026' });
    const doc = JSON.parse(r.text);
    const id = VIDEO.exec(doc['Your Activity']['Watch History'].VideoList[0].Link)![1]!;
    expect(BigInt(id) > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
    for (const room of Object.keys(doc['TikTok Live']['Watch Live History'].WatchLiveMap)) {
      expect(room).toMatch(/^\d{19}$/);
    }
    expect(r.text).toMatch(/"UID": \d{19},/);
  });

  it('writes each list newest first', () => {
    for (const era of ERAS) {
      const doc = parse(era);
      const act = era === '2021-2023' ? doc.Activity : doc['Your Activity'];
      const list = (act['Watch History'] ?? act['Video Browsing History']).VideoList;
      const dates = list.map((x: { Date: string }) => x.Date);
      expect(dates).toEqual([...dates].sort().reverse());
    }
  });

  it('reports the same row counts as an independent walk of each era', () => {
    for (const era of ERAS) {
      const r = renderJson(user, { era });
      expect(r.expected).toEqual(countJson(JSON.parse(r.text), era));
      expect(r.records).toBe(Object.values(r.expected).reduce((a, b) => a + (b ?? 0), 0));
      expect(r.expected.profile).toBe(1);
    }
  });

  it('encodes empty sections as TikTok does: null, [] or {}', () => {
    const empty = generateUser({
      seed: 3,
      username: 'quiet.one',
      scale: 50,
      counts: { blocks: 0, followers: 0, favEffects: 0, watch: 0, dmMessages: 0, liveWatch: 0 },
    });
    for (const era of ['2025', '2026'] as const) {
      const r = renderJson(empty, { era });
      const doc = JSON.parse(r.text);
      const people = era === '2026' ? doc['Profile And Settings'] : doc['Your Activity'];
      const settings = era === '2026' ? doc['Profile And Settings'] : doc['App Settings'];
      const favs = era === '2026' ? doc['Likes and Favorites'] : doc['Your Activity'];
      expect(settings['Block List'].BlockList).toBeNull();
      expect(people.Follower.FansList).toEqual([]);
      expect(favs['Favorite Effects'].FavoriteEffectsList).toEqual([]);
      expect(doc['Your Activity']['Watch History'].VideoList).toBeNull();
      expect(doc['Direct Message']['Direct Messages'].ChatHistory).toEqual({});
      expect(doc[era === '2026' ? 'TikTok Live' : 'Tiktok Live']['Watch Live History'].WatchLiveMap).toEqual(
        {},
      );
      expect(r.expected).toMatchObject({ blocks: 0, followers: 0, watch_history: 0, dm_conversations: 0 });
      expect(r.expected).toEqual(countJson(doc, era));
    }
  });
});
