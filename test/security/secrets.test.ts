import { randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Output } from '../../src/cli/output.js';
import { main } from '../../src/cli.js';
import { createLogger } from '../../src/logger.js';
import { clearStops } from '../../src/scheduler/claims.js';
import { TokenCipher } from '../../src/tiktok/tokens.js';
import { type DaemonWorld, HOUR, MINUTE, startDaemonWorld } from '../reliability/support/daemon-world.js';

/**
 * Secrets stay secret: the tokens are only ever stored encrypted, and no token, client secret or
 * encryption key appears in anything the service emits — log lines (at trace level), errors, run
 * and request records, status output, metrics, health, quarantine notes — through good syncs and
 * every kind of failure.
 */
const CLIENT_SECRET = `client-secret-CANARY-${randomBytes(6).toString('hex')}`;
/** Every log line, command output, HTTP answer and stored message the test saw. */
const emitted: string[] = [];
let world: DaemonWorld;
const tokens = new Set<string>();

beforeAll(async () => {
  world = await startDaemonWorld({
    accounts: [
      { username: 'ana', scale: 120 },
      { username: 'bo', scale: 120 },
    ],
    logger: createLogger({ level: 'trace', destination: { write: (line: string) => emitted.push(line) } }),
    sandbox: { clientSecret: CLIENT_SECRET },
  });
}, 60_000);

afterAll(async () => {
  vi.unstubAllEnvs();
  await world?.close();
});

async function syncUntil(check: () => Promise<boolean>, first = 0): Promise<void> {
  for (let i = 0; i < 30; i++) {
    await world.step(i === 0 ? first : MINUTE);
    if (await check()) return;
  }
  throw new Error('the sync did not get there');
}

async function imported(name: string): Promise<number> {
  const { rows } = await world.database.pool.query(
    `select count(*)::int as n from tiktok_sync.data_requests d join tiktok_sync.accounts a using (account_id)
      where a.name = $1 and d.status = 'imported'`,
    [name],
  );
  return rows[0].n;
}

/** Every row of every table of the database, as text. */
async function everythingStored(): Promise<string> {
  const { rows: tables } = await world.database.pool.query<{ name: string }>(
    `select format('%I.%I', schemaname, tablename) as name from pg_tables
      where schemaname not in ('pg_catalog', 'information_schema')`,
  );
  const parts: string[] = [];
  for (const { name } of tables) {
    const { rows } = await world.database.pool.query(`select t::text as row from ${name} t`);
    parts.push(...rows.map((row) => row.row as string));
  }
  return parts.join('\n');
}

/** The forms a token could leak in: as is, base64, hex, URL-encoded. */
function forms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  return [secret, bytes.toString('base64'), bytes.toString('hex'), encodeURIComponent(secret)];
}

function collectTokens(): void {
  for (const token of world.proxy.tokens) tokens.add(token);
}

describe('secrets', () => {
  it('stores the tokens only encrypted, however often they rotate', async () => {
    const ana = await world.connectAccount('ana');
    tokens.add(ana.tokens.accessToken.reveal());
    tokens.add(ana.tokens.refreshToken.reveal());
    await syncUntil(async () => (await imported('ana')) === 1);
    // A day later the access token has expired: the daemon refreshes it (TikTok rotates both).
    await syncUntil(async () => (await imported('ana')) === 2, 25 * HOUR);
    collectTokens();
    expect(world.proxy.tokens.size).toBeGreaterThanOrEqual(2);

    const stored = await everythingStored();
    expect(stored).toContain('\\x'); // the ciphertext is there…
    for (const token of tokens) for (const form of forms(token)) expect(stored).not.toContain(form);
    for (const secret of [CLIENT_SECRET, world.encryptionKey]) expect(stored).not.toContain(secret);

    // …and is the current token, sealed to its row.
    const { rows } = await world.database.pool.query(
      'select account_id, access_token_ciphertext, access_token_nonce from tiktok_sync.credentials',
    );
    const cipher = new TokenCipher(Buffer.from(world.encryptionKey, 'base64'));
    const current = cipher.decrypt(
      rows[0].access_token_ciphertext,
      rows[0].access_token_nonce,
      `tiktok_sync.credentials:${rows[0].account_id}:access_token`,
    );
    expect(tokens.has(current.reveal())).toBe(true);
  });

  it('never emits a token, the client secret or the key: logs, errors, records, status, metrics', async () => {
    const { sandbox, proxy, clock, database } = world;
    // Failures of every kind, each with a message somewhere.
    sandbox.faults.serverErrors(6, { endpoint: 'check', status: 500 });
    await world.step(12 * HOUR);
    await syncUntil(async () => (await imported('ana')) === 3, MINUTE);
    proxy.corruptCrc(true);
    await world.step(12 * HOUR);
    // The download comes at the account's polling backoff (with jitter): step until it was refused.
    const quarantined = async () =>
      (await readdir(world.quarantine).catch(() => [])).some((file) => file.endsWith('.reason.json'));
    for (let i = 0; i < 60 && !(await quarantined()); i += 1) await world.step(MINUTE);
    proxy.corruptCrc(false);
    await clearStops(world.scheduleDb, { now: clock.now(), accounts: ['ana'] });
    await sandbox.faults.revokeConsent('ana'); // authorization.removed, then a refused token
    await world.step(13 * HOUR);
    const again = await world.connectAccount('ana');
    tokens.add(again.tokens.accessToken.reveal());
    tokens.add(again.tokens.refreshToken.reveal());
    await again.oauth.refresh(again.tokens.refreshToken); // rotated elsewhere: the next refresh gets invalid_grant
    await world.step(25 * HOUR);

    // The command line, as an operator runs it, logging at trace level.
    const cliConfig = path.join(world.dir, 'cli.json');
    await writeFile(
      cliConfig,
      JSON.stringify({
        dataDir: world.dir,
        tiktok: { pollInitialSeconds: 0.05, pollMaxSeconds: 0.1, waitSeconds: 10 },
      }),
    );
    for (const [name, value] of Object.entries({
      ...world.env,
      TIKTOK_SYNC_CONFIG: cliConfig,
      LOG_LEVEL: 'trace',
    })) {
      vi.stubEnv(name, value);
    }
    const cli = async (...args: string[]) => {
      const output: Output = {
        out: (line = '') => emitted.push(line),
        err: (line = '') => emitted.push(line),
        interactive: false,
      };
      return main(['node', 'tiktok-sync', ...args], output, {
        logDestination: { write: (line) => emitted.push(line) },
      });
    };
    const bo = await world.connectAccount('bo');
    tokens.add(bo.tokens.accessToken.reveal());
    tokens.add(bo.tokens.refreshToken.reveal());
    // TikTok's time is simulated: move it on while the command waits for the data.
    let syncing = true;
    const sync = cli('sync', '--account', 'bo', '--once').finally(() => {
      syncing = false;
    });
    while (syncing) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      await clock.advance(MINUTE);
    }
    expect(await sync).toBe(0);
    expect(await cli('sync', '--account', 'ana', '--once')).toBe(1); // needs consent: an error message
    expect(await cli('status')).toBe(0);
    expect(await cli('status', '--json')).toBe(0);
    expect(await cli('run', '--once')).toBeGreaterThanOrEqual(0);
    collectTokens();

    // What the daemon serves, and what it wrote down about failures.
    emitted.push(await (await fetch(`${world.daemon.url}/metrics`)).text());
    emitted.push(await (await fetch(`${world.daemon.url}/healthz`)).text());
    for (const query of [
      'select error_code, error_message, warnings::text, source, quarantined_to from tiktok_sync.sync_runs',
      'select error_code, error_message from tiktok_sync.data_requests',
      'select last_error_code, last_error_message, stop_reason from tiktok_sync.sync_schedule',
      'select status, status_reason from tiktok_sync.credentials',
      'select content from tiktok_sync.webhook_events',
    ]) {
      const { rows } = await database.pool.query(query);
      emitted.push(...rows.map((row) => JSON.stringify(row)));
    }
    for (const file of await readdir(world.quarantine).catch(() => [])) {
      if (file.endsWith('.reason.json'))
        emitted.push(await readFile(path.join(world.quarantine, file), 'utf8'));
    }

    const everything = emitted.join('\n');
    // The exercise did produce what it should have: refreshes, failures, a refused grant, a quarantine.
    expect(emitted.length).toBeGreaterThan(50);
    expect(everything).toMatch(/archive_corrupt/);
    expect(everything).toMatch(/invalid_grant|needs_consent/);
    expect(everything).toMatch(/tiktok_sync_token_refreshes_total\{outcome="ok"\} [1-9]/);
    expect(tokens.size).toBeGreaterThanOrEqual(8);
    for (const token of tokens) for (const form of forms(token)) expect(everything).not.toContain(form);
    for (const secret of [CLIENT_SECRET, world.encryptionKey]) expect(everything).not.toContain(secret);
  }, 60_000);
});
