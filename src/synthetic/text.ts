import type { Rand } from './prng.js';
import {
  DISPLAY_DECOR,
  EMOJI,
  FIRST_NAMES,
  HASHTAGS,
  LAST_PARTS,
  PHRASES_CJK,
  TOPICS,
  TRICKY,
  WORDS_EN,
  WORDS_INTL,
} from './vocab.js';

function token(r: Rand): string {
  const x = r.float();
  if (x < 0.62) return r.pick(WORDS_EN);
  if (x < 0.74) return r.pick(WORDS_INTL);
  if (x < 0.82) return r.pick(PHRASES_CJK);
  if (x < 0.95) return r.pick(EMOJI);
  return r.pick(TRICKY);
}

function line(r: Rand, min: number, max: number): string {
  const n = r.int(min, max);
  let s = token(r);
  for (let i = 1; i < n; i++) s += (r.chance(0.04) ? '\t' : ' ') + token(r);
  return s;
}

/**
 * Free text as people type it in comments and messages: mixed languages, emoji, quotes and
 * backslashes, sometimes a tab, sometimes several lines. Never empty, never padded with whitespace,
 * never a line that starts with a digit or `>` (so TXT continuation lines stay unambiguous).
 */
export function freeText(r: Rand, multilineChance = 0.06): string {
  if (r.chance(0.12)) {
    let e = r.pick(EMOJI);
    const n = r.int(0, 3);
    for (let i = 0; i < n; i++) e += r.pick(EMOJI);
    return e;
  }
  let s = line(r, 1, 12);
  if (r.chance(multilineChance)) {
    const extra = r.int(1, 3);
    for (let i = 0; i < extra; i++) s += `\n${line(r, 1, 8)}`;
  }
  return s;
}

/** A short single-line text (live comments, titles). */
export function shortText(r: Rand, maxWords = 6): string {
  return line(r, 1, maxWords);
}

export function searchTerm(r: Rand): string {
  const x = r.float();
  if (x < 0.55) return r.pick(TOPICS);
  if (x < 0.7) return `${r.pick(TOPICS)} ${r.pick(WORDS_EN)}`;
  if (x < 0.8) return `#${r.pick(HASHTAGS)}`;
  if (x < 0.9) return `${r.pick(FIRST_NAMES)}${r.pick(LAST_PARTS)}`;
  return line(r, 1, 3);
}

export function caption(r: Rand): string {
  let s = line(r, 2, 9);
  const tags = r.int(0, 4);
  for (let i = 0; i < tags; i++) s += ` #${r.pick(HASHTAGS)}`;
  return s;
}

/**
 * A TikTok handle (`[a-z0-9._]`) ending in the decimal `tag`. Names contain no digits, so the trailing
 * digit run identifies the tag: handles with different tags never collide, and a list that tags its
 * records with their index has unique handles.
 */
export function handle(r: Rand, tag: number): string {
  const first = r.pick(FIRST_NAMES);
  switch (r.int(0, 4)) {
    case 0:
      return `${first}.${r.pick(LAST_PARTS)}${tag}`;
    case 1:
      return `${first}_${tag}`;
    case 2:
      return `user${r.int(1000, 9999)}${tag}`;
    case 3:
      return `${r.pick(LAST_PARTS)}${first}${tag}`;
    default:
      return `${first}${r.pick(LAST_PARTS)}_${tag}`;
  }
}

export function displayName(r: Rand): string {
  const first = r.pick(FIRST_NAMES);
  const name = first.charAt(0).toUpperCase() + first.slice(1);
  const decor = r.pick(DISPLAY_DECOR);
  return decor ? `${name} ${decor}` : name;
}
