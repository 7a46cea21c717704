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
import { isEmptyText, isIntegerText, normalizeTimestamp, normKey } from './values.js';

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
    for (let i = 0; i < keys.length; i++) {
      const slot = fields.slotOf(keys[i]!, i);
      if (slot >= 0 && at[slot] === -1) {
        at[slot] = i;
        continue;
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

  /** A text column: strings as they are, numbers and booleans as text, empties as `null`. */
  text(slot: number): string | null {
    const i = this.at[slot]!;
    if (i < 0) return null;
    const v = this.rec!.values[i]!;
    if (typeof v === 'string') {
      const s = v.indexOf('\0') === -1 ? v : this.cx.clean(v, () => this.fieldPath(slot));
      return isEmptyText(s) ? null : s;
    }
    if (v === null) return null;
    if (v instanceof JsonNumber) return v.text;
    if (typeof v === 'boolean') return v ? 'true' : 'false';
    if (isEmptyContainer(v)) return null;
    throw this.cx.wrongType('a string', describeValue(v), this.fieldPath(slot));
  }

  /** A date column → ISO UTC; `null` when absent or empty; an `ArchiveError` when it is not a date. */
  timestamp(slot: number): string | null {
    const text = this.text(slot);
    if (text === null) return null;
    const iso = normalizeTimestamp(text);
    if (iso === undefined) throw this.cx.badDate(text, this.fieldPath(slot));
    return iso;
  }

  /**
   * A date the row cannot do without. A record without one is skipped with a `bad_value` warning
   * (returns `undefined`).
   */
  requiredTimestamp(slot: number, what: string): string | undefined {
    const iso = this.timestamp(slot);
    if (iso !== null) return iso;
    const path = this.where();
    this.cx.warn(
      'bad_value',
      `Skipped ${what} without a date at \`${path}\` in \`${this.cx.member}\`.`,
      path,
    );
    return undefined;
  }

  /** A count or id column: decimal text, or `null` with a `bad_value` warning (the value stays in `extra`). */
  int(slot: number): string | null {
    const text = this.text(slot);
    if (text === null) return null;
    const t = text.trim();
    if (isIntegerText(t)) return t;
    const path = this.fieldPath(slot);
    this.cx.warn(
      'bad_value',
      `Expected a whole number at \`${path}\` in \`${this.cx.member}\`, found \`${preview(text)}\`; it was kept in \`extra\`.`,
      path,
    );
    this.keepInExtra(slot);
    return null;
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

function isEmptyContainer(v: JsonValue): boolean {
  return Array.isArray(v) ? v.length === 0 : v instanceof JsonObject && v.size === 0;
}
