import { createTask } from 'node-cron';
import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../src/duration.js';
import { nextCronMatch, nextSlot } from '../../src/scheduler/interval.js';

const HOUR = 3_600_000;

describe('interval', () => {
  it('parses durations as sums of numbers with units', () => {
    expect(parseDuration('12h')).toBe(12 * HOUR);
    expect(parseDuration('1d12h')).toBe(36 * HOUR);
    expect(parseDuration('1h30m')).toBe(90 * 60_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('1.5h')).toBe(90 * 60_000);
    expect(parseDuration('2w')).toBe(14 * 24 * HOUR);
    for (const bad of ['12', 'h', '12 hours', '-1h', '1y', ''])
      expect(parseDuration(bad), bad).toBeUndefined();
  });

  it('finds the same next cron time as node-cron, in every time zone', () => {
    const expressions = [
      '0 */12 * * *',
      '*/5 * * * *',
      '30 2 * * *',
      '0 0 L * *',
      '0 9 * * 1',
      '*/20 * * * * *',
      '0 0 * * 1#2',
      '@daily',
    ];
    for (const timezone of ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata']) {
      for (const expression of expressions) {
        const task = createTask(expression, () => {}, { timezone });
        const now = Date.now();
        const theirs = task.getNextRuns(1)[0]!.getTime();
        // getNextRuns reads the clock itself; allow for a second ticking over between the two calls.
        const ours = nextCronMatch(expression, timezone, now);
        expect(
          [theirs, nextCronMatch(expression, timezone, now + 1000)],
          `${expression} in ${timezone}`,
        ).toContain(ours);
        void task.destroy();
      }
    }
  });

  it('skips a wall-clock time that a daylight-saving change removes, and takes the later of a repeated one', () => {
    const spring = Date.UTC(2026, 2, 28, 12); // Berlin skips 02:00–03:00 on 29 March 2026
    expect(new Date(nextCronMatch('30 2 * * *', 'Europe/Berlin', spring)).toISOString()).toBe(
      '2026-03-30T00:30:00.000Z',
    );
    const autumn = Date.UTC(2026, 9, 24, 12); // 02:30 happens twice on 25 October 2026
    expect(new Date(nextCronMatch('30 2 * * *', 'Europe/Berlin', autumn)).toISOString()).toBe(
      '2026-10-25T01:30:00.000Z',
    );
  });

  it('keeps the rhythm of a duration interval, and after downtime counts from the catch-up', () => {
    const every = { kind: 'every', ms: 12 * HOUR, text: '12h' } as const;
    const slot = Date.UTC(2026, 0, 1, 4);
    expect(nextSlot(every, slot + 20 * 60_000, slot)).toBe(slot + 12 * HOUR);
    const late = slot + 3 * 24 * HOUR;
    expect(nextSlot(every, late, slot)).toBe(late + 12 * HOUR);
    const cron = { kind: 'cron', expression: '0 6 * * *', timezone: 'UTC', text: '0 6 * * *' } as const;
    expect(nextSlot(cron, Date.UTC(2026, 0, 1, 6, 5), Date.UTC(2026, 0, 1, 6))).toBe(Date.UTC(2026, 0, 2, 6));
  });
});
