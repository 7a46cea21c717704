import { hash } from 'node:crypto';
import { comparedColumns, type TableSpec } from './tables.js';

/**
 * The record key and row hash of a parsed row, computed in Node while the archive is read, so that
 * the import can tell an unchanged record from the stored one without sending it to Postgres.
 *
 * Both are MD5 digests of the row's text values, each written `<length>:<value>` (the length in
 * characters, as Postgres' `length()` counts them) or `-` for null, joined by `,`: exactly
 * `hashExpression()` of tables.ts, the form the stored keys were computed in, so stored rows keep
 * their keys. The digest is returned as a 16-character latin1 string (one character per byte): the
 * cheapest form Node's hash gives (`binary` is latin1), read as four 32-bit words by the stored-row index and written as
 * hex for COPY.
 */

/** A UTF-16 surrogate: a character outside the Basic Multilingual Plane, or a lone half. */
const SURROGATE = /[\uD800-\uDFFF]/;

/** The length Postgres' `length()` gives: code points (a lone surrogate becomes U+FFFD, one character). */
export function characterLength(value: string): number {
  if (!SURROGATE.test(value)) return value.length;
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < value.length) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

const field = (value: string | null | undefined): string =>
  value === null || value === undefined ? '-' : `${characterLength(value)}:${value}`;

type Row = Readonly<Record<string, string | null | undefined>>;

/** The MD5 of `<length>:<value>,…` (see the module comment), as 16 latin1 characters. */
export function digest(values: readonly (string | null | undefined)[]): string {
  let input = field(values[0]);
  for (let i = 1; i < values.length; i++) input += `,${field(values[i])}`;
  return hash('md5', input, 'binary');
}

/** Computes a table's record keys and row hashes (built once per table: the spec's fields as lists). */
export class RowHasher {
  readonly #part: boolean;
  readonly #constant: string | undefined;
  readonly #keyFields: readonly (readonly string[])[];
  readonly #compared: readonly string[];

  constructor(spec: TableSpec) {
    this.#part = spec.partColumn !== undefined;
    this.#constant = spec.constantKey;
    this.#keyFields = spec.keyFields;
    const fieldOf = new Map(spec.columns.map((c) => [c.name, c.field]));
    this.#compared = comparedColumns(spec).map((name) => fieldOf.get(name)!);
  }

  /** The record key: the part (when the table has parts), then each key entry's first non-null field. */
  key(part: string, row: Row): string {
    const values: (string | null | undefined)[] = this.#part ? [part] : [];
    if (this.#constant !== undefined) values.push(this.#constant);
    for (const entry of this.#keyFields) {
      let value: string | null | undefined = null;
      for (const name of entry) {
        value = row[name];
        if (value !== null && value !== undefined) break;
      }
      values.push(value);
    }
    return digest(values);
  }

  /** The row hash: the compared (not volatile) columns. */
  row(row: Row): string {
    const names = this.#compared;
    const values = new Array<string | null | undefined>(names.length);
    for (let i = 0; i < names.length; i++) values[i] = row[names[i]!];
    return digest(values);
  }
}

/** Four latin1 characters of a digest (from `at`) as one little-endian 32-bit word. */
export const digestWord = (digest: string, at: number): number =>
  (digest.charCodeAt(at) |
    (digest.charCodeAt(at + 1) << 8) |
    (digest.charCodeAt(at + 2) << 16) |
    (digest.charCodeAt(at + 3) << 24)) >>>
  0;

const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');

/**
 * Writes a digest as the 32 hex digits Postgres reads as a uuid into `bytes` at `at`; returns where
 * it ended. No string is made: it runs for every new record of an import.
 */
export function writeDigestHex(bytes: Buffer, at: number, digest: string): number {
  let i = at;
  for (let c = 0; c < 16; c++) {
    const byte = digest.charCodeAt(c);
    bytes[i++] = HEX_DIGITS[byte >> 4]!;
    bytes[i++] = HEX_DIGITS[byte & 15]!;
  }
  return i;
}

/** A digest as the 32 hex digits Postgres reads as a uuid. */
export function digestHex(digest: string): string {
  return Buffer.from(digest, 'latin1').toString('hex');
}
