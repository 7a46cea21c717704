/**
 * A sync in a process of its own, for the crash trials: the parent kills it with SIGKILL and runs it
 * again. It goes through the real command line (`tiktok-sync import` / `sync --once`), configured by
 * the environment (DATABASE_URL, TIKTOK_*).
 *
 *   node --import tsx test/reliability/crash-child.ts import <account> <zip>...
 *   node --import tsx test/reliability/crash-child.ts sync <account>
 *
 * stdout gets `ready`, then `start <i>` and `done <i>` around each archive (ms since ready appended).
 *
 * Kill points that timing cannot reach are reached from inside, when CRASH_AT asks for one (the
 * process kills itself with SIGKILL, exactly as the parent would):
 * - `copy:<n>`: while the n-th COPY into a staging table is streaming;
 * - `merge:<n>`: while the n-th merge statement runs;
 * - `after-commit:<n>`: right after the n-th archive transaction committed, before the run record is
 *   updated.
 * CRASH_DELAY_MS (default 0) waits that long after the point before dying.
 */
import pg from 'pg';
import { main } from '../../src/cli.js';
import { COPY_STATEMENT, MERGE_STATEMENT } from './support/statements.js';

const [mode, account, ...zips] = process.argv.slice(2);
const started = performance.now();
const say = (line: string) => process.stdout.write(`${line} ${Math.round(performance.now() - started)}\n`);
const quiet = { out: () => {}, err: (line = '') => process.stderr.write(`${line}\n`), interactive: false };

installCrashHook(process.env.CRASH_AT, Number(process.env.CRASH_DELAY_MS ?? 0));

say('ready');
let code = 0;
if (mode === 'import') {
  for (let i = 0; i < zips.length && code === 0; i++) {
    say(`start ${i}`);
    code = await main(['node', 'tiktok-sync', 'import', zips[i]!, '--account', account!], quiet);
    if (code === 0) say(`done ${i}`);
  }
} else if (mode === 'sync') {
  say('start 0');
  code = await main(['node', 'tiktok-sync', 'sync', '--account', account!, '--once'], quiet);
  if (code === 0) say('done 0');
} else {
  process.stderr.write(`unknown mode ${mode}\n`);
  code = 2;
}
process.exit(code);

function installCrashHook(at: string | undefined, delayMs: number): void {
  if (!at) return;
  const [point, nth] = at.split(':');
  const target = Number(nth ?? 1);
  let seen = 0;
  const die = () => {
    const kill = () => process.kill(process.pid, 'SIGKILL');
    if (delayMs > 0) setTimeout(kill, delayMs);
    else kill();
  };
  const matches: Record<string, (text: string) => boolean> = {
    copy: (text) => COPY_STATEMENT.test(text),
    merge: (text) => MERGE_STATEMENT.test(text),
    // The archive's transaction, not the migrator's: it is the one that takes the account lock.
    'after-commit': (text) => {
      if (text.startsWith('select pg_advisory_xact_lock')) importing = true;
      else if (text === 'commit' && importing) {
        importing = false;
        return true;
      }
      return false;
    },
  };
  let importing = false;
  const test = matches[point!];
  if (!test) throw new Error(`unknown CRASH_AT ${at}`);
  const client = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const query = client.query;
  client.query = function (this: unknown, ...args: unknown[]) {
    const config = args[0] as string | { text?: string } | undefined;
    const text = typeof config === 'string' ? config : (config?.text ?? '');
    const result = query.apply(this, args);
    if (test(text) && ++seen === target) {
      if (point === 'after-commit') void (result as Promise<unknown>).then(die, () => {});
      else die();
    }
    return result;
  };
}
