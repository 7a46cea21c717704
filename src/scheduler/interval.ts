import { Cron } from 'croner';
import type { SyncInterval } from '../config.js';
import { HOUR, MINUTE, SECOND } from '../duration.js';

export type { SyncInterval } from '../config.js';

/**
 * The slot after a sync that finished at `nowMs`.
 *
 * - `every`: one interval after the slot that sync belonged to (`previousSlotMs`), so the rhythm does
 *   not drift by the time syncs take. When that is already past (the sync was a catch-up after
 *   downtime, or took longer than the interval), one interval from now: missed slots are never
 *   replayed, the overdue sync itself was the one catch-up.
 * - `cron`: the first matching time after `nowMs`.
 */
export function nextSlot(interval: SyncInterval, nowMs: number, previousSlotMs?: number): number {
  if (interval.kind === 'every') {
    const next = (previousSlotMs ?? nowMs) + interval.ms;
    return next > nowMs ? next : nowMs + interval.ms;
  }
  return nextCronMatch(interval.expression, interval.timezone, nowMs);
}

const patterns = new Map<string, Cron>();

/** The first time strictly after `afterMs` (whole seconds) that the expression matches in `timezone`. */
export function nextCronMatch(expression: string, timezone: string, afterMs: number): number {
  const key = `${timezone}\u0000${expression}`;
  let cron = patterns.get(key);
  if (!cron) {
    cron = new Cron(expression, { timezone, paused: true });
    patterns.set(key, cron);
  }
  // croner runs a time that a daylight-saving change removes at the end of the gap; node-cron, which
  // ticks the daemon, never runs it. Skipping such runs keeps the two in agreement.
  let next = cron.nextRun(new Date(Math.floor(afterMs / SECOND) * SECOND));
  for (let tries = 0; next && !cron.match(next) && tries < 3; tries++) next = cron.nextRun(next);
  if (!next) throw new Error(`The cron expression \`${expression}\` matches no time in the future.`);
  // A wall-clock time that happens twice (clocks go back) is taken the second time: after it, no
  // instant reads as that time again, so the slot is not run twice.
  const at = next.getTime();
  for (const shift of [HOUR, 30 * MINUTE]) {
    if (wallClock(at + shift, timezone) === wallClock(at, timezone)) return at + shift;
  }
  return at;
}

const formats = new Map<string, Intl.DateTimeFormat>();

function wallClock(ms: number, timezone: string): string {
  let format = formats.get(timezone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      dateStyle: 'short',
      timeStyle: 'medium',
    });
    formats.set(timezone, format);
  }
  return format.format(ms);
}
