import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { characterLength, digestHex, RowHasher } from '../../src/ingest/record-hash.js';
import {
  recordKeyExpression,
  rowHashExpression,
  TABLE_SPECS,
  type TableSpec,
} from '../../src/ingest/tables.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

/**
 * The record keys and row hashes computed in Node are the ones Postgres computes from the same text
 * (tables.ts, recordKeyExpression and rowHashExpression): the keys stored before stay the keys of the same records.
 */

const AWKWARD = [
  null,
  '',
  'plain',
  'tab\there, newline\nthere, backslash \\ and comma, colon: 1:2',
  'emoji 😀 and family 👨‍👩‍👧',
  'lone \uD83D surrogate',
  'lone low \uDE00 one',
  'ümlaut ✓ 中文',
  '-',
  '5:hello,',
  '2024-05-01T12:00:00Z',
  '{"a": [1, 2, {"b": null}]}',
  '7000000000000000001',
];

/** Rows for a spec: each column gets values from AWKWARD, shifted per row so every column sees each. */
function rowsOf(spec: TableSpec): { part: string; row: Record<string, string | null> }[] {
  return AWKWARD.map((_, r) => {
    const row: Record<string, string | null> = {};
    spec.columns.forEach((c, i) => {
      row[c.field] = AWKWARD[(r + i) % AWKWARD.length]!;
    });
    return { part: spec.partColumn ? (AWKWARD[(r + 3) % AWKWARD.length] ?? 'p') : '', row };
  });
}

describe('record keys and row hashes', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('counts characters as Postgres does', () => {
    expect(characterLength('abc')).toBe(3);
    expect(characterLength('😀')).toBe(1);
    expect(characterLength('a\uD83Db')).toBe(3);
    expect(characterLength('\uDE00\uD83D')).toBe(2);
  });

  it.each(Object.values(TABLE_SPECS).map((spec) => [spec.table, spec] as const))(
    '%s: equal to the SQL hashes of the same text',
    async (_table, spec) => {
      const hasher = new RowHasher(spec);
      const own = [...(spec.partColumn ? ['part'] : []), ...spec.columns.map((c) => c.name)];
      const keyExpression = recordKeyExpression(spec);
      const rowExpression = rowHashExpression(spec);
      for (const { part, row } of rowsOf(spec)) {
        const values = [...(spec.partColumn ? [part] : []), ...spec.columns.map((c) => row[c.field] ?? null)];
        const { rows } = await database.pool.query<{ key: string; hash: string }>(
          `select replace((${keyExpression})::text, '-', '') as key, replace((${rowExpression})::text, '-', '') as hash
           from (select ${own.map((c, i) => `$${i + 1}::text as ${c}`).join(', ')}) s`,
          values.map((v) => (v === null ? null : Buffer.from(v, 'utf8').toString('utf8'))),
        );
        expect(digestHex(hasher.key(part, row)), `key of ${JSON.stringify(row)}`).toBe(rows[0]!.key);
        expect(digestHex(hasher.row(row)), `hash of ${JSON.stringify(row)}`).toBe(rows[0]!.hash);
      }
    },
  );
});
