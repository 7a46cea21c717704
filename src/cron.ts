import { Cron } from 'croner';
import { validateDetailed } from 'node-cron';

/**
 * Why `expression` cannot be the daemon's tick, in node-cron's words (node-cron runs the tick), or
 * undefined when it can.
 */
export function tickProblem(expression: string): string | undefined {
  const result = validateDetailed(expression);
  if (result.valid) return undefined;
  return result.errors.map((error) => error.message).join('; ') || 'not a cron expression';
}

/**
 * Why `expression` cannot be a sync interval, in croner's words (croner computes the next sync), or
 * undefined when it can.
 */
export function cronProblem(expression: string): string | undefined {
  try {
    new Cron(expression.trim(), { paused: true });
    return undefined;
  } catch (error) {
    return (error as Error).message.replace(/^CronPattern: /, '');
  }
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
