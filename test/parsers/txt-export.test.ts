import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { ParseEvent, RecordEvent, SectionEvent, WarningEvent } from '../../src/parsers/records.js';
import { parseTxtExport, txtSectionPath } from '../../src/parsers/txt-export.js';

const ROOT = 'TikTok_Data_1764000000/Tiktok';

async function parse(file: string, text: string, chunkSize = 64 * 1024): Promise<ParseEvent[]> {
  const buf = Buffer.from(text);
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length; i += chunkSize) parts.push(buf.subarray(i, i + chunkSize));
  const events: ParseEvent[] = [];
  for await (const e of parseTxtExport(Readable.from(parts), `${ROOT}/${file}`)) events.push(e);
  return events;
}

const rows = (events: ParseEvent[], table: string, part = '') =>
  events
    .filter((e): e is RecordEvent => e.kind === 'record' && e.table === table && e.part === part)
    .map((e) => e.row);
const sections = (events: ParseEvent[]) =>
  events.filter((e): e is SectionEvent => e.kind === 'section').map((e) => `${e.table}/${e.part} ${e.path}`);
const warnings = (events: ParseEvent[]) => events.filter((e): e is WarningEvent => e.kind === 'warning');

const V1 = '7312345678901234567';

describe('txt-export', () => {
  it('names a section by its folder and file', () => {
    expect(txtSectionPath(`${ROOT}/Activity/Browsing History.txt`)).toBe('Activity/Browsing History.txt');
    expect(txtSectionPath('Like List.txt')).toBe('Like List.txt');
  });

  it('reads browsing history records separated by blank lines', async () => {
    const events = await parse(
      'Activity/Browsing History.txt',
      `Date: 2024-05-01 12:34:56\nLink: https://www.tiktokv.com/share/video/${V1}/\n\nDate: 2024-05-02 08:00:00 UTC\r\nLink: https://www.tiktok.com/@a/video/7312345678901234568\r\n\r\n`,
    );
    expect(sections(events)).toEqual(['watch_history/ Activity/Browsing History.txt']);
    expect(rows(events, 'watch_history')).toEqual([
      {
        watched_at: '2024-05-01T12:34:56Z',
        video_id: V1,
        link: `https://www.tiktokv.com/share/video/${V1}/`,
        title: null,
        extra: null,
      },
      {
        watched_at: '2024-05-02T08:00:00Z',
        video_id: '7312345678901234568',
        link: 'https://www.tiktok.com/@a/video/7312345678901234568',
        title: null,
        extra: null,
      },
    ]);
    expect(warnings(events)).toEqual([]);
  });

  it('reads the older Video Browsing History file the same way', async () => {
    const events = await parse(
      'Activity/Video Browsing History.txt',
      `Date: 2021-05-01 12:34:56\nVideo Link: https://www.tiktokv.com/share/video/${V1}/\n`,
    );
    expect(rows(events, 'watch_history')).toEqual([
      {
        watched_at: '2021-05-01T12:34:56Z',
        video_id: V1,
        link: `https://www.tiktokv.com/share/video/${V1}/`,
        title: null,
        extra: null,
      },
    ]);
  });

  it('reads likes, searches, shares, comments and hashtags', async () => {
    const likes = await parse(
      'Activity/Like List.txt',
      `Date: 2024-04-01 10:00:00\nLink: https://www.tiktokv.com/share/video/${V1}/\n`,
    );
    expect(rows(likes, 'likes')).toEqual([
      {
        liked_at: '2024-04-01T10:00:00Z',
        video_id: V1,
        link: `https://www.tiktokv.com/share/video/${V1}/`,
        extra: null,
      },
    ]);
    const searches = await parse(
      'Activity/Searches.txt',
      'Date: 2024-02-01 10:00:00\nSearch Term: cats: the movie\n',
    );
    expect(rows(searches, 'searches')).toEqual([
      { searched_at: '2024-02-01T10:00:00Z', term: 'cats: the movie', extra: null },
    ]);
    const shares = await parse(
      'Activity/Share History.txt',
      `Date: 2024-02-02 10:00:00\nShared Content: share_video\nLink: https://www.tiktokv.com/share/video/${V1}/\nMethod: chat_head\n`,
    );
    expect(rows(shares, 'shares')).toEqual([
      {
        shared_at: '2024-02-02T10:00:00Z',
        shared_content: 'share_video',
        link: `https://www.tiktokv.com/share/video/${V1}/`,
        method: 'chat_head',
        video_id: V1,
        extra: null,
      },
    ]);
    const comments = await parse(
      'Activity/Comments.txt',
      'Date: 2024-04-10 10:00:00\nComment: first line\nsecond line\n',
    );
    expect(rows(comments, 'comments')).toEqual([
      {
        commented_at: '2024-04-10T10:00:00Z',
        comment: 'first line\nsecond line',
        photo: null,
        video: null,
        sticker: null,
        url: null,
        video_id: null,
        extra: null,
      },
    ]);
    const hashtags = await parse(
      'Activity/Hashtag.txt',
      'Hashtag Name: dance\nHashtag Link: https://www.tiktok.com/tag/dance\n\nHashtag Name: food\nHashtag Link: N/A\n',
    );
    expect(rows(hashtags, 'hashtags')).toEqual([
      { name: 'dance', link: 'https://www.tiktok.com/tag/dance', extra: null },
      { name: 'food', link: null, extra: '{"Hashtag Link":"N/A"}' },
    ]);
  });

  it('reads favorites, including the double-colon HashTag Link', async () => {
    const hashtags = await parse(
      'Activity/Favorite HashTags.txt',
      'Date: 2024-03-03 09:00:00\nHashTag Link:: https://www.tiktok.com/share/challenge/1234567/\n',
    );
    expect(sections(hashtags)).toEqual(['favorites/hashtag Activity/Favorite HashTags.txt']);
    expect(rows(hashtags, 'favorites', 'hashtag')).toEqual([
      {
        favorited_at: '2024-03-03T09:00:00Z',
        item_id: '1234567',
        link: 'https://www.tiktok.com/share/challenge/1234567/',
        name: null,
        extra: null,
      },
    ]);
    const sounds = await parse(
      'Activity/Favorite Sounds.txt',
      'Date: 2024-03-02 09:00:00\nLink: https://m.tiktok.com/h5/share/music/6712345678901234567.html\n',
    );
    expect(rows(sounds, 'favorites', 'sound')[0]).toMatchObject({ item_id: '6712345678901234567' });
    const effects = await parse(
      'Activity/Favorite Effects.txt',
      'Date: 2024-03-04 09:00:00\nEffect Link: https://m.tiktok.com/share/stickers/detail/987654.html\n',
    );
    expect(rows(effects, 'favorites', 'effect')[0]).toMatchObject({ item_id: '987654' });
    const videos = await parse(
      'Activity/Favorite Videos.txt',
      `Date: 2024-03-01 09:00:00\nLink: https://www.tiktokv.com/share/video/${V1}/\n`,
    );
    expect(rows(videos, 'favorites', 'video')[0]).toMatchObject({ item_id: V1 });
  });

  it('reads followers, following and the block list', async () => {
    const text = 'Date: 2023-12-01 00:00:00\nUsername: fan_1\n\nDate: 2023-12-02 00:00:00\nUsername: fan_2\n';
    expect(rows(await parse('Activity/Follower.txt', text), 'followers')).toEqual([
      { followed_at: '2023-12-01T00:00:00Z', username: 'fan_1', extra: null },
      { followed_at: '2023-12-02T00:00:00Z', username: 'fan_2', extra: null },
    ]);
    expect(rows(await parse('Activity/Following.txt', text), 'following')).toHaveLength(2);
    expect(rows(await parse('App Settings/Block List.txt', text), 'blocks')).toHaveLength(2);
  });

  it('reads a numbered part file as its section, keeping the part name in the path', async () => {
    const text = 'Date: 2023-12-01 00:00:00\nUsername: fan_1\n';
    const part = await parse('Activity/Following_2.txt', text);
    expect(sections(part)).toEqual(['following/ Activity/Following_2.txt']);
    expect(rows(part, 'following')).toEqual([
      { followed_at: '2023-12-01T00:00:00Z', username: 'fan_1', extra: null },
    ]);
    expect(warnings(part)).toEqual([]);
    const likes = await parse(
      'Activity/Like List_10.txt',
      `Date: 2024-03-01 09:00:00\nLink: https://www.tiktokv.com/share/video/${V1}/\n`,
    );
    expect(sections(likes)).toEqual(['likes/ Activity/Like List_10.txt']);
    expect(rows(likes, 'likes')).toHaveLength(1);
    const favorites = await parse('Activity/Favorite Podcasts_3.txt', 'Date: 2024-03-01 09:00:00\nLink: x\n');
    expect(sections(favorites)).toEqual(['favorites/other Activity/Favorite Podcasts_3.txt']);
  });

  it('says an unknown file too large to keep raw was not kept, in one warning, instead of "kept raw"', async () => {
    const text = 'Date: 2024-01-01 00:00:00\nColour: red\n\n'.repeat(20);
    const events: ParseEvent[] = [];
    const stream = Readable.from([Buffer.from(text)]);
    for await (const e of parseTxtExport(stream, `${ROOT}/Activity/Colours.txt`, { maxRawChars: 100 }))
      events.push(e);
    expect(events.filter((e) => e.kind === 'raw')).toEqual([]);
    expect(warnings(events)).toEqual([
      expect.objectContaining({
        code: 'raw_too_large',
        path: 'Activity/Colours.txt',
        message: expect.stringMatching(
          /^Unknown file `Activity\/Colours\.txt` in the export was not kept: it is \d+ characters as JSON, more than the 100 a section without a table may keep raw, so none of it is in the database\. The export still holds it: keep the file/,
        ),
      }),
    ]);
    const small = await parse('Activity/Colours.txt', 'Date: 2024-01-01 00:00:00\nColour: red\n');
    expect(warnings(small).map((w) => [w.code, w.message])).toEqual([
      ['unknown_section', 'Unknown file `Activity/Colours.txt` in the export; it was kept raw.'],
    ]);
  });

  it('does not take a copy named like a second download for a part of the section', async () => {
    const copy = await parse('Activity/Following (2).txt', 'Date: 2023-12-01 00:00:00\nUsername: fan_1\n');
    expect(copy.map((e) => e.kind)).toEqual(['warning', 'raw']);
    expect(copy[0]).toMatchObject({ code: 'unknown_section', path: 'Activity/Following (2).txt' });
  });

  it('starts a new record when a key repeats without a blank line', async () => {
    const events = await parse(
      'Activity/Follower.txt',
      'Date: 2023-12-01 00:00:00\nUsername: fan_1\nDate: 2023-12-02 00:00:00\nUsername: fan_2\n',
    );
    expect(rows(events, 'followers').map((r) => (r as { username: string }).username)).toEqual([
      'fan_1',
      'fan_2',
    ]);
  });

  it('reads login history and both kinds of purchases from one file', async () => {
    const logins = await parse(
      'Activity/Login History.txt',
      'Date: 2024-01-01 07:00:00\nIP: 192.0.2.1\nDevice Model: Pixel 8\nDevice System: Android 14\nNetwork Type: Wi-Fi\nCarrier: N/A\n',
    );
    expect(rows(logins, 'logins')).toEqual([
      {
        logged_in_at: '2024-01-01T07:00:00Z',
        ip: '192.0.2.1',
        device_model: 'Pixel 8',
        device_system: 'Android 14',
        network_type: 'Wi-Fi',
        carrier: null,
        extra: '{"Carrier":"N/A"}',
      },
    ]);
    const purchases = await parse(
      'Activity/Purchases.txt',
      'Date: 2024-12-09 18:42:28\nGift Amount: 99\nUsername: user1\n\nDate: 2024-06-02 11:39:13\nPrice: £0.99\n',
    );
    expect(sections(purchases)).toEqual([
      'purchases/send_gift Activity/Purchases.txt',
      'purchases/buy_gift Activity/Purchases.txt',
    ]);
    expect(rows(purchases, 'purchases', 'send_gift')).toEqual([
      { purchased_at: '2024-12-09T18:42:28Z', amount: '99', username: 'user1', extra: null },
    ]);
    expect(rows(purchases, 'purchases', 'buy_gift')).toEqual([
      { purchased_at: '2024-06-02T11:39:13Z', amount: '£0.99', username: null, extra: null },
    ]);
  });

  it('reads posts with Like(s) from Post.txt and the old Videos.txt', async () => {
    const text =
      'Date: 2024-07-15 09:13:09\nLink: https://v16m.tiktokv.com/storage/v1/abc\nLike(s): 28\nWho Can View: Everyone\nAllow Comments: Everyone\nAI Generated Content: No\nTitle: my dance\n';
    const events = await parse('Posts/Post.txt', text);
    expect(rows(events, 'posts', 'posted')[0]).toMatchObject({
      posted_at: '2024-07-15T09:13:09Z',
      link: 'https://v16m.tiktokv.com/storage/v1/abc',
      likes: '28',
      who_can_view: 'Everyone',
      allow_comments: 'Everyone',
      ai_generated_content: 'No',
      title: 'my dance',
      extra: null,
    });
    expect(rows(await parse('Videos/Videos.txt', text), 'posts', 'posted')).toHaveLength(1);
    const deleted = await parse('Posts/Recently Deleted Posts.txt', text);
    expect(sections(deleted)).toEqual(['posts/recently_deleted Posts/Recently Deleted Posts.txt']);
    expect(rows(deleted, 'posts', 'recently_deleted')).toHaveLength(1);
  });

  it('reads the profile as one row and settings as one row per line', async () => {
    const profile = await parse(
      'Profile/Profile Info.txt',
      'Username: era.tester\nDisplay Name: Era\nBirth Date: 14-Jun-1995\nFollower Count: 7\nLikes Received: 214\nInstagram Link: \n\nAccount Region: SE\n',
    );
    expect(rows(profile, 'profile')).toEqual([
      {
        username: 'era.tester',
        display_name: 'Era',
        bio: null,
        birth_date: '1995-06-14',
        email: null,
        phone: null,
        likes_received: '214',
        follower_count: '7',
        following_count: null,
        profile_photo: null,
        profile_video: null,
        inferred_gender: null,
        account_region: 'SE',
        extra: '{"Instagram Link":""}',
      },
    ]);
    const settings = await parse(
      'App Settings/Settings.txt',
      'Interests: Dance|Sports\nWho can see your following list::: Only me\nPrivate Account: N/A\n',
    );
    expect(rows(settings, 'settings')).toEqual([
      { key: 'Interests', value: 'Dance|Sports' },
      { key: 'Who can see your following list::', value: 'Only me' },
      { key: 'Private Account', value: null },
    ]);
  });

  it('reads DMs with and without UTC, multi-line messages and several conversations', async () => {
    const text = [
      '>>> Chat History with ana_23::',
      '',
      '2024-05-01 12:34:56 ana_23: hello',
      'second line',
      '',
      'after a blank line',
      `2024-05-01 12:35:56 UTC era.tester: https://www.tiktokv.com/share/video/${V1}/`,
      '',
      '>>> Chat History with bob::',
      '',
      '2024-05-02 00:00:00 UTC bob: yo: what?',
      '2024-05-02 00:00:01 bob:',
      '',
    ].join('\n');
    const events = await parse('Direct Messages/Direct Messages.txt', text);
    expect(sections(events)).toEqual([
      'dm_conversations/direct Direct Messages/Direct Messages.txt',
      'dm_messages/direct Direct Messages/Direct Messages.txt',
    ]);
    expect(rows(events, 'dm_conversations', 'direct')).toEqual([
      { conversation: 'ana_23', extra: null },
      { conversation: 'bob', extra: null },
    ]);
    expect(rows(events, 'dm_messages', 'direct')).toEqual([
      {
        conversation: 'ana_23',
        sent_at: '2024-05-01T12:34:56Z',
        sender: 'ana_23',
        content: 'hello\nsecond line\n\nafter a blank line',
        video_id: null,
        extra: null,
      },
      {
        conversation: 'ana_23',
        sent_at: '2024-05-01T12:35:56Z',
        sender: 'era.tester',
        content: `https://www.tiktokv.com/share/video/${V1}/`,
        video_id: V1,
        extra: null,
      },
      {
        conversation: 'bob',
        sent_at: '2024-05-02T00:00:00Z',
        sender: 'bob',
        content: 'yo: what?',
        video_id: null,
        extra: null,
      },
      {
        conversation: 'bob',
        sent_at: '2024-05-02T00:00:01Z',
        sender: 'bob',
        content: null,
        video_id: null,
        extra: null,
      },
    ]);
    expect(warnings(events)).toEqual([]);
  });

  it('announces an empty DM file without any rows', async () => {
    const events = await parse('Direct Messages/Direct Messages.txt', '');
    expect(sections(events)).toHaveLength(2);
    expect(events.filter((e) => e.kind === 'record')).toEqual([]);
  });

  it('reads LIVE history, with the comments of each watched room', async () => {
    const watch = await parse(
      'TikTok Live/Watch Live History.txt',
      'Room ID: 7349453257475769528\nWatch Time: 2024-03-23 08:27:08\nLink: https://www.tiktok.com/@u/live\nComment Time: 2024-03-23 08:30:26\nComment Content: hi\nComment Time: 2024-03-23 08:31:00\nComment Content: bye\n',
    );
    expect(rows(watch, 'live_sessions', 'watch_live')).toEqual([
      {
        room_id: '7349453257475769528',
        started_at: '2024-03-23T08:27:08Z',
        ended_at: null,
        duration: null,
        title: null,
        link: 'https://www.tiktok.com/@u/live',
        total_earning: null,
        total_likes: null,
        total_views: null,
        total_gifters: null,
        extra: null,
      },
    ]);
    expect(rows(watch, 'live_comments')).toEqual([
      {
        room_id: '7349453257475769528',
        commented_at: '2024-03-23T08:30:26Z',
        content: 'hi',
        session_started_at: '2024-03-23T08:27:08Z',
        extra: null,
      },
      {
        room_id: '7349453257475769528',
        commented_at: '2024-03-23T08:31:00Z',
        content: 'bye',
        session_started_at: '2024-03-23T08:27:08Z',
        extra: null,
      },
    ]);
    const go = await parse(
      'TikTok Live/Go Live History.txt',
      'Live Start Time: 2024-02-02 20:00:00\nRoom Id: 7349453257475769999\nLive End Time: 2024-02-02 21:00:00\nTotal Like: 10\nCover Uri: https://x/c.jpg\n',
    );
    expect(rows(go, 'live_sessions', 'go_live')[0]).toMatchObject({
      room_id: '7349453257475769999',
      started_at: '2024-02-02T20:00:00Z',
      total_likes: '10',
      extra: '{"Cover Uri":"https://x/c.jpg"}',
    });
  });

  it('keeps unmodeled and unknown files raw as a JSON array of records', async () => {
    const donations = await parse('Activity/Donation.txt', 'Date: 2024-01-01 00:00:00\nAmount: 5\n');
    expect(donations).toEqual([
      {
        kind: 'raw',
        path: 'Activity/Donation.txt',
        json: '[{"Date":"2024-01-01 00:00:00","Amount":"5"}]',
      },
    ]);
    const unknown = await parse('Mystery/Holo.txt', 'A: 1\n\nA: 2\n');
    expect(unknown.map((e) => e.kind)).toEqual(['warning', 'raw']);
    expect(unknown[0]).toMatchObject({ code: 'unknown_section', path: 'Mystery/Holo.txt' });
    expect(unknown[1]).toMatchObject({ json: '[{"A":"1"},{"A":"2"}]' });
    const empty = await parse('TikTok Shopping/Vouchers.txt', '');
    expect(empty).toEqual([
      { kind: 'section', table: 'shop_vouchers', part: '', path: 'TikTok Shopping/Vouchers.txt' },
    ]);
  });

  it('reads the sections that used to be kept raw into their tables', async () => {
    const status = await parse('Activity/Status.txt', 'Resolution: 1080*1920\nApp Version: 33.1.4\n');
    expect(rows(status, 'devices')).toEqual([
      {
        resolution: '1080*1920',
        app_version: '33.1.4',
        idfa: null,
        gaid: null,
        android_id: null,
        idfv: null,
        uid: null,
        did: null,
        web_id: null,
        extra: null,
      },
    ]);
    const off = await parse(
      'Ads and data/Off TikTok Activity.txt',
      'TimeStamp: 2024-01-01 10:00:00\nSource: shop.example\nEvent: Purchase\n\nTimeStamp: 1970-01-01 00:00:00\nSource: app.example\nEvent: Launch\n',
    );
    expect(rows(off, 'off_tiktok_activity')).toEqual([
      { happened_at: '2024-01-01T10:00:00Z', source: 'shop.example', event: 'Purchase', extra: null },
      {
        happened_at: null,
        source: 'app.example',
        event: 'Launch',
        extra: '{"TimeStamp":"1970-01-01 00:00:00"}',
      },
    ]);
    const interests = await parse(
      'Ads and data/Ad Interests.txt',
      'Ad Interest Categories: Food | Travel|Games\n',
    );
    expect(rows(interests, 'ad_interests')).toEqual([
      { interest: 'Food' },
      { interest: 'Travel' },
      { interest: 'Games' },
    ]);
    const location = await parse(
      'Activity/Most Recent Location Data.txt',
      'Date: 2024-03-01 08:00:00\nGps Data: 52.52, 13.40\nLast Region: DE\n',
    );
    expect(rows(location, 'locations')).toEqual([
      { recorded_at: '2024-03-01T08:00:00Z', gps: '52.52, 13.40', last_region: 'DE', extra: null },
    ]);
  });

  it('puts unknown keys into extra with a warning', async () => {
    const events = await parse('Activity/Like List.txt', 'Date: 2024-04-01 10:00:00\nLink: x\nMood: happy\n');
    expect(rows(events, 'likes')[0]).toMatchObject({ extra: '{"Mood":"happy"}' });
    expect(warnings(events).map((w) => w.code)).toEqual(['unknown_key']);
  });

  it('strips NUL characters with a warning', async () => {
    const events = await parse(
      'Activity/Searches.txt',
      'Date: 2024-02-01 10:00:00\nSearch Term: ca\u0000ts\n',
    );
    expect(rows(events, 'searches')[0]).toMatchObject({ term: 'cats' });
    expect(warnings(events).map((w) => [w.code, w.path])).toEqual([
      ['nul_stripped', 'Activity/Searches.txt:1/Search Term'],
    ]);
  });

  it('gives the same events whatever the chunk boundaries', async () => {
    const text = `>>> Chat History with ana::\n\n2024-05-01 12:34:56 ana: h\u00e9llo \u{1F600}\nmore\n2024-05-01 12:34:57 me: ok\n`;
    const whole = await parse('Direct Messages/Direct Messages.txt', text);
    expect(await parse('Direct Messages/Direct Messages.txt', text, 1)).toEqual(whole);
    expect(await parse('Direct Messages/Direct Messages.txt', text, 3)).toEqual(whole);
  });

  it('leaves a record date it cannot read empty, kept in extra and counted', async () => {
    const events = await parse('Activity/Like List.txt', 'Date: yesterday\nLink: x\n');
    expect(rows(events, 'likes')).toEqual([
      { liked_at: null, video_id: null, link: 'x', extra: '{"Date":"yesterday"}' },
    ]);
    expect(warnings(events).map((w) => [w.code, w.path, w.field])).toEqual([
      ['bad_date', 'Activity/Like List.txt', 'Date'],
    ]);
    expect(warnings(events)[0]!.message).toContain(`\`${ROOT}/Activity/Like List.txt\``);
  });

  it('keeps a message whose date TikTok did not know, without the date', async () => {
    const events = await parse(
      'Direct Messages/Direct Messages.txt',
      '>>> Chat History with a::\n1969-12-31 23:59:59 a: hi\n2024-13-45 10:00:00 a: ho\n',
    );
    expect(rows(events, 'dm_messages', 'direct').map((r) => [r.sent_at, r.content, r.extra])).toEqual([
      [null, 'hi', '{"Date":"1969-12-31 23:59:59"}'],
      [null, 'ho', '{"Date":"2024-13-45 10:00:00"}'],
    ]);
    expect(warnings(events).map((w) => w.code)).toEqual(['unknown_date', 'bad_date']);
  });
});
