import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountSyncStatus, formatAccountSyncStatus } from '../../src/scheduler/status.js';
import type { TikTokTables } from '../../src/tiktok/db-types.js';
import {
  createWorld,
  DAY,
  HOUR,
  MINUTE,
  requestsByAccount,
  scheduleRow,
  step,
  type World,
} from './support.js';

let world: World;
beforeAll(async () => {
  world = await createWorld(['ana', 'bo', 'cy', 'di']);
});
afterAll(async () => {
  await world?.close();
});

describe('scheduler', () => {
  it('syncs due accounts only on each tick, each on its own interval, and skips paused ones', async () => {
    const { clock, database } = world;
    const config = await world.config({
      interval: '12h',
      accounts: { bo: { interval: '1d' }, cy: { interval: '0 6 * * *' }, di: { paused: true } },
    });
    const daemon = await world.daemon(config);
    const start = clock.now(); // 16:00 UTC
    const imported = async () => {
      const requests = await requestsByAccount(database);
      return Object.fromEntries(
        ['ana', 'bo', 'cy', 'di'].map((name) => [
          name,
          (requests.get(name) ?? []).filter((r) => r.status === 'imported').length,
        ]),
      );
    };

    // First tick: every connected, unpaused account is new and due. Each makes its request and is
    // released while TikTok prepares the data (ready after 2 minutes).
    await step(clock, [daemon], 0);
    expect(await imported()).toEqual({ ana: 0, bo: 0, cy: 0, di: 0 });
    const waiting = await accountSyncStatus(database.db.withTables<TikTokTables>(), { now: clock.now() });
    expect(waiting.map((row) => [row.account, row.state, row.heldBy])).toEqual([
      ['ana', 'waiting', null],
      ['bo', 'waiting', null],
      ['cy', 'waiting', null],
      ['di', 'paused', null],
    ]);
    expect(waiting[0]!.inFlight?.status).toBe('pending');

    // The next Check is due a minute or so later (poll backoff); by then the data is ready.
    for (let i = 0; i < 3; i++) await step(clock, [daemon], MINUTE);
    expect(await imported()).toEqual({ ana: 1, bo: 1, cy: 1, di: 0 });

    // Ticks in between sync nothing.
    for (let i = 0; i < 10; i++) await step(clock, [daemon], HOUR);
    expect(await imported()).toEqual({ ana: 1, bo: 1, cy: 1, di: 0 });

    // cy (cron 06:00 UTC) is due at 06:00 next day, ana (12 h) at 04:00, bo (1 d) at 16:00.
    await clock.advanceTo(start + 12 * HOUR + 5 * MINUTE); // 04:05
    for (let i = 0; i < 4; i++) await step(clock, [daemon], MINUTE);
    expect(await imported()).toEqual({ ana: 2, bo: 1, cy: 1, di: 0 });
    await clock.advanceTo(start + 14 * HOUR + 5 * MINUTE); // 06:05
    for (let i = 0; i < 4; i++) await step(clock, [daemon], MINUTE);
    expect(await imported()).toEqual({ ana: 2, bo: 1, cy: 2, di: 0 });
    await clock.advanceTo(start + DAY + 5 * MINUTE); // 16:05
    for (let i = 0; i < 4; i++) await step(clock, [daemon], MINUTE);
    expect(await imported()).toEqual({ ana: 3, bo: 2, cy: 2, di: 0 });

    const rows = await accountSyncStatus(database.db.withTables<TikTokTables>(), { now: clock.now() });
    const ana = rows.find((row) => row.account === 'ana')!;
    expect(ana.state).toBe('active');
    expect(ana.lastSuccessAt).not.toBeNull();
    expect(ana.lastCounts).not.toBeNull();
    expect(ana.inFlight).toBeNull();
    expect(ana.nextDueAt!.getTime()).toBe(start + 36 * HOUR);
    const text = formatAccountSyncStatus(rows, clock.now());
    expect(text).toMatch(/^account\s+state\s+last success/);
    expect(text).toMatch(/di\s+paused/);
    expect((await scheduleRow(database, world.accounts.get('ana')!)).sync_count).toBe('3');
    await daemon.close();
  });

  it('after downtime makes one catch-up sync per account, not one per missed interval', async () => {
    const { clock, database } = world;
    const config = await world.config({ interval: '12h', accounts: { di: { paused: true } } });
    const before = await requestsByAccount(database);
    // Three days without a daemon: six 12 h slots missed.
    await clock.advance(3 * DAY);
    const daemon = await world.daemon(config);
    for (let i = 0; i < 5; i++) await step(clock, [daemon], MINUTE);
    const after = await requestsByAccount(database);
    for (const name of ['ana', 'bo', 'cy']) {
      expect(after.get(name)!.length - before.get(name)!.length, name).toBe(1);
    }
    // The next sync is one interval after the catch-up, not sooner.
    for (let i = 0; i < 11; i++) await step(clock, [daemon], HOUR);
    const later = await requestsByAccount(database);
    expect(later.get('ana')!.length).toBe(after.get('ana')!.length);
    await daemon.close();
  });
});
