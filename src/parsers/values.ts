/**
 * Leaf-value normalization shared by the JSON and TXT parsers: dates, empties, NUL characters, key
 * spelling and the ids hidden in TikTok links.
 */

/**
 * A key with case, spaces and punctuation removed, so that `Date`/`date`, `Block List`/`BlockList`
 * and `Like(s)`/`Likes` meet. Every alias lookup goes through this.
 */
export function normKey(key: string): string {
  return key.toLowerCase().replace(/[^a-z0-9]+/g, '');
}

/**
 * `""`, `N/A`, `None`, `null` (any case, surrounding spaces ignored) are how the export writes "no
 * value". All but `""` are placeholders whose original the value policy keeps (record-reader.ts).
 */
export function isEmptyText(value: string): boolean {
  if (value.length === 0) return true;
  if (value.length > 8) return false;
  const t = value.trim().toLowerCase();
  return t === '' || t === 'n/a' || t === 'none' || t === 'null';
}

/**
 * True for a date TikTok did not know: it writes the Unix epoch (`1970-01-01 00:00:00`) or one
 * second before it (`1969-12-31 23:59:59`), and no TikTok record predates 2000.
 */
export function isUnknownDate(iso: string): boolean {
  return iso < '2000-01-01';
}

/** Value of the decimal digits in `s[from, to)`, or -1 when one is not a digit. */
function digits(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function validDate(year: number, month: number, day: number): boolean {
  return year >= 1 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

const ZONE_SUFFIX = /^(?:\.(\d{1,9}))?\s*(?:UTC|GMT|Z|[+-]00:?00)?$/i;

/**
 * Export date → ISO-8601 UTC (`2024-05-01 12:34:56` or `… UTC` → `2024-05-01T12:34:56Z`).
 * Also accepts an ISO `T` separator, fractional seconds, `Z`/`+00:00`, and Unix seconds or
 * milliseconds written as digits (some LIVE fields). Returns `undefined` when the text is not a date.
 */
export function normalizeTimestamp(value: string): string | undefined {
  let s = value;
  if (s.length !== 19) {
    s = s.trim();
    if (/^\d{9,13}$/.test(s)) return fromEpoch(Number(s), s.length > 11);
    if (s.length < 19) return undefined;
  }
  const year = digits(s, 0, 4);
  const month = digits(s, 5, 7);
  const day = digits(s, 8, 10);
  const hour = digits(s, 11, 13);
  const minute = digits(s, 14, 16);
  const second = digits(s, 17, 19);
  const sep = s.charCodeAt(10);
  if (
    s.charCodeAt(4) !== 45 ||
    s.charCodeAt(7) !== 45 ||
    (sep !== 32 && sep !== 84) ||
    s.charCodeAt(13) !== 58 ||
    s.charCodeAt(16) !== 58 ||
    hour < 0 ||
    hour > 23 ||
    minute < 0 ||
    minute > 59 ||
    second < 0 ||
    second > 60 ||
    !validDate(year, month, day)
  ) {
    return undefined;
  }
  const base = sep === 32 ? `${s.slice(0, 10)}T${s.slice(11, 19)}` : s.slice(0, 19);
  if (s.length === 19) return `${base}Z`;
  const rest = ZONE_SUFFIX.exec(s.slice(19));
  if (rest === null) return undefined;
  return rest[1] === undefined ? `${base}Z` : `${base}.${rest[1]}Z`;
}

function fromEpoch(n: number, millis: boolean): string | undefined {
  const d = new Date(millis ? n : n * 1000);
  if (Number.isNaN(d.getTime())) return undefined;
  const iso = d.toISOString();
  return millis && d.getUTCMilliseconds() !== 0 ? iso : `${iso.slice(0, 19)}Z`;
}

const MONTHS: Readonly<Record<string, number>> = {
  jan: 1,
  feb: 2,
  mar: 3,
  apr: 4,
  may: 5,
  jun: 6,
  jul: 7,
  aug: 8,
  sep: 9,
  oct: 10,
  nov: 11,
  dec: 12,
};

/**
 * Profile birth date → `YYYY-MM-DD`. The export writes `DD-Mon-YYYY` (`05-Jul-2001`); ISO dates are
 * accepted as they are. Returns `undefined` when the text is neither.
 */
export function normalizeBirthDate(value: string): string | undefined {
  const s = value.trim();
  let m = /^(\d{1,2})[- ]([A-Za-z]{3})[A-Za-z]*[- ](\d{4})$/.exec(s);
  if (m !== null) {
    const month = MONTHS[m[2]!.toLowerCase()];
    const day = Number(m[1]);
    const year = Number(m[3]);
    if (month === undefined || !validBirthDate(year, month, day)) return undefined;
    return `${m[3]}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
  }
  m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (m !== null && validBirthDate(Number(m[1]), Number(m[2]), Number(m[3]))) return s;
  return undefined;
}

function validBirthDate(year: number, month: number, day: number): boolean {
  return year >= 1850 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

/** Decimal integer text that fits a Postgres `bigint`, the form {@link Int64} columns take. */
export function isIntegerText(value: string): boolean {
  return /^-?\d{1,20}$/.test(value) && fitsInt64(value);
}

const INT64_MAX = '9223372036854775807';
const INT64_MIN_ABS = '9223372036854775808';

/**
 * True when decimal digits (optionally signed) fit a signed 64-bit integer. Ids are digits taken from
 * links, and a link can hold any number of them; Postgres would refuse the whole import for one.
 */
export function fitsInt64(digitsText: string): boolean {
  const negative = digitsText.startsWith('-');
  let s = negative ? digitsText.slice(1) : digitsText;
  if (s.length > 19) s = s.replace(/^0+(?=\d)/, '');
  if (s.length < 19) return true;
  if (s.length > 19) return false;
  return s <= (negative ? INT64_MIN_ABS : INT64_MAX);
}

const VIDEO_ID = /\/(?:video|photo|v)\/(\d{5,25})(?=[/?#.]|$)/;
const VIDEO_QUERY_ID = /[?&](?:item_id|share_item_id|video_id)=(\d{5,25})(?:[&#]|$)/;
const SOUND_ID = /\/music\/(?:[^/?#]*-)?(\d{5,25})(?=[/?#.]|$)/;
const EFFECT_ID = /\/stickers?\/(?:detail\/)?(?:[^/?#]*-)?(\d{3,25})(?=[/?#.]|$)/;
const HASHTAG_ID = /\/challenge\/(?:[^/?#]*-)?(\d{1,25})(?=[/?#.]|$)/;

function firstGroup(re: RegExp, link: string | null): string | null {
  if (link === null) return null;
  const m = re.exec(link);
  return m === null || !fitsInt64(m[1]!) ? null : m[1]!;
}

/**
 * Video id of a share or web link: `https://www.tiktokv.com/share/video/<id>/`,
 * `https://www.tiktok.com/@user/video/<id>`, `…/photo/<id>`, `https://m.tiktok.com/v/<id>.html`.
 */
export function videoIdFromLink(link: string | null): string | null {
  if (link === null) return null;
  // Fast path for the common `/video/<digits>` shape; the patterns below cover the rest.
  const at = link.indexOf('/video/');
  if (at >= 0) {
    const from = at + 7;
    let end = from;
    while (end < link.length) {
      const c = link.charCodeAt(end);
      if (c < 48 || c > 57) break;
      end++;
    }
    const next = end < link.length ? link.charCodeAt(end) : -1;
    // `/`, `?`, `#`, `.` or the end of the link.
    if (
      end - from >= 5 &&
      end - from <= 25 &&
      (next === -1 || next === 47 || next === 63 || next === 35 || next === 46)
    ) {
      const id = link.slice(from, end);
      return fitsInt64(id) ? id : null;
    }
  }
  return firstGroup(VIDEO_ID, link) ?? firstGroup(VIDEO_QUERY_ID, link);
}

/** `https://m.tiktok.com/h5/share/music/<id>.html`, `https://www.tiktok.com/music/<name>-<id>`. */
export function soundIdFromLink(link: string | null): string | null {
  return firstGroup(SOUND_ID, link);
}

/** `https://m.tiktok.com/share/stickers/detail/<id>.html`, `https://www.tiktok.com/sticker/<name>-<id>`. */
export function effectIdFromLink(link: string | null): string | null {
  return firstGroup(EFFECT_ID, link);
}

/** `https://www.tiktok.com/share/challenge/<id>/`. */
export function hashtagIdFromLink(link: string | null): string | null {
  return firstGroup(HASHTAG_ID, link);
}

/** Whichever id a TikTok link carries (video, sound, effect, hashtag), for favorites of other kinds. */
export function anyIdFromLink(link: string | null): string | null {
  return videoIdFromLink(link) ?? soundIdFromLink(link) ?? effectIdFromLink(link) ?? hashtagIdFromLink(link);
}

/** The video id of a DM whose whole content is a share link (a GIF is written `[https://…]`). */
export function videoIdFromMessage(content: string | null): string | null {
  if (content === null) return null;
  const s = content.trim();
  if (!s.startsWith('http') || /\s/.test(s)) return null;
  return videoIdFromLink(s);
}

/** `Chat History with ana_23:` → `ana_23` (the export writes the peer inside the map key). */
export function peerFromChatKey(key: string): string {
  let s = key.trim();
  const m = /^(?:>>>\s*)?chat\s+history\s+with\s*/i.exec(s);
  if (m !== null) s = s.slice(m[0].length);
  return s.replace(/\s*:+\s*$/, '');
}
