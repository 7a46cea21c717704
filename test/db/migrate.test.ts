import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectTo, databaseUrlFor } from '../../src/db/connect.js';
import { migrateToLatest } from '../../src/db/migrate.js';

describe('migrateToLatest', () => {
  const name = `tiktok_sync_migrate_${randomBytes(4).toString('hex')}`;
  const admin = () => new pg.Client({ connectionString: inject('adminUrl') });

  beforeAll(async () => {
    const client = admin();
    await client.connect();
    await client.query(`create database ${name}`);
    await client.end();
  });
  afterAll(async () => {
    const client = admin();
    await client.connect();
    await client.query(`drop database if exists ${name} with (force)`);
    await client.end();
  });

  it('applies each migration once when several processes start at the same time', async () => {
    const url = databaseUrlFor(inject('adminUrl'), name);
    const handles = [connectTo(url), connectTo(url), connectTo(url)];
    try {
      const outcomes = await Promise.all(handles.map((h) => migrateToLatest(h.db)));
      const applied = outcomes.flatMap((o) => o.applied).sort();
      const names = [...new Set(applied)];
      expect(applied).toEqual(names); // no migration applied twice
      expect(names[0]).toBe('0001_accounts_archives_runs');
      expect(new Set(outcomes.map((o) => o.latest)).size).toBe(1);
      const again = await migrateToLatest(handles[0]!.db);
      expect(again.applied).toEqual([]);
    } finally {
      await Promise.all(handles.map((h) => h.close()));
    }
  });
});
