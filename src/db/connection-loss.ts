/**
 * A lost database connection: the server stopped, crashed or restarted, the network dropped, or the
 * session was terminated. It is neither a bug nor the data's fault, so it is told apart from other
 * failures and said in one sentence (see src/ingest/runs.ts for an import's), never as a stack trace.
 */
import type pg from 'pg';

/**
 * SQLSTATEs of a session that ended or could not start: admin_shutdown (57P01, also
 * `pg_terminate_backend`), crash_shutdown (57P02), cannot_connect_now (57P03, a server starting up
 * or shutting down), and class 08, connection exceptions.
 */
const LOST_SQLSTATES = new Set(['57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006']);

/** Socket failures while connecting to the server or talking to it. */
const LOST_SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTCONN',
]);

/**
 * What node-postgres says, without a code, of a connection that ended under a query, or of a client
 * used after its connection ended (node_modules/pg/lib/client.js, node_modules/pg-pool/index.js).
 */
const LOST_MESSAGES = new Set([
  'Connection terminated unexpectedly',
  'Connection terminated',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
  'Connection terminated due to connection timeout',
  'timeout exceeded when trying to connect',
]);

/** True when `thrown`, or an error it was caused by, says that the database connection was lost. */
export function isConnectionLost(thrown: unknown): boolean {
  let error = thrown;
  for (let depth = 0; depth < 5 && error instanceof Error; depth++) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && (LOST_SQLSTATES.has(code) || LOST_SOCKET_CODES.has(code))) return true;
    if (LOST_MESSAGES.has(error.message)) return true;
    error = error.cause;
  }
  return false;
}

/**
 * Gives every connection of `pool` a listener for its `error` event. A connection that breaks while
 * it is checked out makes the query that uses it fail, which is where the loss is handled; but pg
 * also emits `error` on the client, and an `error` event nobody listens to ends the process with a
 * raw stack trace ("Emitted 'error' event on Client instance"). The pool's own `error` event (an
 * idle connection that broke) is handled the same way: the next query gets a fresh connection.
 */
export function tolerateLostConnections(pool: pg.Pool): pg.Pool {
  pool.on('error', () => {});
  pool.on('connect', (client) => {
    client.on('error', () => {});
  });
  return pool;
}
