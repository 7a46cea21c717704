import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Config } from '../config.js';
import type { DatabaseHandle } from '../db/connect.js';
import { tolerateLostConnections } from '../db/connection-loss.js';
import type { Database } from '../db/schema.js';

/**
 * A pool sized for the daemon on the database `base` points at: each account being imported holds a
 * connection for its transaction, and claims, heartbeats and webhooks need their own. Closing it
 * leaves `base` (and an embedded server behind it) running.
 */
export function daemonDatabase(base: DatabaseHandle, config: Config, size: number): DatabaseHandle {
  // With only libpq variables set, node-postgres reads them itself (no connection string).
  const connectionString =
    config.database.kind === 'external' ? config.database.connectionString : base.connectionString;
  // A connection lost (server restart) fails the query using it, and never crashes the daemon.
  const pool = tolerateLostConnections(
    new pg.Pool({
      connectionString,
      max: size,
      application_name: 'tiktok-sync-daemon',
      // A server that does not answer must not stall claims, heartbeats or /healthz forever.
      connectionTimeoutMillis: 10_000,
    }),
  );
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  let closed = false;
  return {
    pool,
    db,
    connectionString: base.connectionString,
    embeddedDataDir: base.embeddedDataDir,
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
}
