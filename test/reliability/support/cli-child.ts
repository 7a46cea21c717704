/**
 * `tiktok-sync import` in a process of its own (the crash child, test/reliability/crash-child.ts),
 * for the tests that stop it from outside (a signal, the database going away) and read what it says
 * as a user would: its exit code and its standard error, with the default log level.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import pg from 'pg';
import { TABLE_SPECS, targetTable } from '../../../src/ingest/tables.js';
import { childCommand, ROOT } from './crash-trials.js';

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Lines on standard error, without the progress lines (`<name>: 40% of 1,234 bytes read`). */
  errors: string[];
  /** Standard error as it was written. */
  stderr: string;
  /** When it exited (performance.now()). */
  endedAt: number;
}

export interface CliChild {
  readonly process: ChildProcess;
  readonly exited: Promise<ChildExit>;
}

const PROGRESS = /: \d+% of [\d,]+ bytes read$/;

/** Starts `tiktok-sync import <input> --account <account>` against `databaseUrl`; killed after `timeoutMs`. */
export function startImport(
  input: string,
  account: string,
  env: { DATABASE_URL: string; TIKTOK_SYNC_DATA_DIR: string },
  timeoutMs = 60_000,
): CliChild {
  const inherited = { ...process.env };
  delete inherited.LOG_LEVEL; // what a user sees: errors only
  const child = spawn(process.execPath, [...childCommand(), 'import', account, input], {
    cwd: ROOT,
    env: { ...inherited, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const timeout = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const exited = new Promise<ChildExit>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timeout);
      const errors = stderr.split('\n').filter((line) => line !== '' && !PROGRESS.test(line));
      resolve({ code, signal, errors, stderr, endedAt: performance.now() });
    });
  });
  return { process: child, exited };
}

/** The newest run, as the database has it now; undefined when the server cannot be reached. */
export async function newestRun(
  url: string,
): Promise<
  | { run_id: string; status: string; stage: string; error_code: string | null; error_message: string | null }
  | undefined
> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  try {
    await client.connect();
    const { rows } = await client.query(
      'select run_id, status, stage, error_code, error_message from tiktok_sync.sync_runs order by run_id desc limit 1',
    );
    return rows[0];
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => {});
  }
}

/** Resolves once the newest run is `running` at `stage`; rejects when the child ends first. */
export async function untilRunAt(url: string, stage: string, child: CliChild): Promise<string> {
  let ended = false;
  void child.exited.then(() => {
    ended = true;
  });
  for (;;) {
    const run = await newestRun(url);
    if (run?.status === 'running' && run.stage === stage) return run.run_id;
    if (ended) throw new Error(`The import ended before it reached stage ${stage}: ${JSON.stringify(run)}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * Imports `zip` into `account`, then changes the row hash of every stored record (and the archive's
 * recorded SHA-256, so it is not skipped as already imported), so that importing the same export
 * again updates them all: a merge stage with a lot of work, to interrupt. (Records new to an account
 * go to their tables while the archive is read; the merge has work only when stored records change.)
 */
export async function importWithStaleHashes(
  url: string,
  zip: string,
  account: string,
  env: { DATABASE_URL: string; TIKTOK_SYNC_DATA_DIR: string },
): Promise<void> {
  const exit = await startImport(zip, account, env).exited;
  if (exit.code !== 0) throw new Error(`the first import of ${account} failed: ${exit.errors.join(' | ')}`);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(
      `update tiktok_sync.archives set sha256 = sha256 || '\\x00'::bytea
       where account_id = (select account_id from tiktok.accounts where name = $1)`,
      [account],
    );
    for (const spec of Object.values(TABLE_SPECS)) {
      await client.query(
        `update ${targetTable(spec)} set row_hash = md5(random()::text)::uuid
         where account_id = (select account_id from tiktok.accounts where name = $1)`,
        [account],
      );
    }
  } finally {
    await client.end();
  }
}
