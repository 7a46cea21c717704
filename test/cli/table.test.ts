import { describe, expect, it } from 'vitest';
import { formatTable } from '../../src/table.js';

describe('formatTable', () => {
  it('aligns text left and numbers right, headers with their column', () => {
    const table = formatTable(
      ['account', 'records', 'state', 'bytes'],
      [
        ['ana', 12, 'active', '1,024'],
        ['bartholomew', 3456, 'never', ''],
      ],
    );
    expect(table.split('\n')).toEqual([
      'account      records  state   bytes',
      '-----------  -------  ------  -----',
      'ana               12  active  1,024',
      'bartholomew     3456  never',
    ]);
  });
});
