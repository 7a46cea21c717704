/**
 * The record keys an export has shown so far that were not stored before, to number repeats of a key
 * (its occurrences) without holding the keys: a Bloom filter over the keys' MD5 digests, which are
 * uniform, so their own bits serve as the filter's hash functions. "Not seen" is certain: the record
 * is the key's first in this export. "Maybe seen" is left to the merge, which counts in Postgres;
 * a first record is sent that way by mistake about 9 times in 10,000 at a million new keys, 17 at
 * eight million (the filters add up), and costs only that.
 *
 * It grows by adding filters twice the size of the last as each fills (a scalable Bloom filter), so
 * its size follows the export: 5.4 MB for a million new keys, 33 MB for eight million. Written here rather than taken from a
 * package: the keys are hashes already, and what is left is setting and testing bits.
 */
import { digestWord } from './record-hash.js';

export class KeyFilter {
  readonly #filters: Filter[] = [];

  /** Adds a key; returns whether it may have been added before. */
  add(digest: string): boolean {
    const h1 = digestWord(digest, 4);
    const h2 = digestWord(digest, 8) | 1;
    let maybe = false;
    for (const filter of this.#filters) {
      if (filter.has(h1, h2)) {
        maybe = true;
        break;
      }
    }
    let last = this.#filters.at(-1);
    if (!last || last.count >= last.capacity) {
      last = new Filter(last ? last.size * 2 : INITIAL_BITS);
      this.#filters.push(last);
    }
    last.add(h1, h2);
    return maybe;
  }
}

/** Hash functions per key, and bits per key at capacity: one full filter answers "maybe" wrongly 3 times in 10,000. */
const PROBES = 6;
const BITS_PER_KEY = 20;
const INITIAL_BITS = 1 << 20;

class Filter {
  readonly bits: Uint32Array;
  readonly size: number;
  readonly capacity: number;
  readonly #mask: number;
  count = 0;

  constructor(size: number) {
    this.bits = new Uint32Array(size / 32);
    this.size = size;
    this.capacity = Math.floor(size / BITS_PER_KEY);
    this.#mask = size - 1;
  }

  has(h1: number, h2: number): boolean {
    for (let i = 0; i < PROBES; i++) {
      const bit = (h1 + Math.imul(i, h2)) & this.#mask;
      if ((this.bits[bit >>> 5]! & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }

  add(h1: number, h2: number): void {
    for (let i = 0; i < PROBES; i++) {
      const bit = (h1 + Math.imul(i, h2)) & this.#mask;
      this.bits[bit >>> 5]! |= 1 << (bit & 31);
    }
    this.count++;
  }
}
