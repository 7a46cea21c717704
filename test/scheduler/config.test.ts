import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'sync-config-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

let files = 0;
async function load(content: unknown, env: Record<string, string> = {}) {
  const file = path.join(directory, `config-${files++}.json`);
  await writeFile(file, JSON.stringify(content));
  return loadConfig({ configPath: file, env, cwd: directory });
}

async function failure(content: unknown, env: Record<string, string> = {}): Promise<string> {
  try {
    await load(content, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected the config to be refused');
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('sync config', () => {
  it('accepts the example config with the environment docker-compose.yml gives the daemon', () => {
    const config = loadConfig({
      configPath: path.join(ROOT, 'tiktok-sync.config.example.json'),
      env: {
        DATABASE_URL: 'postgres://tiktok:tiktok@postgres:5432/tiktok',
        TIKTOK_SYNC_DATA_DIR: '/data',
        TIKTOK_SYNC_LISTEN: '0.0.0.0:8724',
        TIKTOK_CLIENT_KEY: 'key',
        TIKTOK_CLIENT_SECRET: 'secret',
        TIKTOK_SYNC_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
        LOG_LEVEL: 'info',
      },
    });
    expect(config.database).toMatchObject({ kind: 'external', source: 'DATABASE_URL' });
    expect(config.dataDir).toBe('/data');
    expect(config.sync.listen).toBe('0.0.0.0:8724');
    expect(config.sync.interval).toMatchObject({ kind: 'every', ms: 12 * 3_600_000 });
    expect(config.sync.accounts['example-account']?.interval).toMatchObject({ kind: 'cron' });
    expect(config.archive.retentionMs).toBe(7 * 86_400_000);
  });

  it('reads the schedule, per-account overrides and retention, with defaults for the rest', async () => {
    const config = await load({
      archive: { retention: '30d' },
      sync: {
        interval: '0 */12 * * *',
        timezone: 'Europe/Berlin',
        jitter: '15m',
        concurrency: 8,
        lease: '2m',
        pendingLimit: '2d',
        listen: '0.0.0.0:9000',
        accounts: {
          ana: { interval: '1d12h', categories: ['activity', 'video'], dataFormat: 'text', paused: true },
        },
      },
    });
    expect(config.sync.interval).toEqual({
      kind: 'cron',
      expression: '0 */12 * * *',
      timezone: 'Europe/Berlin',
      text: '0 */12 * * *',
    });
    expect(config.sync.jitterMs).toBe(15 * 60_000);
    expect(config.sync.concurrency).toBe(8);
    expect(config.sync.leaseMs).toBe(120_000);
    expect(config.sync.pendingLimitMs).toBe(2 * 86_400_000);
    expect(config.sync.listen).toBe('0.0.0.0:9000');
    expect(config.archive.retentionMs).toBe(30 * 86_400_000);
    expect(config.sync.accounts.ana).toEqual({
      interval: { kind: 'every', ms: 36 * 3_600_000, text: '1d12h' },
      categories: ['activity', 'video'],
      dataFormat: 'text',
      paused: true,
    });
    expect(Object.isFrozen(config.sync.accounts.ana)).toBe(true);

    const defaults = await load({});
    expect(defaults.sync.interval).toEqual({ kind: 'every', ms: 86_400_000, text: '24h' });
    expect(defaults.sync.timezone).toBe('UTC');
    expect(defaults.sync.tick).toBe('*/30 * * * * *');
    expect(defaults.sync.listen).toBe('127.0.0.1:8724');
    expect(defaults.archive.retentionMs).toBe(0);
  });

  it('takes the schedule and listen address from the environment over the file', async () => {
    const config = await load(
      { sync: { interval: '12h', concurrency: 2 } },
      {
        TIKTOK_SYNC_INTERVAL: '6h',
        TIKTOK_SYNC_CONCURRENCY: '16',
        TIKTOK_SYNC_TIMEZONE: 'America/New_York',
        TIKTOK_SYNC_LISTEN: '[::1]:8080',
        TIKTOK_SYNC_JITTER: '1m',
      },
    );
    expect(config.sync.interval).toEqual({ kind: 'every', ms: 6 * 3_600_000, text: '6h' });
    expect(config.sync.concurrency).toBe(16);
    expect(config.sync.timezone).toBe('America/New_York');
    expect(config.sync.listen).toBe('[::1]:8080');
    expect(config.sync.jitterMs).toBe(60_000);
  });

  it('names the key, the value and the expected form when a file setting is wrong', async () => {
    expect(await failure({ sync: { interval: '12 hours' } })).toMatch(
      /key `sync\.interval` is `"12 hours"`; expected a duration of at least 1m such as 15m, 12h, 1d or 1h30m, or a cron expression such as "0 \*\/12 \* \* \*"\.$/,
    );
    expect(await failure({ sync: { interval: '61 * * * *' } })).toMatch(
      /key `sync\.interval` is `"61 \* \* \* \*"`; expected .* \(as cron: Invalid value for minute: 61\)\.$/,
    );
    expect(await failure({ sync: { interval: '30s' } })).toMatch(
      /key `sync\.interval` is `"30s"`; expected at least 1m, a duration such as 15m, 12h, 1d or 1h30m, or a cron expression/,
    );
    expect(await failure({ sync: { timezone: 'Mars/Olympus' } })).toMatch(
      /key `sync\.timezone` is `"Mars\/Olympus"`; expected an IANA time zone such as UTC or Europe\/Berlin\./,
    );
    expect(await failure({ sync: { jitter: 10 } })).toMatch(
      /key `sync\.jitter` is `10`; expected a duration such as 30s, 15m, 12h, 1d or 1h30m, as a string\./,
    );
    expect(await failure({ sync: { concurrency: 0 } })).toMatch(
      /key `sync\.concurrency` is `0`; expected a whole number from 1 to 256\./,
    );
    expect(await failure({ sync: { lease: '100ms' } })).toMatch(
      /key `sync\.lease` is `"100ms"`; expected at least 1s/,
    );
    expect(await failure({ sync: { tick: 'every minute' } })).toMatch(
      /key `sync\.tick` is `"every minute"`; expected a node-cron expression/,
    );
    expect(await failure({ sync: { listen: 'localhost' } })).toMatch(
      /key `sync\.listen` is `"localhost"`; expected host:port, e\.g\. 127\.0\.0\.1:8724\./,
    );
    expect(await failure({ sync: { accounts: { ana: { categories: ['videos'] } } } })).toMatch(
      /key `sync\.accounts\.ana\.categories\.0` is `"videos"`; expected one of all_data, video, profile, activity, direct_message\./,
    );
    expect(await failure({ sync: { accounts: { ana: { paused: 'yes' } } } })).toMatch(
      /key `sync\.accounts\.ana\.paused` is `"yes"`; expected true or false\./,
    );
    expect(await failure({ archive: { retention: 'forever' } })).toMatch(
      /key `archive\.retention` is `"forever"`; expected a duration such as 30s/,
    );
    expect(await failure({ sync: { intervall: '12h' } })).toMatch(
      /key `sync\.intervall` is not a known setting; check its spelling and nesting\./,
    );
    expect(await failure({ sync: { retryInitial: '1h', retryMax: '10m' } })).toMatch(
      /key `sync\.retryMax` is `"10m"`; expected at least sync\.retryInitial \(`1h`\)\./,
    );
  });

  it('keeps the data on authorization.removed unless the policy says forget', async () => {
    expect((await load({})).sync.onAuthorizationRemoved).toBe('keep');
    expect((await load({ sync: { onAuthorizationRemoved: 'forget' } })).sync.onAuthorizationRemoved).toBe(
      'forget',
    );
    expect(
      (await load({}, { TIKTOK_SYNC_ON_AUTHORIZATION_REMOVED: 'Forget' })).sync.onAuthorizationRemoved,
    ).toBe('forget');
    expect(await failure({ sync: { onAuthorizationRemoved: 'delete' } })).toMatch(
      /key `sync\.onAuthorizationRemoved` is `"delete"`; expected one of keep, forget\./,
    );
  });

  it('names the variable, the value and the expected form when an environment override is wrong', async () => {
    expect(await failure({}, { TIKTOK_SYNC_INTERVAL: 'daily' })).toBe(
      'TIKTOK_SYNC_INTERVAL (file key `sync.interval`) is `daily`; expected a duration of at least 1m such as 15m, 12h, 1d or 1h30m, or a cron expression such as "0 */12 * * *".',
    );
    expect(await failure({}, { TIKTOK_SYNC_TIMEZONE: 'Berlin' })).toBe(
      'TIKTOK_SYNC_TIMEZONE (file key `sync.timezone`) is `Berlin`; expected an IANA time zone such as UTC or Europe/Berlin.',
    );
    expect(await failure({}, { TIKTOK_SYNC_CONCURRENCY: 'lots' })).toBe(
      'TIKTOK_SYNC_CONCURRENCY (file key `sync.concurrency`) is `lots`; expected a whole number from 1 to 256.',
    );
    expect(await failure({}, { TIKTOK_SYNC_JITTER: '5 minutes' })).toBe(
      'TIKTOK_SYNC_JITTER (file key `sync.jitter`) is `5 minutes`; expected a duration such as 30s, 15m, 12h, 1d or 1h30m.',
    );
    expect(await failure({}, { TIKTOK_SYNC_LISTEN: '8724' })).toBe(
      'TIKTOK_SYNC_LISTEN (file key `sync.listen`) is `8724`; expected host:port, e.g. 127.0.0.1:8724.',
    );
  });
});
