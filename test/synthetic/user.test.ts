import { describe, expect, it } from 'vitest';
import { countsForScale, generateUser, renderJson } from '../../src/synthetic/index.js';

const user = generateUser({ seed: 99, username: 'content.check', scale: 40_000 });
const doc = JSON.parse(renderJson(user, { era: '2025' }).text);
const chats = doc['Direct Message']['Direct Messages'].ChatHistory as Record<
  string,
  { Date: string; From: string; Content: string }[]
>;
const messages = Object.values(chats).flat();
const comments = (doc.Comment.Comments.CommentsList as { comment: string }[]).map((c) => c.comment);
const text = [...messages.map((m) => m.Content), ...comments];

describe('generateUser', () => {
  it('describes a huge user in a few kilobytes, without generating its records', () => {
    const t0 = performance.now();
    const big = generateUser({ seed: 1, username: 'huge', scale: 16_000_000 });
    expect(performance.now() - t0).toBeLessThan(2_000);
    expect(big.sequences.watch.segments[0]!.count).toBe(countsForScale(16_000_000).watch);
    expect(JSON.stringify(big).length).toBeLessThan(1_000_000);
  });

  it('has many conversations, some with messages sent twice in the same second', () => {
    expect(Object.keys(chats).length).toBeGreaterThanOrEqual(40);
    for (const key of Object.keys(chats)) expect(key).toMatch(/^Chat History with [^\s:]+:$/);
    let duplicates = 0;
    for (const list of Object.values(chats)) {
      for (let i = 1; i < list.length; i++) {
        const [a, b] = [list[i - 1]!, list[i]!];
        if (a.Date === b.Date && a.From === b.From && a.Content === b.Content) duplicates++;
      }
    }
    expect(duplicates).toBeGreaterThan(0);
    expect(Object.keys(chats).some((k) => k.startsWith('Chat History with Group_Chat_'))).toBe(true);
  });

  it('writes realistic message contents: share links, multi-line text, unicode, escapes', () => {
    expect(
      messages.some((m) => /^https:\/\/www\.tiktokv\.com\/share\/video\/\d{19}\/$/.test(m.Content)),
    ).toBe(true);
    expect(text.some((t) => t.includes('\n'))).toBe(true);
    expect(text.some((t) => t.includes('\t'))).toBe(true);
    expect(text.some((t) => t.includes('"'))).toBe(true);
    expect(text.some((t) => t.includes('\\'))).toBe(true);
    expect(text.some((t) => /\p{Extended_Pictographic}/u.test(t))).toBe(true);
    expect(text.some((t) => /[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]/.test(t))).toBe(true);
    expect(text.some((t) => /[àâçéèêëîïôûùüÿñæœäöüßğış]/i.test(t))).toBe(true);
    for (const t of text) {
      expect(t).toBe(t.trim());
      expect(t).not.toMatch(/\r|\u0000|\n\n/);
      expect(['', 'N/A', 'None']).not.toContain(t);
    }
  });

  it('dates every record in the past, newest first within each conversation', () => {
    const now = new Date(user.now * 1000).toISOString().replace('T', ' ').slice(0, 19);
    for (const list of Object.values(chats)) {
      const dates = list.map((m) => m.Date);
      expect(dates).toEqual([...dates].sort().reverse());
      expect(dates[0]! < now).toBe(true);
    }
  });

  it('gives unique handles within each user list', () => {
    for (const list of [doc['Your Activity'].Follower.FansList, doc['Your Activity'].Following.Following]) {
      const names = list.map((x: { UserName: string }) => x.UserName);
      expect(new Set(names).size).toBe(names.length);
      for (const n of names) expect(n).toMatch(/^[a-z0-9._]+$/);
    }
  });

  it('keeps profile values in TikTok formats', () => {
    const p = doc.Profile['Profile Info'].ProfileMap;
    expect(p.userName).toBe('content.check');
    expect(p.birthDate).toMatch(/^\d\d-(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)-\d{4}$/);
    expect(p.likesReceived).toMatch(/^\d+$/);
    expect(p.followerCount).toBeGreaterThanOrEqual(doc['Your Activity'].Follower.FansList.length);
    expect(p.followingCount).toBe(doc['Your Activity'].Following.Following.length);
  });
});
