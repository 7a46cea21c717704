import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Config } from '../config.js';
import { TerminalError, TransientError } from '../errors.js';
import type { Logger } from '../logger.js';
import { tolerateLostConnections } from './connection-loss.js';
import { startEmbeddedPostgres } from './embedded.js';
import type { Database } from './schema.js';

export const EMBEDDED_DATABASE = 'tiktok';

/** An open database: the pool for COPY and raw SQL, kysely on top of it for typed queries. */
export interface DatabaseHandle {
  readonly pool: pg.Pool;
  readonly db: Kysely<Database>;
  /** A connection string for psql or a BI tool (includes the embedded server's generated password). */
  readonly connectionString: string;
  /** Where the embedded server keeps its data, when one is used. */
  readonly embeddedDataDir: string | undefined;
  close(): Promise<void>;
}

/**
 * The one database resolver for the CLI and the tests: `DATABASE_URL` (or the libpq `PG*` variables)
 * when set, otherwise the embedded Postgres under `<dataDir>/postgres`.
 */
export async function openDatabase(config: Config, logger: Logger): Promise<DatabaseHandle> {
  if (config.database.kind === 'external') {
    const pool = createPool(config.database.connectionString);
    await checkReachable(pool, config.database.source);
    return handle(
      pool,
      config.database.connectionString ?? `(libpq settings: ${config.database.source})`,
      undefined,
      async () => {},
    );
  }

  const server = await startEmbeddedPostgres(config.dataDir, config.database.port, logger);
  try {
    await ensureDatabase(server.port, server.password);
  } catch (error) {
    await server.stop();
    throw error;
  }
  const connectionString = `postgres://${server.user}:${encodeURIComponent(server.password)}@127.0.0.1:${server.port}/${EMBEDDED_DATABASE}`;
  const pool = createPool(connectionString);
  return handle(pool, connectionString, server.dataDir, () => server.stop());
}

export function createPool(connectionString: string | undefined, applicationName = 'tiktok-sync'): pg.Pool {
  // A connection lost (server restart) fails the query using it, and never crashes the process.
  return tolerateLostConnections(
    new pg.Pool({
      connectionString,
      max: 4,
      application_name: applicationName,
      // A server that does not answer must not hold a command (or the record of its failure) forever.
      connectionTimeoutMillis: 10_000,
    }),
  );
}

/** A handle on a server that something else manages (tests, tools). */
export function connectTo(connectionString: string, applicationName?: string): DatabaseHandle {
  return handle(createPool(connectionString, applicationName), connectionString, undefined, async () => {});
}

function handle(
  pool: pg.Pool,
  connectionString: string,
  embeddedDataDir: string | undefined,
  stopServer: () => Promise<void>,
): DatabaseHandle {
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  let closed = false;
  return {
    pool,
    db,
    connectionString,
    embeddedDataDir,
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
      await stopServer();
    },
  };
}

async function checkReachable(pool: pg.Pool, source: string): Promise<void> {
  try {
    const client = await pool.connect();
    client.release();
  } catch (error) {
    await pool.end().catch(() => {});
    const code = (error as { code?: string }).code;
    const message = `Cannot connect to the Postgres named by ${source} (${(error as Error).message}); ${connectAdvice(code, pool)}`;
    if (code === 'ECONNREFUSED' || code === 'ETIMEDOUT' || code === '57P03') {
      throw new TransientError('database_unreachable', message, { cause: error });
    }
    throw new TerminalError('database_unreachable', message, { cause: error });
  }
}

/** What to do about a failed connection, by its cause (SQLSTATE or socket error). */
function connectAdvice(code: string | undefined, pool: pg.Pool): string {
  const { database, user } = connectionTarget(pool);
  switch (code) {
    case '3D000':
      return `the server runs but has no database \`${database ?? '(default)'}\`: create it (\`createdb ${database ?? '<name>'}\`, or \`create database ${database ?? '<name>'};\` in psql), or name an existing one.`;
    case '28P01':
    case '28000':
      return `the server refused the user \`${user ?? '(default)'}\` or its password: check them, or the server's pg_hba.conf.`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'its host name does not resolve: check the host in the connection string.';
    default:
      return 'check that the server runs and the settings are right, or unset them to use the embedded Postgres.';
  }
}

/** The database and user a pool connects as, as far as its options say. */
function connectionTarget(pool: pg.Pool): { database?: string | undefined; user?: string | undefined } {
  const options = pool.options as { connectionString?: string; database?: string; user?: string };
  if (options.connectionString) {
    try {
      const url = new URL(options.connectionString);
      return {
        database: decodeURIComponent(url.pathname.slice(1)) || undefined,
        user: decodeURIComponent(url.username) || undefined,
      };
    } catch {
      // A key=value connection string: not worth parsing for a hint.
    }
  }
  return { database: options.database, user: options.user };
}

async function ensureDatabase(port: number, password: string): Promise<void> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres' });
  client.on('error', () => {}); // a lost connection fails the query below instead
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [EMBEDDED_DATABASE]);
    if (found.rowCount === 0) {
      await client.query(`create database ${EMBEDDED_DATABASE}`).catch((error: { code?: string }) => {
        if (error.code !== '42P04') throw error; // created concurrently by another process
      });
    }
  } finally {
    await client.end();
  }
}

/** The same server and credentials, another database. */
export function databaseUrlFor(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** The connection string with its password hidden, for logs and summaries that may be shared. */
export function redactConnectionString(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return connectionString.replace(/:[^:@/]*@/, ':***@');
  }
}
