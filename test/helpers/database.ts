import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { connectTo, type DatabaseHandle, databaseUrlFor } from '../../src/db/connect.js';

export interface TestDatabase extends DatabaseHandle {
  readonly name: string;
  readonly url: string;
  /** Closes the pool and drops the database, unless `keep` (to inspect a failure). */
  drop(options?: { keep?: boolean }): Promise<void>;
}

/** A fresh, migrated database cloned from the suite's template. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = inject('adminUrl');
  const template = inject('templateDatabase');
  const name = `tiktok_sync_test_${randomBytes(5).toString('hex')}`;
  await withAdmin(adminUrl, (admin) => admin.query(`create database ${name} template ${template}`));
  const url = databaseUrlFor(adminUrl, name);
  // Named apart from the application's own connections, which tests wait for (see stats.ts).
  const handle = connectTo(url, 'tiktok-sync-test');
  return {
    ...handle,
    name,
    url,
    async drop({ keep = false } = {}) {
      await handle.close();
      if (!keep)
        await withAdmin(adminUrl, (admin) => admin.query(`drop database if exists ${name} with (force)`));
    },
  };
}

/** Runs `work` on a short-lived superuser connection. */
export async function withAdmin<T>(adminUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.end();
  }
}
