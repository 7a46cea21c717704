import { DAY, YEAR } from './clock.js';
import { deriveKey, Rand, streamId } from './prng.js';
import { emptySequence, type Sequence } from './sequence.js';
import { displayName, freeText, handle } from './text.js';
import { LANGUAGES, REGIONS } from './vocab.js';

/** The lazily generated sections of a user, one {@link Sequence} each. */
export const SEQUENCE_NAMES = [
  'watch',
  'likes',
  'favVideos',
  'favSounds',
  'favHashtags',
  'favEffects',
  'favCollections',
  'searches',
  'shares',
  'comments',
  'followers',
  'following',
  'blocks',
  'logins',
  'posts',
  'liveWatch',
  'liveGo',
  'sendGifts',
  'buyGifts',
  'coinPurchases',
  'hashtags',
  'offTikTok',
  'status',
  'reposts',
  'adsVisits',
] as const;

export type SequenceName = (typeof SEQUENCE_NAMES)[number];

/** Share of `scale` and minimum count per section: watch history dominates, as in real exports. */
const SHAPE: Record<SequenceName, readonly [share: number, min: number]> = {
  watch: [0.6, 8],
  likes: [0.18, 4],
  favVideos: [0.05, 2],
  favSounds: [0.004, 1],
  favHashtags: [0.002, 1],
  favEffects: [0.002, 1],
  favCollections: [0.001, 1],
  searches: [0.03, 3],
  shares: [0.01, 2],
  comments: [0.012, 3],
  followers: [0.012, 3],
  following: [0.012, 3],
  blocks: [0.001, 1],
  logins: [0.015, 2],
  posts: [0.002, 2],
  liveWatch: [0.002, 1],
  liveGo: [0.0005, 1],
  sendGifts: [0.001, 1],
  buyGifts: [0.0005, 1],
  coinPurchases: [0.0002, 1],
  hashtags: [0.001, 1],
  offTikTok: [0.004, 2],
  status: [0.0005, 1],
  reposts: [0.001, 1],
  adsVisits: [0.0005, 1],
};
const DM_SHARE = 0.05;
const DM_MIN = 6;
const MESSAGES_PER_CONVERSATION = 40;
const MAX_CONVERSATIONS = 3000;

export type SectionCounts = Record<SequenceName | 'dmMessages' | 'conversations', number>;

export interface Conversation {
  /** The map key is `Chat History with ${peer}:`. */
  peer: string;
  /** A group chat (`Group_Chat_<id>`): several senders. */
  group: boolean;
  /** Seeds the conversation's members. */
  key: number;
  messages: Sequence;
}

export interface ProfileFacts {
  displayName: string;
  bio: string;
  /** Unix seconds of the birth date. */
  birth: number;
  email: string;
  phone: string;
  region: string;
  inferredGender: string;
  language: string;
  /** Followers the follower list does not show (followerCount = listed + hidden). */
  hiddenFollowers: number;
  /** Likes received on content other than the listed posts. */
  otherLikes: number;
  /** Seeds avatar URLs, device ids and other fixed values. */
  key: number;
}

/** What the last {@link evolve} call changed, so tests can check the next import against it. */
export interface EvolveChange {
  days: number;
  added: Partial<Record<SequenceName | 'dmMessages' | 'conversations', number>>;
  removed: Partial<Record<SequenceName, number>>;
  /** Global post index and the change of its like count. */
  postLikes: { post: number; delta: number } | null;
  followerCount: { before: number; after: number };
}

/**
 * A synthetic TikTok user: a small, JSON-serializable description from which every record is derived
 * on demand. A user with millions of records costs a few kilobytes (the DM conversation list is the
 * only part that grows with scale, by one entry per ~40 messages).
 */
export interface SyntheticUser {
  kind: 'synthetic-tiktok-user';
  version: 1;
  seed: number;
  username: string;
  scale: number;
  /** Account creation, unix seconds. */
  createdAt: number;
  /** The moment of the export, unix seconds; every record is older. */
  now: number;
  /** How many times the user has been evolved. */
  generation: number;
  profile: ProfileFacts;
  sequences: Record<SequenceName, Sequence>;
  conversations: Conversation[];
  /** Like-count changes of posts since generation, keyed by global post index. */
  postLikeDelta: Record<string, number>;
  lastChange: EvolveChange | null;
}

export interface GenerateUserOptions {
  seed: number;
  /** The account's handle (`[a-z0-9._]`). */
  username: string;
  /** About how many records the full export holds (watch history is ~60% of them). */
  scale: number;
  /** Export time, unix seconds. Default 1764000000 (2025-11-24 16:00 UTC). */
  now?: number;
  /** Exact counts for some sections, overriding the ones derived from `scale` (0 makes a section empty). */
  counts?: Partial<SectionCounts>;
}

export const DEFAULT_NOW = 1_764_000_000;

const S_USER = streamId('user');
const S_SEQUENCE = streamId('sequence');
const S_CONVERSATIONS = streamId('conversations');

/** The counts `generateUser` derives from `scale` (before overrides). */
export function countsForScale(scale: number): SectionCounts {
  const out = {} as SectionCounts;
  for (const name of SEQUENCE_NAMES) {
    const [share, min] = SHAPE[name];
    out[name] = Math.max(min, Math.round(scale * share));
  }
  out.dmMessages = Math.max(DM_MIN, Math.round(scale * DM_SHARE));
  out.conversations = Math.min(
    MAX_CONVERSATIONS,
    Math.max(2, Math.round(out.dmMessages / MESSAGES_PER_CONVERSATION)),
  );
  return out;
}

/** The handle of conversation peer `index` (unique per user). */
export function peerName(seed: number, index: number): string {
  return handle(Rand.of(seed, S_CONVERSATIONS, index), index);
}

export function makeConversation(seed: number, index: number, from: number, to: number, count: number) {
  const key = deriveKey(seed, S_CONVERSATIONS, index);
  const r = Rand.of(key, S_CONVERSATIONS, 1);
  const group = index % 7 === 3;
  const peer = group ? `Group_Chat_${(BigInt(from) << 32n) | BigInt(r.u32())}` : peerName(seed, index);
  const conversation: Conversation = {
    peer,
    group,
    key,
    messages: { segments: [{ key, count, from, to }], removed: [] },
  };
  return conversation;
}

/** Generates a user. Deterministic: the same options give the same user. */
export function generateUser(options: GenerateUserOptions): SyntheticUser {
  const { seed, username } = options;
  const scale = Math.max(0, Math.floor(options.scale));
  const now = options.now ?? DEFAULT_NOW;
  const counts = { ...countsForScale(scale), ...options.counts };
  const r = Rand.of(seed, S_USER, 0);
  const createdAt = now - r.int(Math.round(1.2 * YEAR), Math.round(4.5 * YEAR));

  const sequences = {} as Record<SequenceName, Sequence>;
  for (const name of SEQUENCE_NAMES) {
    const seq = emptySequence();
    const count = counts[name];
    if (count > 0) {
      const from = createdAt + r.int(0, 40 * DAY);
      seq.segments.push({ key: deriveKey(seed, S_SEQUENCE, streamId(name), 0), count, from, to: now });
    }
    sequences[name] = seq;
  }

  const conversations: Conversation[] = [];
  const nConv = counts.dmMessages > 0 ? Math.min(counts.conversations, counts.dmMessages) : 0;
  if (nConv > 0) {
    // Few busy chats and many quiet ones: weights from a heavy-tailed draw.
    const weights: number[] = [];
    for (let i = 0; i < nConv; i++) weights.push(1 / (r.float() + 0.03));
    const sum = weights.reduce((a, b) => a + b, 0);
    const spare = counts.dmMessages - nConv;
    const sizes = weights.map((w) => 1 + Math.floor((spare * w) / sum));
    sizes[0]! += counts.dmMessages - sizes.reduce((a, b) => a + b, 0);
    for (let i = 0; i < nConv; i++) {
      const from = createdAt + r.int(0, Math.max(1, now - createdAt - 30 * DAY));
      conversations.push(makeConversation(seed, i, from, now, sizes[i]!));
    }
  }

  const language = r.pick(LANGUAGES)[0];
  const profile: ProfileFacts = {
    displayName: displayName(r),
    bio: freeText(r, 0.3),
    birth: now - r.int(16 * YEAR, 48 * YEAR),
    email: `${username.replace(/[^a-z0-9._]/gi, '')}@example.com`,
    phone: r.chance(0.5) ? `+44 7700 900${r.int(100, 999)}` : '',
    region: r.pick(REGIONS),
    inferredGender: r.pick(['None', 'Female', 'Male']),
    language,
    hiddenFollowers: r.int(0, Math.max(1, Math.round(scale * 0.002))),
    otherLikes: r.int(0, Math.max(10, Math.round(scale * 0.05))),
    key: deriveKey(seed, S_USER, 1),
  };

  return {
    kind: 'synthetic-tiktok-user',
    version: 1,
    seed,
    username,
    scale,
    createdAt,
    now,
    generation: 0,
    profile,
    sequences,
    conversations,
    postLikeDelta: {},
    lastChange: null,
  };
}
