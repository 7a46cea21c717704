import { setTimeout as realDelay } from 'node:timers/promises';
import type { Kysely } from 'kysely';
import { coerceError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { Clock } from '../tiktok/clock.js';
import type { AccountWork } from './account-work.js';
import {
  type Claim,
  claimDue,
  dropClaims,
  extendLease,
  type Release,
  reconcileSchedule,
  releaseClaim,
} from './claims.js';
import type { SchedulerDatabase } from './db-types.js';
import type { SyncInterval } from './interval.js';

export interface SchedulerOptions {
  db: Kysely<SchedulerDatabase>;
  work: AccountWork;
  clock: Clock;
  logger: Logger;
  /** This daemon's name in leases; unique per process. */
  owner: string;
  /** Accounts worked on at once. */
  concurrency: number;
  leaseMs: number;
  /** Default a third of the lease. */
  heartbeatMs?: number;
  /** Spread of the first due time of newly connected accounts. */
  jitterMs: number;
  /** Names of the accounts the config pauses. */
  paused: readonly string[];
  /** The interval each account syncs on (a change moves its planned next sync). */
  intervalOf?: (accountName: string) => SyncInterval;
  random?: () => number;
  metrics?: Metrics | undefined;
  /** Extra work at the end of each tick (e.g. the archive retention sweep); its failures are logged. */
  afterTick?: () => Promise<void>;
}

export interface StopOptions {
  /** Time given to the current stages to finish before they are abandoned. */
  graceMs: number;
  /** Bound on the whole stop; claims still running after it are dropped anyway. */
  timeoutMs: number;
}

class LeaseLostError extends Error {
  override name = 'LeaseLostError';
}

class ShutdownError extends Error {
  override name = 'ShutdownError';
}

interface Worker {
  claim: Claim;
  controller: AbortController;
  done: Promise<void>;
}

/**
 * Claims due accounts from Postgres and works on up to `concurrency` of them at once, each under a
 * lease that a heartbeat extends. The database decides who runs what: any number of schedulers (in
 * one process or on many machines) share the accounts, and an account whose daemon died is taken
 * over once its lease expires.
 *
 * Nothing here keeps time by itself: {@link tick} is called by node-cron in the daemon and by tests
 * directly, and every due or lease decision uses the injected clock and the database.
 */
export class Scheduler {
  readonly owner: string;
  readonly #options: SchedulerOptions;
  readonly #log: Logger;
  readonly #workers = new Map<string, Worker>();
  readonly #shutdown = new AbortController();
  #filling: Promise<void> | undefined;
  #fillAgain = false;
  #stopping = false;
  #dead = false;
  #lastTickAt: number | undefined;
  #lastTickOk = true;

  constructor(options: SchedulerOptions) {
    this.#options = options;
    this.owner = options.owner;
    this.#log = options.logger.child({ owner: options.owner });
  }

  /** Accounts being worked on now. */
  get active(): number {
    return this.#workers.size;
  }

  get stopping(): boolean {
    return this.#stopping;
  }

  /** When the last tick ran (clock time) and whether it went through. */
  get lastTick(): { at: number | undefined; ok: boolean } {
    return { at: this.#lastTickAt, ok: this.#lastTickOk };
  }

  /**
   * One wake-up: brings the schedule in line with the connected accounts and the config, then claims
   * due accounts up to the free capacity. Returns once the claims are made (the work goes on). Never
   * rejects: a bad tick is logged and counted, and the next one tries again.
   */
  async tick(): Promise<void> {
    if (this.#stopping) return;
    const { clock, metrics } = this.#options;
    this.#lastTickAt = clock.now();
    try {
      await reconcileSchedule(this.#options.db, {
        now: clock.now(),
        jitterMs: this.#options.jitterMs,
        paused: this.#options.paused,
        ...(this.#options.intervalOf ? { intervalOf: this.#options.intervalOf } : {}),
        ...(this.#options.random ? { random: this.#options.random } : {}),
      });
      await this.fill();
      this.#lastTickOk = true;
      metrics?.ticks.inc({ outcome: 'ok' });
    } catch (error) {
      this.#lastTickOk = false;
      metrics?.ticks.inc({ outcome: 'failed' });
      this.#log.error({ err: coerceError(error) }, 'scheduler tick failed; the next tick tries again');
    }
    if (this.#options.afterTick) {
      await this.#options.afterTick().catch((error) => {
        this.#log.warn({ err: coerceError(error) }, 'after-tick work failed');
      });
    }
  }

  /** Claims due accounts while there is capacity. Concurrent calls share one pass. */
  fill(): Promise<void> {
    if (this.#filling) {
      this.#fillAgain = true;
      return this.#filling;
    }
    this.#filling = (async () => {
      do {
        this.#fillAgain = false;
        await this.#claimOnce();
      } while (this.#fillAgain && !this.#stopping);
    })().finally(() => {
      this.#filling = undefined;
    });
    return this.#filling;
  }

  /** Resolves when no claim is being made and no account is being worked on. */
  async idle(): Promise<void> {
    for (;;) {
      if (this.#filling) {
        await this.#filling.catch(() => {});
        continue;
      }
      if (this.#workers.size > 0) {
        await Promise.allSettled([...this.#workers.values()].map((worker) => worker.done));
        continue;
      }
      return;
    }
  }

  /**
   * Stops claiming, gives the current stages `graceMs` to finish, then abandons them (their signal is
   * aborted: a download stops, an import rolls back) and releases every claim still held. Returns
   * within about `timeoutMs`.
   */
  async stop(options: StopOptions): Promise<{ abandoned: number; dropped: number }> {
    this.#stopping = true;
    const started = Date.now();
    const running = () => [...this.#workers.values()];
    if (running().length > 0) {
      this.#log.info(
        { active: running().length, graceMs: options.graceMs },
        'stopping: letting current work finish',
      );
      await settleWithin(
        running().map((worker) => worker.done),
        options.graceMs,
      );
    }
    const abandoned = running().length;
    if (abandoned > 0) {
      this.#log.warn(
        { active: abandoned },
        'stopping: abandoning the current stage of the remaining accounts',
      );
      this.#shutdown.abort(new ShutdownError('The daemon is shutting down.'));
      await settleWithin(
        running().map((worker) => worker.done),
        Math.max(0, options.timeoutMs - (Date.now() - started) - 1000),
      );
    }
    await this.#filling?.catch(() => {});
    let dropped = 0;
    const stuck = running().map((worker) => worker.claim);
    if (stuck.length > 0) {
      // Work that did not end in time: let the accounts go so another daemon can take them now.
      this.#dead = true;
      dropped = await dropClaims(this.#options.db, stuck, {
        owner: this.owner,
        now: this.#options.clock.now(),
      }).catch((error) => {
        this.#log.error(
          { err: coerceError(error) },
          'could not release claims; they expire with their lease',
        );
        return 0;
      });
    }
    this.#log.info({ abandoned, dropped }, 'scheduler stopped');
    return { abandoned, dropped };
  }

  /**
   * As if the process died: work is aborted and nothing more is written, not even a release. The
   * claims stay until their leases expire. For tests of takeover.
   */
  kill(): void {
    this.#dead = true;
    this.#stopping = true;
    this.#shutdown.abort(new ShutdownError('killed'));
  }

  async #claimOnce(): Promise<void> {
    if (this.#stopping) return;
    const { db, clock, metrics } = this.#options;
    const free = this.#options.concurrency - this.#workers.size;
    if (free <= 0) return;
    const claims = await claimDue(db, {
      owner: this.owner,
      now: clock.now(),
      leaseMs: this.#options.leaseMs,
      limit: free,
    });
    for (const claim of claims) {
      metrics?.claims.inc();
      if (claim.takenOverFrom && claim.takenOverFrom !== this.owner) {
        metrics?.takeovers.inc();
        this.#log.warn(
          { account: claim.accountName, previousOwner: claim.takenOverFrom },
          `Took over account \`${claim.accountName}\` from \`${claim.takenOverFrom}\`, whose lease had expired.`,
        );
      }
      this.#start(claim);
    }
  }

  #start(claim: Claim): void {
    const controller = new AbortController();
    const worker: Worker = { claim, controller, done: Promise.resolve() };
    worker.done = this.#run(claim, controller).finally(() => {
      this.#workers.delete(claim.accountId);
      this.#options.metrics?.activeClaims.set(this.#workers.size);
      if (!this.#stopping) {
        this.fill().catch((error) => {
          this.#log.error(
            { err: coerceError(error) },
            'claiming more accounts failed; the next tick tries again',
          );
        });
      }
    });
    this.#workers.set(claim.accountId, worker);
    this.#options.metrics?.activeClaims.set(this.#workers.size);
  }

  async #run(claim: Claim, controller: AbortController): Promise<void> {
    const { clock, db, metrics } = this.#options;
    const signal = AbortSignal.any([controller.signal, this.#shutdown.signal]);
    const beats = new AbortController();
    const heartbeat = this.#heartbeat(claim, controller, beats.signal);
    let release: Release;
    try {
      release = await this.#options.work(claim, signal);
    } catch (error) {
      // Work reports failures as releases; reaching this is a bug, retried like a transient failure.
      this.#log.error({ err: coerceError(error), account: claim.accountName }, 'account work threw');
      const retryAt = clock.now() + 60_000;
      release = {
        outcome: 'retrying',
        nextDueAt: retryAt,
        attempts: claim.attempts + 1,
        backoffUntil: retryAt,
        error: { code: 'unexpected_error', message: coerceError(error).message },
      };
    } finally {
      beats.abort();
      await heartbeat;
    }
    if (this.#dead) return;
    if (controller.signal.aborted) {
      metrics?.leasesLost.inc();
      this.#log.warn(
        { account: claim.accountName },
        `Lost the claim on account \`${claim.accountName}\` while working on it (its lease expired); the new holder carries on.`,
      );
      return;
    }
    metrics?.syncs.inc({ outcome: release.outcome });
    try {
      const released = await releaseClaim(db, claim, release, { owner: this.owner, now: clock.now() });
      if (!released) {
        metrics?.leasesLost.inc();
        this.#log.warn(
          { account: claim.accountName, outcome: release.outcome },
          `The claim on account \`${claim.accountName}\` had passed to another daemon before its outcome (${release.outcome}) was recorded.`,
        );
      }
    } catch (error) {
      this.#log.error(
        { err: coerceError(error), account: claim.accountName },
        'could not record the outcome of a claim; the account is retried when its lease expires',
      );
    }
  }

  /** Extends the lease every `heartbeatMs` until `stop` fires; aborts the work if the lease is gone. */
  async #heartbeat(claim: Claim, work: AbortController, stop: AbortSignal): Promise<void> {
    const { clock, db, leaseMs } = this.#options;
    const every = this.#options.heartbeatMs ?? Math.max(1, Math.floor(leaseMs / 3));
    let validUntil = clock.now() + leaseMs;
    for (;;) {
      try {
        await clock.sleep(every, AbortSignal.any([stop, this.#shutdown.signal]));
      } catch {
        return;
      }
      if (this.#dead) return;
      try {
        const ok = await extendLease(db, claim, { owner: this.owner, now: clock.now(), leaseMs });
        if (!ok) {
          work.abort(new LeaseLostError(`The lease on account ${claim.accountName} was lost.`));
          return;
        }
        validUntil = clock.now() + leaseMs;
      } catch (error) {
        this.#log.warn({ err: coerceError(error), account: claim.accountName }, 'lease heartbeat failed');
        if (clock.now() >= validUntil) {
          // We cannot tell whether the lease still holds: stop rather than risk two daemons on one account.
          work.abort(new LeaseLostError(`The lease on account ${claim.accountName} could not be extended.`));
          return;
        }
      }
    }
  }
}

/** Waits until all settle or `ms` of real time pass. */
async function settleWithin(promises: Promise<unknown>[], ms: number): Promise<void> {
  const timer = new AbortController();
  await Promise.race([
    Promise.allSettled(promises),
    realDelay(ms, undefined, { signal: timer.signal }).catch(() => {}),
  ]);
  timer.abort();
}
