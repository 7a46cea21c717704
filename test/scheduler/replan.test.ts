import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorld, HOUR, MINUTE, requestsByAccount, scheduleRow, step, type World } from './support.js';

let world: World;
beforeAll(async () => {
  world = await createWorld(['ana']);
});
afterAll(async () => {
  await world?.close();
});

const imported = async () =>
  ((await requestsByAccount(world.database)).get('ana') ?? []).filter((r) => r.status === 'imported').length;

describe('a changed interval', () => {
  it('moves the next sync that was already planned with the old one', async () => {
    const { clock, database } = world;
    const ana = world.accounts.get('ana')!;
    const daily = await world.daemon(await world.config({ interval: '1d', jitter: '1m' }));
    await step(clock, [daily], 0);
    for (let i = 0; i < 6; i++) await step(clock, [daily], MINUTE);
    expect(await imported()).toBe(1);
    const planned = await scheduleRow(database, ana);
    expect(planned.planned_interval).toBe('1d');
    const success = planned.last_success_at.getTime();
    expect(planned.next_due_at.getTime() - success).toBeGreaterThanOrEqual(23 * HOUR);
    await daily.close();

    // The operator shortens the interval and restarts the daemon: the next sync is 2 h after the last.
    const hourly = await world.daemon(await world.config({ interval: '2h', jitter: '1m' }));
    await step(clock, [hourly], 0);
    const moved = await scheduleRow(database, ana);
    expect(moved.planned_interval).toBe('2h');
    expect(moved.slot_at.getTime()).toBe(success + 2 * HOUR);
    expect(moved.next_due_at.getTime() - success).toBeLessThanOrEqual(2 * HOUR + MINUTE);
    await clock.advanceTo(success + 2 * HOUR + 2 * MINUTE);
    for (let i = 0; i < 4; i++) await step(clock, [hourly], MINUTE);
    expect(await imported()).toBe(2);
    // The same interval again moves nothing.
    const next = await scheduleRow(database, ana);
    await step(clock, [hourly], 0);
    expect((await scheduleRow(database, ana)).next_due_at).toEqual(next.next_due_at);
    await hourly.close();
  });
});
