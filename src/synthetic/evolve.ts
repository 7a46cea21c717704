import { DAY } from './clock.js';
import { deriveKey, Rand, streamId } from './prng.js';
import { addRemoved, type Sequence, totalOf, visibleOf } from './sequence.js';
import { type EvolveChange, makeConversation, type SequenceName, type SyntheticUser } from './user.js';

export interface EvolveOptions {
  /** Seeds what happens in these days; the same (user, seed, days) always gives the same result. */
  seed: number;
  /** Days between the user's current export time and the new one (may be fractional, must be > 0). */
  days: number;
}

/** Sections that keep growing, at about the rate they grew before. */
const GROWING: readonly SequenceName[] = [
  'watch',
  'likes',
  'favVideos',
  'favSounds',
  'searches',
  'shares',
  'comments',
  'followers',
  'following',
  'logins',
  'liveWatch',
  'offTikTok',
  'reposts',
  'adsVisits',
  'sendGifts',
];
/** Sections that get at least one new record per evolve step. */
const ALWAYS: ReadonlySet<SequenceName> = new Set(['watch', 'likes', 'followers']);

const S_EVOLVE = streamId('evolve');

/** `followerCount` in the profile: the listed followers plus some the list does not show. */
export function followerCount(user: SyntheticUser): number {
  return visibleOf(user.sequences.followers) + user.profile.hiddenFollowers;
}

export function followingCount(user: SyntheticUser): number {
  return visibleOf(user.sequences.following);
}

function ratePerDay(seq: Sequence, now: number): number {
  const first = seq.segments[0];
  if (!first) return 0;
  return totalOf(seq) / Math.max(1, (now - first.from) / DAY);
}

/** Picks up to `k` distinct indices in [0, below) that are not removed yet. */
function pickRemovals(r: Rand, seq: Sequence, below: number, k: number): number[] {
  const removed = new Set(seq.removed);
  const out = new Set<number>();
  const available = below - seq.removed.filter((g) => g < below).length;
  const want = Math.min(k, available);
  for (let tries = 0; out.size < want && tries < want * 50; tries++) {
    const g = r.int(0, below - 1);
    if (!removed.has(g)) out.add(g);
  }
  return [...out].sort((a, b) => a - b);
}

/**
 * The same user `days` later: new watch history, likes, follows, messages…; a few likes and follows
 * removed; one post's like count and the follower count changed. Returns a new user (the input is not
 * modified); `lastChange` says what changed.
 */
export function evolve(user: SyntheticUser, options: EvolveOptions): SyntheticUser {
  if (!(options.days > 0))
    throw new RangeError(`evolve needs a positive number of days, got ${options.days}.`);
  const u = structuredClone(user);
  const gen = user.generation + 1;
  const from = user.now;
  const to = user.now + Math.max(1, Math.round(options.days * DAY));
  const r = Rand.of(deriveKey(options.seed, user.seed), S_EVOLVE, gen);
  const change: EvolveChange = {
    days: options.days,
    added: {},
    removed: {},
    postLikes: null,
    followerCount: { before: followerCount(user), after: 0 },
  };

  for (const name of GROWING) {
    const seq = u.sequences[name];
    const expected = ratePerDay(seq, from) * options.days;
    let n = Math.round(expected * (0.7 + 0.6 * r.float()));
    if (ALWAYS.has(name)) n = Math.max(1, n);
    if (n <= 0) continue;
    seq.segments.push({ key: deriveKey(options.seed, user.seed, streamId(name), gen), count: n, from, to });
    change.added[name] = n;
  }

  const removals: [SequenceName, number][] = [
    ['likes', Math.max(1, Math.round((change.added.likes ?? 0) * 0.03))],
    ['following', r.int(1, 2)],
    ['followers', r.int(0, 1)],
  ];
  for (const [name, k] of removals) {
    const seq = u.sequences[name];
    const before = totalOf(user.sequences[name]);
    const picked = pickRemovals(r, seq, before, k);
    if (picked.length === 0) continue;
    addRemoved(seq, picked);
    change.removed[name] = picked.length;
  }

  const posts = u.sequences.posts;
  const nPosts = totalOf(posts);
  if (visibleOf(posts) > 0) {
    let g = r.int(0, nPosts - 1);
    while (posts.removed.includes(g)) g = (g + 1) % nPosts;
    const delta = r.int(1, 250);
    u.postLikeDelta[String(g)] = (u.postLikeDelta[String(g)] ?? 0) + delta;
    change.postLikes = { post: g, delta };
  }
  u.profile.hiddenFollowers += r.int(1, 9);
  u.profile.otherLikes += r.int(0, 50);

  // Messages: a few existing chats continue, sometimes a new one starts.
  let dm = 0;
  const perDay = u.conversations.reduce((a, c) => a + ratePerDay(c.messages, from), 0);
  const convs = u.conversations.length;
  if (convs > 0) {
    const active = new Set<number>();
    const want = Math.min(convs, r.int(1, 3));
    while (active.size < want) active.add(r.int(0, convs - 1));
    for (const i of [...active].sort((a, b) => a - b)) {
      const n = Math.max(1, Math.round((perDay * options.days) / want));
      const conv = u.conversations[i]!;
      conv.messages.segments.push({
        key: deriveKey(options.seed, user.seed, conv.key, gen),
        count: n,
        from,
        to,
      });
      dm += n;
    }
  }
  if (convs === 0 || r.chance(0.3)) {
    const n = r.int(1, 6);
    const start = Math.min(to - 1, from + r.int(0, Math.max(0, to - from - 1)));
    u.conversations.push(makeConversation(deriveKey(user.seed), convs, start, to, n));
    change.added.conversations = 1;
    dm += n;
  }
  change.added.dmMessages = dm;

  u.now = to;
  u.generation = gen;
  change.followerCount.after = followerCount(u);
  u.lastChange = change;
  return u;
}
