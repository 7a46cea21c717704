import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KeyFilter } from '../../src/ingest/key-filter.js';
import { isEarlier } from '../../src/ingest/stage.js';
import { StoredIndex } from '../../src/ingest/stored-index.js';

/** A digest as the first pass holds it: 16 bytes as latin1 characters. */
const digest = () => randomBytes(16).toString('latin1');

const words = (d: string) => {
  const b = Buffer.from(d, 'latin1');
  return [0, 4, 8, 12].map((at) => b.readUInt32LE(at));
};

describe('the first pass of an import', () => {
  it('orders export times as Postgres orders the timestamps', () => {
    expect(isEarlier('2024-05-01T12:00:00Z', '2024-05-01T12:00:01Z')).toBe(true);
    expect(isEarlier('2024-05-01T12:00:01Z', '2024-05-01T12:00:00Z')).toBe(false);
    expect(isEarlier('2024-05-01T12:00:00Z', '2024-05-01T12:00:00.5Z')).toBe(true);
    expect(isEarlier('2024-05-01T12:00:00.25Z', '2024-05-01T12:00:00.5Z')).toBe(true);
    expect(isEarlier('2024-05-01T12:00:00.5Z', '2024-05-01T12:00:00Z')).toBe(false);
    expect(isEarlier('2023-12-31T23:59:59Z', '2024-01-01T00:00:00Z')).toBe(true);
    expect(isEarlier('2024-05-01T12:00:00Z', '2024-05-01T12:00:00Z')).toBe(false);
  });

  it('never takes a repeated key for a first one, and rarely the reverse', () => {
    const filter = new KeyFilter();
    const keys = Array.from({ length: 200_000 }, digest);
    let maybe = 0;
    for (const key of keys) if (filter.add(key)) maybe += 1;
    // Random keys are all new: a "maybe" is a false positive, sent to the merge to be counted.
    expect(maybe / keys.length).toBeLessThan(0.005);
    for (const key of keys.slice(0, 10_000)) expect(filter.add(key)).toBe(true);
  });

  it('finds stored records by key and occurrence, and lists the current ones not seen', () => {
    const index = new StoredIndex();
    const stored = Array.from({ length: 5_000 }, () => ({ key: digest(), hash: digest() }));
    const repeated = stored[0]!;
    for (const [i, { key, hash }] of stored.entries()) index.add(words(key), 1, words(hash), i % 10 === 9);
    index.add(words(repeated.key), 2, words(repeated.hash), false);
    index.seal();

    const first = index.find(repeated.key, 1);
    const second = index.find(repeated.key, 2);
    expect(first).toBeGreaterThanOrEqual(0);
    expect(second).toBeGreaterThanOrEqual(0);
    expect(second).not.toBe(first);
    expect(index.find(repeated.key, 3)).toBe(-1);
    expect(index.find(digest(), 1)).toBe(-1);
    expect(index.sameHash(first, repeated.hash)).toBe(true);
    expect(index.sameHash(first, digest())).toBe(false);
    expect(index.removed(index.find(stored[9]!.key, 1))).toBe(true);

    // The first half seen: the unseen are the other half's current records.
    for (const { key } of stored.slice(0, 2_500)) index.markSeen(index.find(key, 1));
    const unseen: string[] = [];
    index.forEachUnseen((key, occurrence) => unseen.push(`${key}/${occurrence}`));
    const expected = stored.filter((_, i) => i >= 2_500 && i % 10 !== 9).map(({ key }) => `${key}/1`);
    expected.push(`${repeated.key}/2`);
    expect(unseen.sort()).toEqual(expected.sort());
  });
});
