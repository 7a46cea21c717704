import { createTask, parse, type ScheduledTask, validateDetailed } from 'node-cron';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const UNITS: Record<string, number> = { ms: 1, s: SECOND, m: MINUTE, h: HOUR, d: DAY, w: 7 * DAY };
const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+$/;
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g;

/** How often an account is synced: every fixed duration, or at the times a cron expression names. */
export type SyncInterval =
  | { readonly kind: 'every'; readonly ms: number; readonly text: string }
  | { readonly kind: 'cron'; readonly expression: string; readonly timezone: string; readonly text: string };

/**
 * `12h`, `90m`, `1d12h`, `500ms`: a sum of numbers with units (ms, s, m, h, d, w). Undefined when the
 * text is not of that form.
 */
export function parseDuration(text: string): number | undefined {
  const value = text.trim();
  if (!DURATION.test(value)) return undefined;
  let total = 0;
  for (const [, amount, unit] of value.matchAll(DURATION_PART)) total += Number(amount) * UNITS[unit!]!;
  return Math.round(total);
}

/** Why a cron expression is invalid, in node-cron's words, or undefined when it is valid. */
export function cronProblem(expression: string): string | undefined {
  const result = validateDetailed(expression);
  if (result.valid) return undefined;
  return result.errors.map((error) => error.message).join('; ') || 'not a cron expression';
}

/** True for text that is meant as a cron expression rather than a duration. */
export function looksLikeCron(text: string): boolean {
  return /\s/.test(text.trim()) || text.trim().startsWith('@');
}

/** Whether `timezone` is an IANA zone this Node.js knows (e.g. `Europe/Berlin`, `UTC`). */
export function isTimezone(timezone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}

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

const matchers = new Map<string, ScheduledTask>();

/** node-cron's own matcher for the expression (a task that is never started), so both agree on every rule. */
function matcherFor(expression: string, timezone: string): ScheduledTask {
  const key = `${timezone}\u0000${expression}`;
  let task = matchers.get(key);
  if (!task) {
    task = createTask(expression, () => {}, { timezone, name: `tiktok-sync-matcher:${key}` });
    matchers.set(key, task);
  }
  return task;
}

/**
 * The first time strictly after `afterMs` (whole seconds) that the expression matches in `timezone`.
 * Walks day by day over node-cron's parsed fields and asks node-cron's matcher to confirm, so that
 * `L`, `#` and day-of-month/day-of-week rules mean what they mean when node-cron ticks.
 */
export function nextCronMatch(expression: string, timezone: string, afterMs: number): number {
  const fields = parse(expression);
  const seconds = numbers(fields.second);
  const minutes = numbers(fields.minute);
  const hours = numbers(fields.hour);
  const months = new Set(numbers(fields.month));
  const matcher = matcherFor(expression, timezone);
  const start = Math.floor(afterMs / SECOND) * SECOND + SECOND;
  const first = localParts(start, timezone);
  let { year, month, day } = first;
  for (let days = 0; days < 366 * 8; days++) {
    if (months.has(month)) {
      let tries = 0;
      search: for (const hour of hours) {
        if (days === 0 && hour < first.hour) continue;
        for (const minute of minutes) {
          if (days === 0 && hour === first.hour && minute < first.minute) continue;
          for (const second of seconds) {
            if (days === 0 && hour === first.hour && minute === first.minute && second < first.second)
              continue;
            const at = localToUtc({ year, month, day, hour, minute, second }, timezone);
            if (at < start) continue;
            if (matcher.match(new Date(at))) return at;
            // The day itself does not match (day of month or week); a daylight-saving gap may cost a try or two.
            if (++tries >= 3) break search;
          }
        }
      }
    }
    const next = new Date(Date.UTC(year, month - 1, day + 1));
    year = next.getUTCFullYear();
    month = next.getUTCMonth() + 1;
    day = next.getUTCDate();
  }
  throw new Error(`The cron expression \`${expression}\` matches no time in the next eight years.`);
}

function numbers(values: readonly (number | string)[]): number[] {
  return values.filter((value): value is number => typeof value === 'number').sort((a, b) => a - b);
}

interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function localParts(ms: number, timezone: string): LocalParts {
  let format = formatters.get(timezone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timezone, format);
  }
  const parts: Record<string, number> = {};
  for (const part of format.formatToParts(new Date(ms))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  return {
    year: parts.year!,
    month: parts.month!,
    day: parts.day!,
    hour: parts.hour! % 24,
    minute: parts.minute!,
    second: parts.second!,
  };
}

function offsetAt(ms: number, timezone: string): number {
  const p = localParts(ms, timezone);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(ms / SECOND) * SECOND;
}

/** The instant a wall-clock time in `timezone` denotes (the later one across a daylight-saving change). */
function localToUtc(parts: LocalParts, timezone: string): number {
  const guess = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
  const first = guess - offsetAt(guess, timezone);
  const second = guess - offsetAt(first, timezone);
  return Math.max(first, second);
}
