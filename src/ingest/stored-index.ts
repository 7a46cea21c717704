import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { digestWord } from './record-hash.js';

/**
 * The stored records of one account in one table, as the import compares them: per record its key
 * and occurrence, row hash and whether it is marked removed, plus whether this export held it. Kept
 * in typed arrays (37 bytes a record and 8 of hash slots), not in objects: a million stored records
 * take about 45 MB, outside the V8 heap.
 *
 * Digests are 16-character latin1 strings (record-hash.ts), read here as four little-endian 32-bit
 * words; the same words are read from the binary COPY of the stored uuids.
 */
export class StoredIndex {
  #size = 0;
  #keys = new Uint32Array(0);
  #hashes = new Uint32Array(0);
  #occurrences = new Uint32Array(0);
  #flags = new Uint8Array(0);
  #slots = new Int32Array(0);
  #mask = 0;

  get size(): number {
    return this.#size;
  }

  /** Adds a stored record; call {@link seal} once all are added. */
  add(words: ArrayLike<number>, occurrence: number, hashWords: ArrayLike<number>, removed: boolean): void {
    if (this.#size === this.#occurrences.length) this.#grow();
    const i = this.#size++;
    for (let w = 0; w < 4; w++) {
      this.#keys[i * 4 + w] = words[w]!;
      this.#hashes[i * 4 + w] = hashWords[w]!;
    }
    this.#occurrences[i] = occurrence;
    this.#flags[i] = removed ? REMOVED : 0;
  }

  /** Room for `records` more (the count the loader was told), else twice the room. */
  reserve(records: number): void {
    if (this.#size + records > this.#occurrences.length) this.#grow(this.#size + records);
  }

  #grow(wanted = Math.max(1024, this.#occurrences.length * 2)): void {
    const capacity = wanted;
    const keys = new Uint32Array(capacity * 4);
    keys.set(this.#keys);
    this.#keys = keys;
    const hashes = new Uint32Array(capacity * 4);
    hashes.set(this.#hashes);
    this.#hashes = hashes;
    const occurrences = new Uint32Array(capacity);
    occurrences.set(this.#occurrences);
    this.#occurrences = occurrences;
    const flags = new Uint8Array(capacity);
    flags.set(this.#flags);
    this.#flags = flags;
  }

  /** Builds the hash slots (open addressing, load ≤ 0.5). */
  seal(): void {
    const n = this.#size;
    let slots = 1;
    while (slots < n * 2) slots *= 2;
    this.#slots = new Int32Array(slots).fill(-1);
    this.#mask = slots - 1;
    for (let i = 0; i < n; i++) {
      let s = slotOf(this.#keys[i * 4]!, this.#occurrences[i]!) & this.#mask;
      while (this.#slots[s] !== -1) s = (s + 1) & this.#mask;
      this.#slots[s] = i;
    }
  }

  /** The entry of (key, occurrence), or -1. */
  find(key: string, occurrence: number): number {
    if (this.#size === 0) return -1;
    const k0 = digestWord(key, 0);
    let s = slotOf(k0, occurrence) & this.#mask;
    for (;;) {
      const i = this.#slots[s]!;
      if (i === -1) return -1;
      const base = i * 4;
      if (
        this.#keys[base] === k0 &&
        this.#occurrences[i] === occurrence &&
        this.#keys[base + 1] === digestWord(key, 4) &&
        this.#keys[base + 2] === digestWord(key, 8) &&
        this.#keys[base + 3] === digestWord(key, 12)
      ) {
        return i;
      }
      s = (s + 1) & this.#mask;
    }
  }

  /** Whether the entry's row hash is `hash`. */
  sameHash(entry: number, hash: string): boolean {
    const base = entry * 4;
    return (
      this.#hashes[base] === digestWord(hash, 0) &&
      this.#hashes[base + 1] === digestWord(hash, 4) &&
      this.#hashes[base + 2] === digestWord(hash, 8) &&
      this.#hashes[base + 3] === digestWord(hash, 12)
    );
  }

  removed(entry: number): boolean {
    return (this.#flags[entry]! & REMOVED) !== 0;
  }

  seen(entry: number): boolean {
    return (this.#flags[entry]! & SEEN) !== 0;
  }

  markSeen(entry: number): void {
    this.#flags[entry]! |= SEEN;
  }

  /** Calls `fn` with the key (a digest, record-hash.ts) and occurrence of every current record not seen. */
  forEachUnseen(fn: (key: string, occurrence: number) => void): void {
    for (let i = 0; i < this.#size; i++) {
      if ((this.#flags[i]! & (SEEN | REMOVED)) !== 0) continue;
      // The words were read little-endian from the digest's bytes: byte k of word w is its (w*4+k)-th.
      let key = '';
      for (let w = 0; w < 4; w++) {
        const v = this.#keys[i * 4 + w]!;
        key += String.fromCharCode(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24);
      }
      fn(key, this.#occurrences[i]!);
    }
  }
}

const REMOVED = 1;
const SEEN = 2;

/** MD5 words are uniform already: mixing in the occurrence keeps repeats of a key in separate slots. */
const slotOf = (k0: number, occurrence: number): number => (k0 ^ Math.imul(occurrence - 1, 0x9e3779b1)) >>> 0;

/**
 * Reads the stored records of an account in several tables with one `COPY … TO STDOUT (FORMAT
 * binary)`: per row the table's position in `tables`, the record key, occurrence, row hash and
 * whether it is removed. `accountId` is inlined (COPY takes no parameters), so it must be digits.
 */
export async function loadStoredIndexes(
  client: pg.ClientBase,
  tables: readonly string[],
  accountId: string,
): Promise<StoredIndex[]> {
  if (!/^\d+$/.test(accountId)) throw new Error(`not an account id: ${accountId}`);
  const indexes = tables.map(() => new StoredIndex());
  // The counts first (index-only scans), so each index is allocated once at its size.
  const { rows } = await client.query<{ i: number; n: string }>(
    tables
      .map((table, i) => `select ${i} as i, count(*) as n from ${table} where account_id = ${accountId}`)
      .join(' union all '),
  );
  if (rows.every((row) => row.n === '0')) {
    for (const index of indexes) index.seal();
    return indexes;
  }
  for (const row of rows) indexes[row.i]!.reserve(Number(row.n));
  const select = tables
    .map(
      (table, i) =>
        `select ${i}::int2, record_key, occurrence, row_hash, removed_at is not null from ${table} where account_id = ${accountId}`,
    )
    .join(' union all ');
  const stream = client.query(copyTo(`copy (${select}) to stdout (format binary)`));
  const reader = new BinaryTuples((tuple) => {
    indexes[tuple.readInt16BE(6)]!.add(
      keyWords(tuple, 12, keyScratch),
      tuple.readInt32BE(32),
      keyWords(tuple, 40, hashScratch),
      tuple[60] === 1,
    );
  });
  for await (const chunk of stream) reader.push(chunk as Buffer);
  reader.end();
  for (const index of indexes) index.seal();
  return indexes;
}

const keyScratch = new Uint32Array(4);
const hashScratch = new Uint32Array(4);
/** The 16 bytes of a uuid at `at`, as the little-endian words {@link word} reads from a digest. */
function keyWords(tuple: Buffer, at: number, into: Uint32Array): Uint32Array {
  for (let w = 0; w < 4; w++) into[w] = tuple.readUInt32LE(at + w * 4);
  return into;
}

/** The signature, flags and header extension length that open a binary COPY. */
const HEADER = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
/**
 * One tuple of the stored-row COPY: field count (2 bytes), then per field its length (4 bytes) and
 * bytes: int2 (2), uuid (16), int4 (4), uuid (16), bool (1). Every field is not null, so every
 * tuple has this length.
 */
const TUPLE_BYTES = 2 + 4 + 2 + 4 + 16 + 4 + 4 + 4 + 16 + 4 + 1;

/**
 * Splits a binary COPY stream of fixed-length tuples (see TUPLE_BYTES) into tuples. Written here
 * rather than taken from a package: the format is a fixed header and length-prefixed fields
 * (Postgres manual, COPY, "Binary Format"), and every tuple here has the same shape.
 */
class BinaryTuples {
  #pending: Buffer = Buffer.alloc(0);
  #header = false;
  #ended = false;
  readonly #onTuple: (tuple: Buffer) => void;

  constructor(onTuple: (tuple: Buffer) => void) {
    this.#onTuple = onTuple;
  }

  push(chunk: Buffer): void {
    let data = this.#pending.length > 0 ? Buffer.concat([this.#pending, chunk]) : chunk;
    if (!this.#header) {
      if (data.length < HEADER.length + 8) {
        this.#pending = data;
        return;
      }
      if (!data.subarray(0, HEADER.length).equals(HEADER)) throw new Error('not a binary COPY stream');
      data = data.subarray(HEADER.length + 8 + data.readUInt32BE(HEADER.length + 4));
      this.#header = true;
    }
    let at = 0;
    while (data.length - at >= 2) {
      const fields = data.readInt16BE(at);
      if (fields === -1) {
        this.#ended = true;
        at += 2;
        break;
      }
      if (data.length - at < TUPLE_BYTES) break;
      if (fields !== 5) throw new Error(`unexpected binary COPY tuple of ${fields} fields`);
      this.#onTuple(data.subarray(at, at + TUPLE_BYTES));
      at += TUPLE_BYTES;
    }
    this.#pending = Buffer.from(data.subarray(at));
  }

  end(): void {
    if (!this.#ended) throw new Error('the binary COPY stream ended before its trailer');
  }
}
