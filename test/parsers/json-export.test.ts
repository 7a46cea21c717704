import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ArchiveError } from '../../src/errors.js';
import { parseJsonExport } from '../../src/parsers/json-export.js';
import type { ParseEvent, RecordEvent, SectionEvent, WarningEvent } from '../../src/parsers/records.js';
import { detectEra } from '../../src/parsers/sections.js';

type Era = '2021-2023' | '2025' | '2026';

/** A JSON number written exactly (JSON.stringify cannot write 19-digit integers). */
const num = (digits: string) => `@@${digits}@@`;

function toJson(value: unknown, indent = 2): string {
  return JSON.stringify(value, null, indent).replace(/"@@(-?\d+(?:\.\d+)?)@@"/g, '$1');
}

function chunks(text: string, size: number): Buffer[] {
  const buf = Buffer.from(text);
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
  return out;
}

async function parse(
  text: string,
  options: { member?: string; chunkSize?: number; signal?: AbortSignal; keys?: string[] } = {},
): Promise<ParseEvent[]> {
  const events: ParseEvent[] = [];
  const stream = Readable.from(chunks(text, options.chunkSize ?? 64 * 1024));
  const member = options.member ?? 'user_data_tiktok.json';
  for await (const e of parseJsonExport(stream, member, {
    ...(options.signal ? { signal: options.signal } : {}),
    onTopLevelKey: (k) => options.keys?.push(k),
  })) {
    events.push(e);
  }
  return events;
}

async function failure(text: string, options: { chunkSize?: number } = {}): Promise<ArchiveError> {
  try {
    await parse(text, options);
  } catch (error) {
    expect(error).toBeInstanceOf(ArchiveError);
    return error as ArchiveError;
  }
  throw new Error('expected the parse to fail');
}

const records = (events: ParseEvent[]) => events.filter((e): e is RecordEvent => e.kind === 'record');
const sections = (events: ParseEvent[]) => events.filter((e): e is SectionEvent => e.kind === 'section');
const warnings = (events: ParseEvent[]) => events.filter((e): e is WarningEvent => e.kind === 'warning');
const rowsOf = (events: ParseEvent[], table: string, part = '') =>
  records(events)
    .filter((e) => e.table === table && e.part === part)
    .map((e) => e.row);

const V1 = '7312345678901234567';
const V2 = '7312345678901234568';
const ROOM = '7349453257475769528';

/** The same account, written the way each era writes it. */
function eraDocument(era: Era): Record<string, unknown> {
  const old = era === '2021-2023';
  const y26 = era === '2026';
  const date = (d: string) => (y26 ? `${d} UTC` : d);
  const dl = (d: string, link: string) => (old ? { Date: d, Link: link } : { date: d, link });
  const watch = {
    VideoList: [
      { Date: '2024-05-01 12:34:56', Link: `https://www.tiktokv.com/share/video/${V1}/` },
      { Date: '2024-05-02 08:00:00', Link: `https://www.tiktokv.com/share/video/${V2}/` },
    ],
  };
  const likes = {
    ItemFavoriteList: [dl('2024-04-01 10:00:00', `https://www.tiktokv.com/share/video/${V2}/`)],
  };
  const favorites = {
    'Favorite Videos': {
      FavoriteVideoList: [
        { Date: '2024-03-01 09:00:00', Link: `https://www.tiktokv.com/share/video/${V1}/` },
      ],
    },
    'Favorite Sounds': {
      FavoriteSoundList: [
        { Date: '2024-03-02 09:00:00', Link: 'https://m.tiktok.com/h5/share/music/6712345678901234567.html' },
      ],
    },
    'Favorite Hashtags': {
      FavoriteHashtagList: [
        { Date: '2024-03-03 09:00:00', Link: 'https://www.tiktok.com/share/challenge/1234567/' },
      ],
    },
    'Favorite Effects': {
      FavoriteEffectsList: [
        old
          ? { Date: '2024-03-04 09:00:00', Link: 'https://m.tiktok.com/share/stickers/detail/987654.html' }
          : {
              Date: '2024-03-04 09:00:00',
              EffectLink: 'https://m.tiktok.com/share/stickers/detail/987654.html',
            },
      ],
    },
  };
  const activity = {
    [old ? 'Video Browsing History' : 'Watch History']: watch,
    [old ? 'Search History' : 'Searches']: {
      SearchList: [{ Date: '2024-02-01 10:00:00', SearchTerm: 'cats' }],
    },
    // Present but empty, written three ways.
    'Share History': old ? { ShareHistoryList: null } : era === '2025' ? { ShareHistoryList: [] } : {},
    'Login History': {
      LoginHistoryList: [
        {
          Date: '2024-01-01 07:00:00',
          IP: '192.0.2.1',
          DeviceModel: 'Pixel 8',
          DeviceSystem: 'Android 14',
          NetworkType: 'Wi-Fi',
          Carrier: 'N/A',
        },
      ],
    },
    Hashtag: { HashtagList: [{ HashtagName: 'dance', HashtagLink: 'https://www.tiktok.com/tag/dance' }] },
    [old ? 'Purchase History' : 'Purchases']: {
      SendGifts: { SendGifts: [{ Date: '2024-01-05 20:00:00', GiftAmount: '5', UserName: 'bob' }] },
      BuyGifts: { BuyGifts: [{ Date: '2024-01-04 20:00:00', Price: '£0.99' }] },
    },
  };
  const people = {
    [old ? 'Follower List' : 'Follower']: {
      App: 1,
      IsFastLane: false,
      FansList: [{ Date: '2023-12-01 00:00:00', UserName: 'fan_1' }],
    },
    [old ? 'Following List' : 'Following']: {
      Following: [{ Date: '2023-12-02 00:00:00', UserName: 'star_1' }],
    },
  };
  const block = {
    [old ? 'Block' : 'Block List']: { BlockList: [{ Date: '2023-11-01 00:00:00', UserName: 'troll' }] },
  };
  const settings = {
    Settings: {
      App: 1,
      SettingsMap: {
        'Allow DownLoad': 'Off',
        'Private Account': 'Enabled',
        'Push Notification': { 'New Fans': 'Default' },
        Interests: 'Dance|Sports',
        'Who can see your following list::': 'Only me',
      },
    },
  };
  const profile = {
    [old ? 'Profile Information' : 'Profile Info']: {
      ProfileMap: {
        userName: 'era.tester',
        displayName: 'Era',
        bioDescription: 'hi',
        birthDate: '05-Jul-2001',
        emailAddress: 'era@example.com',
        telephoneNumber: '',
        likesReceived: '123',
        followerCount: num('7'),
        followingCount: num('9'),
        profilePhoto: 'https://p16.example/x.jpeg',
        profileVideo: 'None',
        inferredGender: 'N/A',
      },
    },
  };
  const comments = {
    Comments: {
      CommentsList: [
        old
          ? { Date: '2024-04-10 10:00:00', Comment: 'nice' }
          : y26
            ? {
                date: date('2024-04-10 10:00:00'),
                comment: 'nice',
                photo: '',
                video: '',
                sticker: '',
                originalPostUrl: '',
                'original post link': '',
              }
            : { date: '2024-04-10 10:00:00', comment: 'nice', photo: '', url: '' },
      ],
    },
  };
  const posts = {
    [old ? 'Videos' : 'Posts']: {
      VideoList: [
        { Date: '2024-04-20 18:00:00', Link: 'https://v16m.tiktokv.com/storage/v1/abc', Likes: '42' },
      ],
    },
  };
  const dms = {
    [old ? 'Chat History' : 'Direct Messages']: {
      ChatHistory: {
        'Chat History with ana_23:': [
          {
            Date: date('2024-04-11 10:00:00'),
            From: 'ana_23',
            Content: `https://www.tiktokv.com/share/video/${V1}/`,
          },
          { Date: date('2024-04-11 10:01:00'), From: 'era.tester', Content: 'haha' },
        ],
      },
    },
  };
  const live = {
    'Watch Live History': {
      WatchLiveMap: {
        [ROOM]: {
          WatchTime: '2024-03-23 08:27:08',
          Link: 'https://www.tiktok.com/@someone/live',
          Comments: [
            { CommentTime: '2024-03-23 08:30:26', CommentContent: 'hello', RawTime: num('1711182626') },
          ],
          Questions: null,
        },
      },
    },
    'Go Live History': {
      GoLiveList: [
        {
          LiveStartTime: '2024-02-02 20:00:00',
          LiveEndTime: '2024-02-02 21:00:00',
          LiveDuration: '1h',
          RoomId: '7349453257475769999',
          RoomTitle: 'chat',
          TotalLike: '10',
        },
      ],
    },
  };
  if (old) {
    return {
      Activity: { ...activity, 'Like List': likes, ...favorites, ...people },
      'App Settings': { ...block, ...settings },
      Comment: comments,
      'Direct Messages': dms,
      Profile: profile,
      'Tiktok Live': live,
      Video: posts,
    };
  }
  if (era === '2025') {
    return {
      'App Settings': { ...block, ...settings },
      Comment: comments,
      'Direct Message': dms,
      Post: posts,
      Profile: profile,
      'Tiktok Live': live,
      'Your Activity': { ...activity, 'Like List': likes, ...favorites, ...people },
    };
  }
  return {
    Comment: comments,
    'Direct Message': dms,
    'Likes and Favorites': { 'Like List': likes, ...favorites },
    Post: posts,
    'Profile And Settings': { ...profile, ...people, ...block, ...settings },
    'TikTok Live': live,
    'Your Activity': activity,
  };
}

const sortedRecords = (events: ParseEvent[]) =>
  records(events)
    .map((e) => JSON.stringify([e.table, e.part, e.row]))
    .sort();

const announced = (events: ParseEvent[]) =>
  [...new Set(sections(events).map((e) => `${e.table}/${e.part}`))].sort();

describe('json-export', () => {
  it('maps the same logical data to the same rows in every era', async () => {
    const byEra = new Map<Era, ParseEvent[]>();
    for (const era of ['2021-2023', '2025', '2026'] as const) {
      const keys: string[] = [];
      const events = await parse(toJson(eraDocument(era)), { keys });
      expect(detectEra(keys)).toBe(era);
      // The fixture writes TikTok's placeholders in a few fields; they are counted, nothing else.
      expect(new Set(warnings(events).map((w) => w.code))).toEqual(new Set(['placeholder']));
      expect(warnings(events).map((w) => w.field)).toEqual(
        expect.arrayContaining(['Carrier', 'inferredGender']),
      );
      byEra.set(era, events);
    }
    const reference = byEra.get('2021-2023')!;
    expect(records(reference).length).toBeGreaterThan(20);
    for (const era of ['2025', '2026'] as const) {
      expect(sortedRecords(byEra.get(era)!)).toEqual(sortedRecords(reference));
      expect(announced(byEra.get(era)!)).toEqual(announced(reference));
    }
  });

  it('normalizes dates, empties and ids into the row shapes', async () => {
    const events = await parse(toJson(eraDocument('2026')));
    expect(rowsOf(events, 'watch_history')).toEqual([
      {
        watched_at: '2024-05-01T12:34:56Z',
        video_id: V1,
        link: `https://www.tiktokv.com/share/video/${V1}/`,
        title: null,
        extra: null,
      },
      {
        watched_at: '2024-05-02T08:00:00Z',
        video_id: V2,
        link: `https://www.tiktokv.com/share/video/${V2}/`,
        title: null,
        extra: null,
      },
    ]);
    expect(rowsOf(events, 'comments')).toEqual([
      {
        commented_at: '2024-04-10T10:00:00Z',
        comment: 'nice',
        photo: null,
        video: null,
        sticker: null,
        url: null,
        video_id: null,
        extra: null,
      },
    ]);
    expect(rowsOf(events, 'profile')).toEqual([
      {
        username: 'era.tester',
        display_name: 'Era',
        bio: 'hi',
        birth_date: '2001-07-05',
        email: 'era@example.com',
        phone: null,
        likes_received: '123',
        follower_count: '7',
        following_count: '9',
        profile_photo: 'https://p16.example/x.jpeg',
        profile_video: null,
        inferred_gender: null,
        account_region: null,
        extra: '{"profileVideo":"None","inferredGender":"N/A"}',
      },
    ]);
    expect(rowsOf(events, 'favorites', 'sound')[0]).toMatchObject({ item_id: '6712345678901234567' });
    expect(rowsOf(events, 'favorites', 'effect')[0]).toMatchObject({ item_id: '987654' });
    expect(rowsOf(events, 'favorites', 'hashtag')[0]).toMatchObject({ item_id: '1234567' });
    expect(rowsOf(events, 'purchases', 'send_gift')).toEqual([
      { purchased_at: '2024-01-05T20:00:00Z', amount: '5', username: 'bob', extra: null },
    ]);
    expect(rowsOf(events, 'purchases', 'buy_gift')).toEqual([
      { purchased_at: '2024-01-04T20:00:00Z', amount: '£0.99', username: null, extra: null },
    ]);
    expect(rowsOf(events, 'logins')[0]).toMatchObject({ ip: '192.0.2.1', carrier: null });
    expect(rowsOf(events, 'posts', 'posted')[0]).toMatchObject({
      likes: '42',
      posted_at: '2024-04-20T18:00:00Z',
    });
  });

  it('reads settings leaves with nested keys joined and the malformed key kept', async () => {
    const events = await parse(toJson(eraDocument('2025')));
    expect(rowsOf(events, 'settings')).toEqual([
      { key: 'Allow DownLoad', value: 'Off' },
      { key: 'Private Account', value: 'Enabled' },
      { key: 'Push Notification / New Fans', value: 'Default' },
      { key: 'Interests', value: 'Dance|Sports' },
      { key: 'Who can see your following list::', value: 'Only me' },
    ]);
  });

  it('writes lists and objects inside settings as JSON text with exact numbers', async () => {
    const doc = `{"Profile And Settings":{"Settings":{"SettingsMap":{"ScreenTime":[{"Limit":${'9'.repeat(19)}}],"Family":{},"Filters":{"Words":["a","b"]}}}}}`;
    expect(rowsOf(await parse(doc), 'settings')).toEqual([
      { key: 'ScreenTime', value: `[{"Limit":${'9'.repeat(19)}}]` },
      { key: 'Family', value: '{}' },
      { key: 'Filters / Words', value: '["a","b"]' },
    ]);
  });

  it('takes a LIVE room id from the map key, keeping a different RoomId of the entry in extra', async () => {
    const events = await parse(
      toJson({
        'Tiktok Live': {
          'Watch Live History': {
            WatchLiveMap: {
              '7000000000000000001': { WatchTime: '2024-02-01 20:00:00', RoomId: '7000000000000000002' },
              '7000000000000000003': { WatchTime: '2024-02-01 21:00:00', RoomId: '7000000000000000003' },
            },
          },
        },
      }),
    );
    expect(rowsOf(events, 'live_sessions', 'watch_live').map((r) => [r.room_id, r.extra])).toEqual([
      ['7000000000000000001', '{"RoomId":"7000000000000000002"}'],
      ['7000000000000000003', null],
    ]);
  });

  it('reads DMs keyed by conversation and keeps the room id key of LIVE history exactly', async () => {
    const events = await parse(toJson(eraDocument('2021-2023')));
    expect(rowsOf(events, 'dm_conversations', 'direct')).toEqual([{ conversation: 'ana_23', extra: null }]);
    expect(rowsOf(events, 'dm_messages', 'direct')).toEqual([
      {
        conversation: 'ana_23',
        sent_at: '2024-04-11T10:00:00Z',
        sender: 'ana_23',
        content: `https://www.tiktokv.com/share/video/${V1}/`,
        video_id: V1,
        extra: null,
      },
      {
        conversation: 'ana_23',
        sent_at: '2024-04-11T10:01:00Z',
        sender: 'era.tester',
        content: 'haha',
        video_id: null,
        extra: null,
      },
    ]);
    expect(rowsOf(events, 'live_sessions', 'watch_live')).toEqual([
      {
        room_id: ROOM,
        started_at: '2024-03-23T08:27:08Z',
        ended_at: null,
        duration: null,
        title: null,
        link: 'https://www.tiktok.com/@someone/live',
        total_earning: null,
        total_likes: null,
        total_views: null,
        total_gifters: null,
        extra: '{"Questions":null}',
      },
    ]);
    expect(rowsOf(events, 'live_comments')).toEqual([
      {
        room_id: ROOM,
        commented_at: '2024-03-23T08:30:26Z',
        content: 'hello',
        // The session it was written in: with room_id, it names that session.
        session_started_at: '2024-03-23T08:27:08Z',
        extra: '{"RawTime":1711182626}',
      },
    ]);
    expect(rowsOf(events, 'live_sessions', 'go_live')[0]).toMatchObject({
      room_id: '7349453257475769999',
      started_at: '2024-02-02T20:00:00Z',
      ended_at: '2024-02-02T21:00:00Z',
      total_likes: '10',
    });
  });

  it('reads 2026 group chats and Tako chats into their own parts', async () => {
    const doc = {
      'Direct Message': {
        'Group Chat': {
          GroupChat: {
            'Weekend crew': [{ Date: '2026-01-01 10:00:00 UTC', From: 'ana', Content: 'hi all' }],
          },
        },
        'Tako Chat History': {
          TakoChatHistoryList: [
            {
              'Chat Title': 'Ask Tako',
              Messages: [{ Date: '2026-01-02 10:00:00 UTC', Content: 'what is this song' }],
            },
          ],
        },
      },
    };
    const events = await parse(toJson(doc));
    expect(announced(events)).toEqual([
      'dm_conversations/group',
      'dm_conversations/tako',
      'dm_messages/group',
      'dm_messages/tako',
    ]);
    expect(rowsOf(events, 'dm_conversations', 'group')).toEqual([
      { conversation: 'Weekend crew', extra: null },
    ]);
    expect(rowsOf(events, 'dm_messages', 'group')[0]).toMatchObject({ sender: 'ana', content: 'hi all' });
    expect(rowsOf(events, 'dm_conversations', 'tako')).toEqual([{ conversation: 'Ask Tako', extra: null }]);
    expect(rowsOf(events, 'dm_messages', 'tako')).toEqual([
      {
        conversation: 'Ask Tako',
        sent_at: '2026-01-02T10:00:00Z',
        sender: null,
        content: 'what is this song',
        video_id: null,
        extra: null,
      },
    ]);
  });

  it('keeps 19-digit numbers exact in extra and raw sections', async () => {
    const big = '12345678901234567890';
    const doc = `{"Your Activity":{"Watch History":{"VideoList":[{"Date":"2024-01-01 00:00:00","Link":"x","ItemId":${big},"Score":1.50e3}]},"Donation":{"DonationList":[{"UID":${big},"Resolution":"1080*1920"}]}}}`;
    const events = await parse(doc);
    expect(rowsOf(events, 'watch_history')[0]).toMatchObject({ extra: `{"ItemId":${big},"Score":1.50e3}` });
    expect(events.find((e) => e.kind === 'raw')).toEqual({
      kind: 'raw',
      path: 'Your Activity/Donation',
      json: `{"DonationList":[{"UID":${big},"Resolution":"1080*1920"}]}`,
    });
  });

  it('emits section events for present-but-empty sections and not for absent ones', async () => {
    const doc = {
      'Your Activity': {
        'Watch History': { VideoList: null },
        'Like List': { ItemFavoriteList: [] },
        Searches: {},
        'Share History': null,
        'Favorite Sounds': [],
      },
      'Direct Message': { 'Direct Messages': { ChatHistory: {} } },
    };
    const events = await parse(toJson(doc));
    expect(records(events)).toEqual([]);
    expect(announced(events)).toEqual([
      'dm_conversations/direct',
      'dm_messages/direct',
      'favorites/sound',
      'likes/',
      'searches/',
      'shares/',
      'watch_history/',
    ]);
    expect(sections(events).find((e) => e.table === 'watch_history')?.path).toBe(
      'Your Activity/Watch History',
    );
  });

  it('puts unknown keys into extra with one warning per section', async () => {
    const doc = {
      'Your Activity': {
        'Watch History': {
          VideoList: [
            { Date: '2024-01-01 00:00:00', Link: 'a', Mood: 'happy' },
            { Date: '2024-01-02 00:00:00', Link: 'b', Mood: 'sad', Nested: { x: [1, null, true] } },
          ],
        },
      },
    };
    const events = await parse(toJson(doc));
    expect(rowsOf(events, 'watch_history').map((r) => (r as { extra: string | null }).extra)).toEqual([
      '{"Mood":"happy"}',
      '{"Mood":"sad","Nested":{"x":[1,null,true]}}',
    ]);
    expect(warnings(events).map((w) => [w.code, w.path])).toEqual([
      ['unknown_key', 'Your Activity/Watch History/VideoList'],
      ['unknown_key', 'Your Activity/Watch History/VideoList'],
    ]);
    expect(warnings(events)[0]!.message).toContain('`Mood`');
    expect(warnings(events)[1]!.message).toContain('`Nested`');
  });

  it('keeps unknown top-level keys, sections and section keys raw with a warning', async () => {
    const doc = {
      'Your Activity': {
        'Holo Memories': { List: [{ a: 1 }] },
        'Watch History': { VideoList: [], Summary: { total: 3 } },
      },
      'Brand New': {
        Things: { List: [] },
        Searches: { SearchList: [{ Date: '2024-01-01 00:00:00', SearchTerm: 'x' }] },
      },
      'Just A String': 'hello',
    };
    const events = await parse(toJson(doc));
    const raws = events.filter((e) => e.kind === 'raw');
    expect(raws).toEqual([
      { kind: 'raw', path: 'Your Activity/Holo Memories', json: '{"List":[{"a":1}]}' },
      { kind: 'raw', path: 'Your Activity/Watch History/Summary', json: '{"total":3}' },
      { kind: 'raw', path: 'Brand New/Things', json: '{"List":[]}' },
      { kind: 'raw', path: 'Just A String', json: '"hello"' },
    ]);
    expect(warnings(events).map((w) => [w.code, w.path])).toEqual([
      ['unknown_section', 'Your Activity/Holo Memories'],
      ['unknown_key', 'Your Activity/Watch History/Summary'],
      ['unknown_section', 'Brand New'],
      ['unknown_section', 'Brand New/Things'],
      ['unknown_section', 'Just A String'],
    ]);
    // A known section under an unknown category is still read.
    expect(rowsOf(events, 'searches')).toHaveLength(1);
  });

  it('reads a section of an unknown favorite kind as other', async () => {
    const doc = {
      'Likes and Favorites': {
        'Favorite Podcasts': { FavoritePodcastList: [{ Date: '2026-01-01 00:00:00', Link: 'https://x/1' }] },
      },
    };
    const events = await parse(toJson(doc));
    expect(rowsOf(events, 'favorites', 'other')).toEqual([
      { favorited_at: '2026-01-01T00:00:00Z', item_id: null, link: 'https://x/1', name: null, extra: null },
    ]);
    expect(warnings(events).map((w) => w.code)).toEqual(['unknown_section']);
  });

  it('keeps a value of an unverified shape raw instead of failing', async () => {
    const doc = {
      'Direct Message': {
        'Group Chat': { GroupChat: { 'Weekend crew': { Members: ['a', 'b'] } } },
      },
    };
    const events = await parse(toJson(doc));
    expect(rowsOf(events, 'dm_conversations', 'group')).toEqual([
      { conversation: 'Weekend crew', extra: null },
    ]);
    expect(warnings(events).map((w) => [w.code, w.path])).toEqual([
      ['unexpected_shape', 'Direct Message/Group Chat/GroupChat/Weekend crew'],
    ]);
    expect(events.find((e) => e.kind === 'raw')).toEqual({
      kind: 'raw',
      path: 'Direct Message/Group Chat/GroupChat/Weekend crew',
      json: '{"Members":["a","b"]}',
    });
  });

  describe('a value kept raw above the size limit', () => {
    async function limited(doc: unknown, maxRawChars: number, chunkSize = 64 * 1024): Promise<ParseEvent[]> {
      const events: ParseEvent[] = [];
      const stream = Readable.from(chunks(toJson(doc, 0), chunkSize));
      for await (const e of parseJsonExport(stream, 'u.json', { maxRawChars })) events.push(e);
      return events;
    }
    const tooLarge = (subject: string, chars: number, limit: number) =>
      `${subject} was not kept: it is ${chars} characters as JSON, more than the ${limit} a section without a table may keep raw, so none of it is in the database. The export still holds it: keep the file, so that a version that reads this section into a table can import it (\`tiktok-sync reprocess\` reads kept archives again).`;

    it('is not kept, and says so in one warning with its path, size and what to do', async () => {
      const value = { AdvertiserList: ['x'.repeat(500)] };
      const doc = { 'Ads and data': { 'Ads Based On Data Received From Partners': value } };
      for (const size of [1, 7, 64 * 1024]) {
        const events = await limited(doc, 100, size);
        expect(events).toEqual([
          {
            kind: 'warning',
            code: 'raw_too_large',
            path: 'Ads and data/Ads Based On Data Received From Partners',
            message: tooLarge(
              'Section `Ads and data/Ads Based On Data Received From Partners` in `u.json` (kept raw: no table reads it)',
              toJson(value, 0).length,
              100,
            ),
          },
        ]);
      }
    });

    it('of an unknown section or an unexpected shape: one warning saying it was not kept, never "kept raw"', async () => {
      const big = { Things: ['y'.repeat(300)] };
      const events = await limited(
        {
          'Your Activity': {
            'Brand New Section': big,
            'Small New Section': { Things: ['z'] },
            'Watch History': { VideoList: 'w'.repeat(300) },
          },
          'New Category': 'v'.repeat(300),
        },
        200,
      );
      expect(events.filter((e) => e.kind === 'raw')).toEqual([
        { kind: 'raw', path: 'Your Activity/Small New Section', json: '{"Things":["z"]}' },
      ]);
      expect(warnings(events).map((w) => [w.code, w.message])).toEqual([
        [
          'raw_too_large',
          tooLarge(
            'Unknown section `Your Activity/Brand New Section` in `u.json`',
            toJson(big, 0).length,
            200,
          ),
        ],
        [
          'unknown_section',
          'Unknown section `Your Activity/Small New Section` in `u.json`; it was kept raw.',
        ],
        [
          'raw_too_large',
          tooLarge(
            'The value at `Your Activity/Watch History/VideoList` in `u.json` (a string where a list was expected)',
            302,
            200,
          ),
        ],
        ['raw_too_large', tooLarge('Unknown top-level key `New Category` in `u.json`', 302, 200)],
      ]);
      expect(JSON.stringify(events)).not.toMatch(/Brand New Section[^"]*; it was kept raw/);
    });
  });

  it('keeps identical records, in file order', async () => {
    const item = { Date: '2024-01-01 00:00:00', Link: `https://www.tiktokv.com/share/video/${V1}/` };
    const events = await parse(
      toJson({ 'Your Activity': { 'Watch History': { VideoList: [item, item, item] } } }),
    );
    expect(rowsOf(events, 'watch_history')).toHaveLength(3);
  });

  it('gives the same events whatever the chunk boundaries', async () => {
    const text = toJson(eraDocument('2025'));
    const whole = await parse(text);
    const byByte = await parse(text, { chunkSize: 1 });
    const odd = await parse(text, { chunkSize: 7 });
    expect(byByte).toEqual(whole);
    expect(odd).toEqual(whole);
  });

  it('strips NUL characters with a warning', async () => {
    const doc = {
      'Your Activity': {
        'Watch History': { VideoList: [{ Date: '2024-01-01 00:00:00', Link: 'a\u0000b', Title: 'x' }] },
        Stickers: { List: ['n\u0000ul'] },
      },
    };
    const events = await parse(toJson(doc));
    expect(rowsOf(events, 'watch_history')[0]).toMatchObject({ link: 'ab' });
    expect(events.find((e) => e.kind === 'raw')).toMatchObject({ json: '{"List":["nul"]}' });
    expect(warnings(events).map((w) => [w.code, w.path])).toEqual([
      ['nul_stripped', 'Your Activity/Watch History/VideoList[0]/Link'],
      ['nul_stripped', 'Your Activity/Stickers'],
    ]);
  });

  it('keeps a record without its date, refuses one that nothing identifies', async () => {
    const doc = {
      'Your Activity': {
        'Watch History': { VideoList: [{ Date: '', Link: 'a' }, { Link: 'b' }, { Date: '' }] },
      },
    };
    const events = await parse(toJson(doc));
    expect(rowsOf(events, 'watch_history')).toEqual([
      { watched_at: null, video_id: null, link: 'a', title: null, extra: null },
      { watched_at: null, video_id: null, link: 'b', title: null, extra: null },
    ]);
    expect(events.filter((e) => e.kind === 'refused')).toEqual([
      {
        kind: 'refused',
        table: 'watch_history',
        path: 'Your Activity/Watch History/VideoList[2]',
        json: '{"Date":""}',
        reason: expect.stringContaining('nothing tells it apart'),
      },
    ]);
    expect(warnings(events).map((w) => [w.code, w.path])).toEqual([
      ['refused_record', 'Your Activity/Watch History/VideoList'],
    ]);
  });

  it('reads sentinel and impossible dates as unknown, keeping the original and counting per field', async () => {
    const doc = {
      'Your Activity': {
        'Share History': {
          ShareHistoryList: [
            { Date: '1969-12-31 23:59:59', SharedContent: 'share_video', Link: 'l1', Method: 'whatsapp' },
            { Date: '1970-01-01 00:00:00', SharedContent: 'share_video', Link: 'l2', Method: 'chat_head' },
            { Date: '2024-02-30 10:00:00', SharedContent: 'share_video', Link: 'l3', Method: 'copy' },
            { Date: '2024-02-03 10:00:00', SharedContent: 'share_video', Link: 'l4', Method: 'copy' },
          ],
        },
      },
    };
    const events = await parse(toJson(doc));
    expect(rowsOf(events, 'shares').map((r) => [r.shared_at, r.link, r.extra])).toEqual([
      [null, 'l1', '{"Date":"1969-12-31 23:59:59"}'],
      [null, 'l2', '{"Date":"1970-01-01 00:00:00"}'],
      [null, 'l3', '{"Date":"2024-02-30 10:00:00"}'],
      ['2024-02-03T10:00:00Z', 'l4', null],
    ]);
    expect(warnings(events).map((w) => [w.code, w.path, w.field])).toEqual([
      ['unknown_date', 'Your Activity/Share History/ShareHistoryList', 'Date'],
      ['unknown_date', 'Your Activity/Share History/ShareHistoryList', 'Date'],
      ['bad_date', 'Your Activity/Share History/ShareHistoryList', 'Date'],
    ]);
  });

  it('keeps a follow of a deleted account (N/A) by its date, the placeholder in extra', async () => {
    const doc = {
      'Your Activity': {
        Following: {
          Following: [
            { Date: '2024-01-01 10:00:00', UserName: 'N/A' },
            { Date: '2024-01-02 10:00:00', UserName: 'None' },
            { Date: '2024-01-03 10:00:00', UserName: 'ana' },
          ],
        },
      },
    };
    const events = await parse(toJson(doc));
    expect(rowsOf(events, 'following')).toEqual([
      { username: null, followed_at: '2024-01-01T10:00:00Z', extra: '{"UserName":"N/A"}' },
      { username: null, followed_at: '2024-01-02T10:00:00Z', extra: '{"UserName":"None"}' },
      { username: 'ana', followed_at: '2024-01-03T10:00:00Z', extra: null },
    ]);
    expect(warnings(events).map((w) => [w.code, w.field])).toEqual([
      ['placeholder', 'UserName'],
      ['placeholder', 'UserName'],
    ]);
  });

  it('reads a 50 MB string value', async () => {
    const big = 'x'.repeat(50 * 1024 * 1024);
    const text = `{"Comment":{"Comments":{"CommentsList":[{"date":"2024-01-01 00:00:00","comment":"${big}"}]}}}`;
    const before = process.memoryUsage().rss;
    const events = await parse(text, { chunkSize: 64 * 1024 });
    const row = rowsOf(events, 'comments')[0] as { comment: string };
    expect(row.comment.length).toBe(big.length);
    // The input, the string and a copy fit; a parse that held the document several times would not.
    expect(process.memoryUsage().rss - before).toBeLessThan(600 * 1024 * 1024);
  });

  it('keeps a list written as a string raw, with a warning', async () => {
    const events = await parse('{"Your Activity":{"Watch History":{"VideoList":"oops"}}}');
    expect(events.filter((e) => e.kind === 'raw')).toEqual([
      { kind: 'raw', path: 'Your Activity/Watch History/VideoList', json: '"oops"' },
    ]);
    expect(warnings(events)[0]!.message).toBe(
      'Expected a list at `Your Activity/Watch History/VideoList` in `user_data_tiktok.json`, found a string; it was kept raw.',
    );
  });

  it('keeps an object that stands where a list belongs raw', async () => {
    const events = await parse('{"Your Activity":{"Watch History":{"VideoList":{"a":1}}}}');
    expect(events.filter((e) => e.kind === 'raw')).toEqual([
      { kind: 'raw', path: 'Your Activity/Watch History/VideoList', json: '{"a":1}' },
    ]);
  });

  it('leaves a text field that holds an object empty, the object kept in extra', async () => {
    const events = await parse(
      '{"Your Activity":{"Watch History":{"VideoList":[{"Date":"2024-01-01 00:00:00","Link":{"href":"x"}}]}}}',
    );
    expect(rowsOf(events, 'watch_history')).toEqual([
      {
        watched_at: '2024-01-01T00:00:00Z',
        video_id: null,
        link: null,
        title: null,
        extra: '{"Link":{"href":"x"}}',
      },
    ]);
    expect(warnings(events).map((w) => [w.code, w.field])).toEqual([['wrong_type', 'Link']]);
  });

  it('refuses a list item that is not an object, keeping it whole', async () => {
    const events = await parse(
      '{"Your Activity":{"Watch History":{"VideoList":[{"Date":"2024-01-01 00:00:00"},"x",[1,{"a":2}]]}}}',
    );
    expect(rowsOf(events, 'watch_history')).toHaveLength(1);
    expect(events.filter((e) => e.kind === 'refused').map((e) => [e.path, e.json])).toEqual([
      ['Your Activity/Watch History/VideoList[1]', '"x"'],
      ['Your Activity/Watch History/VideoList[2]', '[1,{"a":2}]'],
    ]);
  });

  it('keeps a document that is not an object raw', async () => {
    const events = await parse('[1,2,3]');
    expect(events.filter((e) => e.kind === 'raw')).toEqual([
      { kind: 'raw', path: '(top level)', json: '[1,2,3]' },
    ]);
  });

  it('fails with archive_invalid_json part-way, after yielding what came before', async () => {
    const items = Array.from({ length: 2000 }, (_, i) => ({
      Date: '2024-01-01 00:00:00',
      Link: `https://www.tiktokv.com/share/video/${7300000000000000000n + BigInt(i)}/`,
    }));
    const text = `${toJson({ 'Your Activity': { 'Watch History': { VideoList: items } } }).slice(0, -40)} ,, }`;
    const seen: ParseEvent[] = [];
    let caught: unknown;
    try {
      for await (const e of parseJsonExport(Readable.from(chunks(text, 4096)), 'user_data_tiktok.json'))
        seen.push(e);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ArchiveError);
    expect((caught as ArchiveError).code).toBe('archive_invalid_json');
    expect((caught as ArchiveError).message).toMatch(
      /^`user_data_tiktok\.json` is not valid JSON near `Your Activity\/Watch History\/VideoList\[\d+\]/,
    );
    expect(records(seen).length).toBeGreaterThan(1000);
  });

  it('fails with archive_invalid_json when the file ends early or is empty', async () => {
    const truncated = await failure(
      '{"Your Activity":{"Watch History":{"VideoList":[{"Date":"2024-01-01 00:00:00"}',
    );
    expect(truncated.code).toBe('archive_invalid_json');
    expect(truncated.message).toContain('ends before the JSON is complete');
    expect((await failure('')).code).toBe('archive_invalid_json');
  });

  it('stops when the signal is aborted', async () => {
    const controller = new AbortController();
    const items = Array.from({ length: 5000 }, () => ({ Date: '2024-01-01 00:00:00', Link: 'x' }));
    const text = toJson({ 'Your Activity': { 'Watch History': { VideoList: items } } });
    let count = 0;
    const run = async () => {
      for await (const e of parseJsonExport(Readable.from(chunks(text, 1024)), 'x.json', {
        signal: controller.signal,
      })) {
        if (e.kind === 'record' && ++count === 10) controller.abort();
      }
    };
    await expect(run()).rejects.toMatchObject({ name: 'AbortError' });
    expect(count).toBeLessThan(5000);
  });
});
