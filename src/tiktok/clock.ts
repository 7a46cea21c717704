/**
 * Time as the TikTok modules see it. Everything that waits or compares times (polling backoff, token
 * expiry, webhook timestamp tolerance, the sandbox's request states) goes through a {@link Clock}, so
 * tests and the sandbox run on simulated time and never wait for real.
 *
 * Network timeouts are not on this clock: they measure real sockets and use `AbortSignal.timeout`.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Resolves after `ms` milliseconds of this clock's time; rejects with the signal's reason on abort. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep(ms, signal) {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      const timer = setTimeout(
        () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        Math.max(0, ms),
      );
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  },
};

interface Timer {
  at: number;
  seq: number;
  resolve(): void;
}

/**
 * A clock that only moves when told to. Sleepers wake in deadline order as time is advanced; between
 * two wake-ups the event loop runs, so a woken task can schedule its next sleep before time moves on.
 */
export class SimulatedClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: Timer[] = [];

  constructor(startMs: number = Date.UTC(2025, 10, 24, 16, 0, 0)) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  /** Number of sleepers waiting for time to move. */
  get pendingTimers(): number {
    return this.#timers.length;
  }

  /** Deadline of the earliest sleeper, if any. */
  get nextDeadline(): number | undefined {
    return this.#timers[0]?.at;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const timer: Timer = {
        at: this.#now + Math.max(0, ms),
        seq: this.#seq++,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.#timers = this.#timers.filter((t) => t !== timer);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#timers.push(timer);
      this.#timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
    });
  }

  /** Moves time forward by `ms`, waking every sleeper whose deadline passes, in order. */
  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.#now + ms);
  }

  async advanceTo(targetMs: number): Promise<void> {
    for (;;) {
      const next = this.#timers[0];
      if (!next || next.at > targetMs) break;
      this.#timers.shift();
      this.#now = Math.max(this.#now, next.at);
      next.resolve();
      await settle();
    }
    this.#now = Math.max(this.#now, targetMs);
    await settle();
  }

  /**
   * Runs simulated time until `promise` settles: lets real I/O (loopback HTTP) finish, then jumps to the
   * next sleeper's deadline, and again. Gives up after `maxMs` of simulated time.
   */
  async run<T>(promise: Promise<T>, { maxMs = 30 * 24 * 3600_000, quietMs = 15 } = {}): Promise<T> {
    let settled = false;
    const watched = promise.finally(() => {
      settled = true;
    });
    watched.catch(() => {});
    const limit = this.#now + maxMs;
    while (!settled) {
      await realDelay(quietMs);
      if (settled) break;
      const next = this.nextDeadline;
      if (next === undefined) continue;
      if (next > limit)
        throw new Error(`Simulated time passed ${maxMs} ms without the awaited work finishing.`);
      await this.advanceTo(next);
    }
    return watched;
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

function realDelay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
