import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { databaseUrlFor, openDatabase } from '../../src/db/connect.js';
import { silentLogger } from '../../src/logger.js';

const base = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

describe('openDatabase', () => {
  it('says how to create a database that the server does not have', async () => {
    const url = databaseUrlFor(base, 'tiktok_sync_no_such_database');
    const config = loadConfig({ env: { DATABASE_URL: url }, cwd: '/' });
    await expect(openDatabase(config, silentLogger())).rejects.toThrow(
      /has no database `tiktok_sync_no_such_database`: create it \(`createdb tiktok_sync_no_such_database`/,
    );
  });
});
