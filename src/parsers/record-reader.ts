/**
 * One flat record at a time → normalized column values. A table names its columns and the keys
 * every era uses for them ({@link FieldIndex}); keys are compared with {@link normKey}, so
 * `Date`/`date`, `SearchTerm`/`Search Term` and `Like(s)`/`Likes` are one key. Keys a table does not
 * model go to `extra` (exact JSON) and, unless listed as known, raise one `unknown_key` warning per
 * section.
 */
import {
  describeValue,
  JsonNumber,
  JsonObject,
  type JsonValue,
  jsonString,
  toJsonText,
} from './json-tree.js';
import { type ParseContext, preview } from './parse-context.js';
import {
  isEmptyText,
  isIntegerText,
  isUnknownDate,
  normalizeBirthDate,
  normalizeTimestamp,
  normKey,
} from './values.js';

/** Where a record sits, for messages; `section` also scopes the once-per-section warnings. */
export interface RecordLoc {
  readonly section: string;
  where(): string;
}

const UNKNOWN = -1;
const KNOWN_EXTRA = -2;

/** Column slots of one table and the keys (all eras) that fill them. */
export class FieldIndex<S extends string> {
  readonly slot: Readonly<Record<S, number>>;
  readonly count: number;
  private readonly byNorm = new Map<string, number>();
  private readonly byRaw = new Map<string, number>();

  constructor(aliases: Readonly<Record<S, readonly string[]>>, knownExtra: readonly string[] = []) {
    const slot = {} as Record<S, number>;
    let n = 0;
    for (const name of Object.keys(aliases) as S[]) {
      slot[name] = n;
      for (const alias of aliases[name]) this.byNorm.set(normKey(alias), n);
      n++;
    }
    for (const alias of knownExtra) this.byNorm.set(normKey(alias), KNOWN_EXTRA);
    this.slot = slot;
    this.count = n;
  }

  /** The slot a key fills, {@link UNKNOWN} or {@link KNOWN_EXTRA}. */
  slotOf(key: string, position: number): number {
    // Records of one list repeat their keys in the same order: compare with the key last seen at
    // this position before hashing.
    if (position < 16 && this.lastKey[position] === key) return this.lastSlot[position]!;
    let s = this.byRaw.get(key);
    if (s === undefined) {
      s = this.byNorm.get(normKey(key)) ?? UNKNOWN;
      if (this.byRaw.size < 10_000) this.byRaw.set(key, s);
    }
    if (position < 16) {
      this.lastKey[position] = key;
      this.lastSlot[position] = s;
    }
    return s;
  }

  private readonly lastKey: string[] = [];
  private readonly lastSlot = new Int32Array(16);
}

/**
 * Reads the columns of one record at a time. Values come out normalized (NUL removed, empties as
 * `null`, dates as ISO UTC); a value of the wrong type is an `ArchiveError`.
 */
export class RecordReader {
  private rec: JsonObject | null = null;
  private loc: RecordLoc | null = null;
  private at = new Int32Array(32);
  private readonly extraAt: number[] = [];

  constructor(readonly cx: ParseContext) {}

  load(rec: JsonObject, fields: FieldIndex<string>, loc: RecordLoc): this {
    this.rec = rec;
    this.loc = loc;
    if (this.at.length < fields.count) this.at = new Int32Array(fields.count);
    const at = this.at;
    at.fill(-1, 0, fields.count);
    if (this.extraAt.length > 0) this.extraAt.length = 0;
    const keys = rec.keys;
    const values = rec.values;
    for (let i = 0; i < keys.length; i++) {
      const slot = fields.slotOf(keys[i]!, i);
      if (slot >= 0) {
        const first = at[slot]!;
        if (first === -1) {
          at[slot] = i;
          continue;
        }
        // Two keys of one column (2026 writes a comment's link three times): the first with a
        // value fills it; a repeat of the same value or an empty one adds nothing.
        const kept = values[first]!;
        const next = values[i]!;
        if (isBlank(next) || sameText(kept, next)) continue;
        if (isBlank(kept)) {
          at[slot] = i;
          continue;
        }
      }
      this.extraAt.push(i);
      if (slot === UNKNOWN) this.unknownKey(keys[i]!);
    }
    return this;
  }

  private unknownKey(key: string): void {
    const loc = this.loc!;
    this.cx.warnOnce(
      `key\0${loc.section}\0${key}`,
      'unknown_key',
      `Unknown key \`${key}\` in \`${loc.section}\` of \`${this.cx.member}\`; it was kept in \`extra\`.`,
      loc.section,
    );
  }

  /** The raw value of a slot, `undefined` when the record does not have it. */
  value(slot: number): JsonValue | undefined {
    const i = this.at[slot]!;
    return i < 0 ? undefined : this.rec!.values[i];
  }

  fieldPath(slot: number): string {
    const i = this.at[slot]!;
    return `${this.loc!.where()}/${i < 0 ? '?' : this.rec!.keys[i]}`;
  }

  where(): string {
    return this.loc!.where();
  }

  /**
   * A text column: strings as they are, numbers and booleans as text, `""` and `null` as `null`. A
   * placeholder (`N/A`, `None`, `null`) or a list or object where text belongs becomes `null`, with
   * the original kept in `extra` and counted (see {@link unreadable}).
   */
  text(slot: number): string | null {
    const i = this.at[slot]!;
    if (i < 0) return null;
    const v = this.rec!.values[i]!;
    if (typeof v === 'string') {
      const s = v.indexOf('\0') === -1 ? v : this.cx.clean(v, () => this.fieldPath(slot));
      if (!isEmptyText(s)) return s;
      if (s.trim() !== '') this.unreadable(slot, 'placeholder', `the placeholder \`${preview(s)}\``);
      return null;
    }
    if (v === null) return null;
    if (v instanceof JsonNumber) return v.text;
    if (typeof v === 'boolean') return v ? 'true' : 'false';
    if (isEmptyContainer(v)) return null;
    this.unreadable(slot, 'wrong_type', `${describeValue(v)} where a value belongs`);
    return null;
  }

  /**
   * A date column → ISO UTC. A date TikTok did not know (`1969-12-31 23:59:59`, `1970-01-01
   * 00:00:00`, anything before 2000) or text that is not a date becomes `null`, kept and counted.
   */
  timestamp(slot: number): string | null {
    const text = this.text(slot);
    if (text === null) return null;
    const iso = normalizeTimestamp(text);
    if (iso === undefined) {
      this.unreadable(
        slot,
        'bad_date',
        `\`${preview(text)}\`, which is not a date like \`2024-05-01 12:34:56\``,
      );
      return null;
    }
    if (isUnknownDate(iso)) {
      this.unreadable(
        slot,
        'unknown_date',
        `\`${preview(text)}\`, which TikTok writes for a date it does not know`,
      );
      return null;
    }
    return iso;
  }

  /** A calendar date (a birth date, `05-Jul-2001`) → `YYYY-MM-DD`; otherwise `null`, kept and counted. */
  date(slot: number): string | null {
    const text = this.text(slot);
    if (text === null) return null;
    const iso = normalizeBirthDate(text);
    if (iso !== undefined) return iso;
    this.unreadable(slot, 'bad_date', `\`${preview(text)}\`, which is not a date like \`05-Jul-2001\``);
    return null;
  }

  /** A count or id column: decimal text; anything else becomes `null`, kept and counted. */
  int(slot: number): string | null {
    const text = this.text(slot);
    if (text === null) return null;
    const t = text.trim();
    if (isIntegerText(t)) return t;
    this.unreadable(slot, 'not_a_number', `\`${preview(text)}\`, which is not a whole number`);
    return null;
  }

  /**
   * The value policy for one value that cannot be read: its column gets `null`, the original stays
   * in `extra` under its own key (so a later parser can still read it), and a warning is counted
   * per section and field.
   */
  private unreadable(slot: number, code: string, found: string): void {
    this.keepInExtra(slot);
    const key = this.rec!.keys[this.at[slot]!]!;
    const loc = this.loc!;
    this.cx.warnField(
      code,
      `\`${key}\` at \`${loc.where()}\` in \`${this.cx.member}\` holds ${found}; the column was left empty and the original kept in \`extra\`.`,
      loc.section,
      key,
    );
  }

  /** Moves a slot's value to `extra` (a value that could not be read into its column). */
  keepInExtra(slot: number): void {
    const i = this.at[slot]!;
    if (i >= 0 && !this.extraAt.includes(i)) this.extraAt.push(i);
  }

  /** JSON text of the keys the table does not model, or `null`. */
  extra(): string | null {
    const idx = this.extraAt;
    if (idx.length === 0) return null;
    const rec = this.rec!;
    const clean = (s: string) => this.cx.clean(s, () => this.where());
    let out = '{';
    for (let k = 0; k < idx.length; k++) {
      const i = idx[k]!;
      if (k > 0) out += ',';
      out += `${jsonString(clean(rec.keys[i]!))}:${toJsonText(rec.values[i]!, clean)}`;
    }
    return `${out}}`;
  }
}

function isBlank(v: JsonValue): boolean {
  return v === null || (typeof v === 'string' && v.trim() === '');
}

function sameText(a: JsonValue, b: JsonValue): boolean {
  if (typeof a === 'string' && typeof b === 'string') return a === b;
  return a instanceof JsonNumber && b instanceof JsonNumber && a.text === b.text;
}

function isEmptyContainer(v: JsonValue): boolean {
  return Array.isArray(v) ? v.length === 0 : v instanceof JsonObject && v.size === 0;
}
