import type pg from 'pg';

/** How often the cancel is sent again while the work goes on: an abort can fall between statements. */
const CANCEL_EVERY_MS = 250;

/**
 * Makes `signal` stop the statements that `client` runs, within a fraction of a second: once it
 * aborts, the statement running on the client's session is cancelled (`pg_cancel_backend`, sent on
 * another connection of `pool`), and again every {@link CANCEL_EVERY_MS} until the returned stop is
 * called, since a cancel that arrives between two statements does nothing. Inside a transaction one
 * cancelled statement is enough: the transaction is then aborted and every later statement fails at
 * once, so a long merge ends at its next statement instead of its last.
 *
 * The returned function stops the watch and waits for a cancel in flight; call it before the
 * rollback and the statements that must run (recording the outcome, releasing locks), and before a
 * commit, which must not be cancelled half-way.
 */
export async function cancelOnAbort(
  pool: pg.Pool,
  client: pg.ClientBase,
  signal: AbortSignal | undefined,
): Promise<() => Promise<void>> {
  if (signal === undefined) return async () => {};
  const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
  const pid = rows[0]!.pid;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<unknown> = Promise.resolve();
  const cancel = () => {
    if (stopped) return;
    inFlight = pool
      .query('select pg_cancel_backend($1)', [pid])
      .catch(() => {}) // the server is gone, or the pool closed: the work fails on its own
      .finally(() => {
        if (!stopped) timer = setTimeout(cancel, CANCEL_EVERY_MS);
      });
  };
  if (signal.aborted) cancel();
  else signal.addEventListener('abort', cancel, { once: true });
  return async () => {
    stopped = true;
    signal.removeEventListener('abort', cancel);
    clearTimeout(timer);
    await inFlight;
  };
}
