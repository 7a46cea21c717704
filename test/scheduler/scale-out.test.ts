import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createWorld,
  HOUR,
  MINUTE,
  requestsByAccount,
  step,
  type TestDaemon,
  type World,
} from './support.js';

const NAMES = Array.from({ length: 50 }, (_, i) => `user${String(i).padStart(2, '0')}`);
const INTERVAL = 6 * HOUR;

let world: World;
beforeAll(async () => {
  world = await createWorld(NAMES, { account: { scale: 12 } });
});
afterAll(async () => {
  await world?.close();
});

/** Runs `daemons` over two intervals in 5-minute ticks; returns the requests each account got. */
async function twoIntervals(daemons: TestDaemon[]) {
  const { clock, database } = world;
  const before = await requestsByAccount(database);
  const end = clock.now() + 2 * INTERVAL - MINUTE;
  while (clock.now() + 5 * MINUTE <= end) await step(clock, daemons, 5 * MINUTE);
  const after = await requestsByAccount(database);
  return NAMES.map((name) => (after.get(name) ?? []).slice((before.get(name) ?? []).length));
}

async function claimsOf(daemon: TestDaemon): Promise<number> {
  const text = await daemon.metrics.registry.getSingleMetricAsString('tiktok_sync_syncs_total');
  const match = /tiktok_sync_syncs_total\{outcome="imported"\} (\d+)/.exec(text);
  return Number(match?.[1] ?? 0);
}

describe('several daemons', () => {
  for (const count of [2, 3]) {
    it(`share 50 accounts between ${count} daemons and sync each exactly once per interval`, async () => {
      const config = await world.config({ interval: '6h', jitter: '20m', concurrency: 4 });
      const daemons: TestDaemon[] = [];
      for (let i = 0; i < count; i++) daemons.push(await world.daemon(config));
      const hits = { ...world.sandbox.hits };

      const requests = await twoIntervals(daemons);
      for (const [index, list] of requests.entries()) {
        expect(
          list.map((request) => request.status),
          NAMES[index],
        ).toEqual(['imported', 'imported']);
        const [first, second] = list;
        // The second sync is one interval after the first one's slot (jitter moves it by up to 20 min).
        const gap = second!.addedAt.getTime() - first!.addedAt.getTime();
        expect(gap).toBeGreaterThan(INTERVAL - 25 * MINUTE);
        expect(gap).toBeLessThan(INTERVAL + 25 * MINUTE);
      }
      // TikTok saw exactly one Add per account and interval: no account was worked on twice at once.
      expect(world.sandbox.hits.add - hits.add).toBe(2 * NAMES.length);
      const shares = await Promise.all(daemons.map(claimsOf));
      expect(shares.reduce((a, b) => a + b, 0)).toBe(2 * NAMES.length);
      for (const share of shares) expect(share).toBeGreaterThan(0);
      for (const daemon of daemons) await daemon.close();
    });
  }
});
