import { describe, expect, it } from 'vitest';
import { generateUser, renderJson, renderTxt } from '../../src/synthetic/index.js';
import { txtChats, txtRecords } from './export-reader.js';

const user = generateUser({ seed: 21, username: 'txt.tester', scale: 2_000 });
const ROOT = `TikTok_Data_${user.now}/Tiktok/`;

function file(files: Map<string, string>, path: string): string {
  const text = files.get(ROOT + path);
  if (text === undefined) throw new Error(`missing ${path}; have ${[...files.keys()].join(', ')}`);
  return text;
}

describe('renderTxt', () => {
  it('lays out the folder tree of the late-2025 TXT export', () => {
    const { files } = renderTxt(user, { era: '2025' });
    const paths = [...files.keys()].map((p) => p.slice(ROOT.length));
    for (const p of [
      'Activity/Browsing History.txt',
      'Activity/Comments.txt',
      'Activity/Follower.txt',
      'Activity/Following.txt',
      'Activity/Favorite HashTags.txt',
      'Activity/Like List.txt',
      'Activity/Login History.txt',
      'Activity/Searches.txt',
      'Activity/Share History.txt',
      'Activity/Status.txt',
      'Ads and data/Off TikTok Activity.txt',
      'App Settings/Block List.txt',
      'App Settings/Settings.txt',
      'Direct Messages/Direct Messages.txt',
      'Income+ Wallet Transactions/Transaction History.txt',
      'Posts/Post.txt',
      'Profile/Profile Info.txt',
      'TikTok Live/Watch Live History.txt',
      'TikTok Live/Go Live History.txt',
      'TikTok Shopping/Order History.txt',
    ]) {
      expect(paths).toContain(p);
    }
    expect(file(files, 'TikTok Shopping/Vouchers.txt')).toBe('');
  });

  it('uses the older file names in 2021–2023 exports', () => {
    const { files } = renderTxt(user, { era: '2021-2023' });
    expect(files.has(`${ROOT}Activity/Video Browsing History.txt`)).toBe(true);
    expect(files.has(`${ROOT}Videos/Videos.txt`)).toBe(true);
    expect(files.has(`${ROOT}Activity/Browsing History.txt`)).toBe(false);
  });

  it('writes Key: value records separated by blank lines', () => {
    const { files, expected } = renderTxt(user, { era: '2025' });
    const watch = txtRecords(file(files, 'Activity/Browsing History.txt'));
    expect(watch).toHaveLength(expected.watch_history!);
    expect(Object.keys(watch[0]!)).toEqual(['Date', 'Link']);
    expect(watch[0]!.Date).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(file(files, 'Activity/Browsing History.txt')).toMatch(/^Date: .+\nLink: .+\n\nDate: /);
    expect(Object.keys(txtRecords(file(files, 'Activity/Searches.txt'))[0]!)).toEqual([
      'Date',
      'Search Term',
    ]);
    expect(Object.keys(txtRecords(file(files, 'Activity/Share History.txt'))[0]!)).toEqual([
      'Date',
      'Shared Content',
      'Link',
      'Method',
    ]);
    expect(Object.keys(txtRecords(file(files, 'Activity/Following.txt'))[0]!)).toEqual(['Date', 'Username']);
    expect(Object.keys(txtRecords(file(files, 'Activity/Hashtag.txt'))[0]!)).toEqual([
      'Hashtag Name',
      'Hashtag Link',
    ]);
    expect(file(files, 'Activity/Favorite HashTags.txt')).toMatch(/^Date: .+\nHashTag Link:: https:/);
    expect(file(files, 'Posts/Post.txt')).toMatch(/^Date: .+\nLink: https:[\s\S]*?\nLike\(s\): \d+\n/);
    expect(file(files, 'App Settings/Settings.txt')).toMatch(/^Interests: .*$/m);
    expect(file(files, 'App Settings/Settings.txt').trimEnd().split('\n')).toHaveLength(expected.settings!);
    const comments = txtRecords(file(files, 'Activity/Comments.txt'));
    expect(comments).toHaveLength(expected.comments!);
  });

  it('writes Direct Messages.txt as >>> Chat History blocks, with UTC in 2026', () => {
    const r2025 = renderTxt(user, { era: '2025' });
    const text = file(r2025.files, 'Direct Messages/Direct Messages.txt');
    expect(text).toMatch(/^>>> Chat History with [^\n]+::\n\n\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [^ ]+: /);
    const chats = txtChats(text, false);
    expect(chats).toHaveLength(r2025.expected.dm_conversations!);
    expect(chats.reduce((a, c) => a + c.messages.length, 0)).toBe(r2025.expected.dm_messages);

    const r2026 = renderTxt(user, { era: '2026' });
    const text26 = file(r2026.files, 'Direct Messages/Direct Messages.txt');
    expect(text26).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC [^ ]+: /m);
    const chats26 = txtChats(text26, true);
    expect(chats26.reduce((a, c) => a + c.messages.length, 0)).toBe(r2026.expected.dm_messages);
  });

  it('carries the same messages as the JSON export, multi-line ones included', () => {
    const json = JSON.parse(renderJson(user, { era: '2025' }).text);
    const history = json['Direct Message']['Direct Messages'].ChatHistory as Record<
      string,
      { Date: string; From: string; Content: string }[]
    >;
    const chats = txtChats(
      file(renderTxt(user, { era: '2025' }).files, 'Direct Messages/Direct Messages.txt'),
      false,
    );
    expect(chats.map((c) => `Chat History with ${c.peer}:`)).toEqual(Object.keys(history));
    for (const chat of chats) {
      const fromJson = history[`Chat History with ${chat.peer}:`]!;
      expect(chat.messages).toEqual(
        fromJson.map((m) => ({ date: m.Date, from: m.From, content: m.Content })),
      );
    }
    expect(chats.some((c) => c.messages.some((m) => m.content.includes('\n')))).toBe(true);
  });

  it('reports the same counts as the JSON export of the same era for the shared sections', () => {
    const txt = renderTxt(user, { era: '2025' }).expected;
    const json = renderJson(user, { era: '2025' }).expected;
    for (const t of [
      'watch_history',
      'likes',
      'searches',
      'comments',
      'followers',
      'dm_messages',
      'posts',
    ] as const) {
      expect(txt[t]).toBe(json[t]);
    }
    expect(txt.live_comments).toBe(json.live_comments);
  });
});
