import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plusFromState } from 'pure-rand/generator/xoroshiro128plus';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';

/**
 * Finalizer of a 32-bit integer hash. It only derives generator states from (seed, stream, index); all
 * random draws come from pure-rand's xoroshiro128+.
 */
function mix32(x: number): number {
  let h = x | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h | 0;
}

/** Folds any safe integer (also above 2^32) into 32 bits. */
function fold(n: number): number {
  return mix32((n | 0) ^ mix32(Math.floor(n / 0x1_0000_0000) | 0));
}

/** A stable 32-bit number for a name, so streams are identified by readable labels. */
export function streamId(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return mix32(h);
}

/** Derives a 32-bit key from several parts (seed, stream, generation…). */
export function deriveKey(...parts: number[]): number {
  let h = 0x2545f491;
  for (const p of parts) h = mix32(h ^ fold(p));
  return h;
}

/**
 * The generator for item `index` of `stream` under `key`: a pure function of its arguments, so any
 * record of a section can be produced alone, in any order, without producing the others.
 */
export function rngFor(key: number, stream: number, index: number): RandomGenerator {
  const base = deriveKey(key, stream, index);
  return xoroshiro128plusFromState([
    mix32(base ^ 0x68e31da4),
    mix32(base ^ 0x1b56c4e9),
    mix32(base ^ 0x7f4a7c15),
    mix32(base ^ 0x3c6ef372) | 1,
  ]);
}

/** Convenience draws over a pure-rand generator. */
export class Rand {
  constructor(private readonly g: RandomGenerator) {}

  static of(key: number, stream: number, index: number): Rand {
    return new Rand(rngFor(key, stream, index));
  }

  /** Integer in [min, max], both included. */
  int(min: number, max: number): number {
    return uniformInt(this.g, min, max);
  }

  /** Float in [0, 1). */
  float(): number {
    return uniformFloat64(this.g);
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  u32(): number {
    return this.g.next() >>> 0;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)]!;
  }

  /** Picks with weights (need not sum to 1). */
  weighted<T>(items: readonly (readonly [T, number])[]): T {
    let total = 0;
    for (const [, w] of items) total += w;
    let x = this.float() * total;
    for (const [v, w] of items) {
      x -= w;
      if (x < 0) return v;
    }
    return items[items.length - 1]![0];
  }

  /** Lowercase hex string of `n` characters. */
  hex(n: number): string {
    let s = '';
    while (s.length < n) s += this.u32().toString(16).padStart(8, '0');
    return s.slice(0, n);
  }

  /** Decimal digit string of `n` characters (may start with 0). */
  digits(n: number): string {
    let s = '';
    while (s.length < n) s += this.int(0, 999_999_999).toString().padStart(9, '0');
    return s.slice(0, n);
  }
}
