import { randomBytes } from 'node:crypto';
import net from 'node:net';
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

  it('says in one sentence that the connection was lost, rather than that a migration failed', async () => {
    // A server that went away: nothing listens on the port any more.
    const port = await new Promise<number>((resolve) => {
      const listener = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = listener.address() as net.AddressInfo;
        listener.close(() => resolve(port));
      });
    });
    const gone = connectTo(`postgres://postgres@127.0.0.1:${port}/${name}`);
    try {
      const error = await migrateToLatest(gone.db).catch((thrown: unknown) => thrown);
      expect(error).toMatchObject({ code: 'database_connection_lost' });
      expect((error as Error).message).toMatch(
        /^The database connection was lost while the schema was brought up to date \(.*ECONNREFUSED.*\); the migrations applied stay applied: run the command again\.$/,
      );
    } finally {
      await gone.close();
    }
  });
});
