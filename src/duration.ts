/** Milliseconds in each unit; durations in code are written as `6 * HOUR`. */
export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
export const WEEK = 7 * DAY;

const UNITS: Record<string, number> = { ms: 1, s: SECOND, m: MINUTE, h: HOUR, d: DAY, w: WEEK };
const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+$/;
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g;

/** How durations are described in messages. */
export const DURATION_FORM = 'a duration such as 30s, 15m, 12h, 1d or 1h30m';

/**
 * `12h`, `90m`, `1d12h`, `500ms`: a sum of numbers with units (ms, s, m, h, d, w), in milliseconds.
 * Undefined when the text is not of that form. The one grammar for durations in the config file,
 * the environment and command-line flags.
 */
export function parseDuration(text: string): number | undefined {
  const value = text.trim();
  if (!DURATION.test(value)) return undefined;
  let total = 0;
  for (const [, amount, unit] of value.matchAll(DURATION_PART)) total += Number(amount) * UNITS[unit!]!;
  return Math.round(total);
}
