import { describe, expect, it } from 'vitest';
import { evolve, followerCount, generateUser, renderJson } from '../../src/synthetic/index.js';

const DAY = 86_400;
const base = generateUser({ seed: 8, username: 'grows.over.time', scale: 5_000 });

// biome-ignore lint/suspicious/noExplicitAny: parsed JSON
const doc = (u: typeof base, opts: Parameters<typeof renderJson>[1] = { era: '2025' }): any =>
  JSON.parse(renderJson(u, opts).text);

describe('evolve', () => {
  it('is deterministic and leaves the input alone', () => {
    const before = JSON.stringify(base);
    const a = evolve(base, { seed: 1, days: 3 });
    const b = evolve(base, { seed: 1, days: 3 });
    expect(JSON.stringify(base)).toBe(before);
    expect(renderJson(a, { era: '2026' }).text).toBe(renderJson(b, { era: '2026' }).text);
    expect(renderJson(evolve(base, { seed: 2, days: 3 }), { era: '2026' }).text).not.toBe(
      renderJson(a, { era: '2026' }).text,
    );
  });

  it('moves the export time and adds, removes and changes what lastChange says', () => {
    const next = evolve(base, { seed: 1, days: 3 });
    const change = next.lastChange!;
    expect(next.now).toBe(base.now + 3 * DAY);
    const before = renderJson(base, { era: '2025' }).expected;
    const after = renderJson(next, { era: '2025' }).expected;

    expect(change.added.watch).toBeGreaterThan(0);
    expect(after.watch_history).toBe(before.watch_history! + change.added.watch!);
    expect(change.removed.likes).toBeGreaterThan(0);
    expect(after.likes).toBe(before.likes! + change.added.likes! - change.removed.likes!);
    expect(change.removed.following).toBeGreaterThan(0);
    expect(after.following).toBe(
      before.following! + (change.added.following ?? 0) - change.removed.following!,
    );
    expect(after.dm_messages).toBe(before.dm_messages! + change.added.dmMessages!);
    expect(after.dm_conversations).toBe(before.dm_conversations! + (change.added.conversations ?? 0));
    expect(change.followerCount.after).not.toBe(change.followerCount.before);
    expect(followerCount(next)).toBe(change.followerCount.after);
  });

  it('keeps old records identical and puts new ones on top, newer than the previous export', () => {
    const next = evolve(base, { seed: 1, days: 3 });
    const oldWatch = doc(base)['Your Activity']['Watch History'].VideoList;
    const newWatch = doc(next)['Your Activity']['Watch History'].VideoList;
    const added = next.lastChange!.added.watch!;
    expect(newWatch.slice(added)).toEqual(oldWatch);
    const cutoff = new Date(base.now * 1000).toISOString().replace('T', ' ').slice(0, 19);
    for (const w of newWatch.slice(0, added)) expect(w.Date >= cutoff).toBe(true);
  });

  it('removes exactly the likes and follows it reports as removed', () => {
    const next = evolve(base, { seed: 4, days: 1 });
    const links = (u: typeof base) =>
      new Set(doc(u)['Your Activity']['Like List'].ItemFavoriteList.map((l: { link: string }) => l.link));
    const kept = links(next);
    const gone = [...links(base)].filter((l) => !kept.has(l));
    expect(gone.length).toBe(next.lastChange!.removed.likes);
    const names = (u: typeof base) =>
      new Set(doc(u)['Your Activity'].Following.Following.map((f: { UserName: string }) => f.UserName));
    const following = names(next);
    const unfollowed = [...names(base)].filter((n) => !following.has(n));
    expect(unfollowed.length).toBe(next.lastChange!.removed.following);
  });

  it('changes the like count of the post it names', () => {
    const next = evolve(base, { seed: 1, days: 3 });
    const { post, delta } = next.lastChange!.postLikes!;
    const likes = (u: typeof base) =>
      doc(u)
        .Post.Posts.VideoList.map((p: { Likes: string }) => Number(p.Likes))
        .reverse();
    expect(likes(next)[post]).toBe(likes(base)[post] + delta);
    const profile = (u: typeof base) => Number(doc(u).Profile['Profile Info'].ProfileMap.likesReceived);
    expect(profile(next)).toBeGreaterThan(profile(base));
  });

  it('can be chained, each step building on the last', () => {
    let u = base;
    const watch: number[] = [];
    for (let i = 0; i < 4; i++) {
      u = evolve(u, { seed: 100 + i, days: 1 });
      watch.push(renderJson(u, { era: '2026' }).expected.watch_history!);
    }
    expect(u.generation).toBe(4);
    expect(watch).toEqual([...watch].sort((a, b) => a - b));
  });
});

describe('retention', () => {
  it('renders only the last days of the retained tables, and everything else in full', () => {
    const next = evolve(base, { seed: 1, days: 10 });
    const full = renderJson(next, { era: '2025' });
    const recent = renderJson(next, { era: '2025', retentionDays: 30 });
    expect(recent.expected.watch_history).toBeLessThan(full.expected.watch_history!);
    expect(recent.expected.searches).toBeLessThan(full.expected.searches!);
    expect(recent.expected.likes).toBe(full.expected.likes);
    const cutoff = new Date((next.now - 30 * DAY) * 1000).toISOString().replace('T', ' ').slice(0, 19);
    const list = JSON.parse(recent.text)['Your Activity']['Watch History'].VideoList as { Date: string }[];
    expect(list.every((w) => w.Date >= cutoff)).toBe(true);
    const fullList = JSON.parse(full.text)['Your Activity']['Watch History'].VideoList as { Date: string }[];
    expect(fullList.slice(0, list.length)).toEqual(list);
    expect(fullList[list.length]!.Date < cutoff).toBe(true);
  });

  it('trims only the tables it is told to', () => {
    const r = renderJson(base, { era: '2025', retentionDays: 30, retentionTables: ['likes'] });
    const full = renderJson(base, { era: '2025' });
    expect(r.expected.likes).toBeLessThan(full.expected.likes!);
    expect(r.expected.watch_history).toBe(full.expected.watch_history);
  });
});
