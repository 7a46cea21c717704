import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Sandbox, startSandbox } from '../../src/sandbox/index.js';
import { systemClock } from '../../src/tiktok/clock.js';
import { TokenCipher } from '../../src/tiktok/tokens.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { type CliRun, runCli } from './run-cli.js';

const HOUR = 3600_000;
// The config drops a trailing slash from URLs, so the app registers both forms.
const REDIRECT_URIS = ['http://127.0.0.1:*/callback/', 'http://127.0.0.1:*/callback'];

let database: TestDatabase;
let sandbox: Sandbox;
let slow: Sandbox;
let dir: string;
let quickConfig: string;
let impatientConfig: string;
let patientConfig: string;
let webhookConfig: string;
const encryptionKey = randomBytes(32);
/** Everything every command printed or logged, checked for secrets at the end. */
const printed: string[] = [];
/** Token values TikTok handed out, read back from the store after each connect. */
const tokens = new Set<string>();

async function run(args: string[], browser?: (url: string) => Promise<unknown>): Promise<CliRun> {
  const result = await runCli(args, browser ? { browser } : {});
  printed.push(result.text);
  return result;
}

function useSandbox(target: Sandbox) {
  vi.stubEnv('TIKTOK_API_BASE_URL', target.url);
  vi.stubEnv('TIKTOK_AUTH_BASE_URL', target.consentUrl);
  vi.stubEnv('TIKTOK_CLIENT_KEY', target.clientKey);
  vi.stubEnv('TIKTOK_CLIENT_SECRET', target.clientSecret);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function query<T = Record<string, unknown>>(text: string, values: unknown[] = []): Promise<T[]> {
  return (await database.pool.query(text, values)).rows as T[];
}

/** Decrypts every stored token, so the final check can look for the real values. */
async function collectTokens() {
  const cipher = new TokenCipher(encryptionKey);
  const rows = await query<{
    account_id: string;
    access_token_ciphertext: Buffer | null;
    access_token_nonce: Buffer | null;
    refresh_token_ciphertext: Buffer | null;
    refresh_token_nonce: Buffer | null;
  }>('select * from tiktok_sync.credentials');
  for (const row of rows) {
    for (const kind of ['access_token', 'refresh_token'] as const) {
      const ciphertext = row[`${kind}_ciphertext`];
      const nonce = row[`${kind}_nonce`];
      if (!ciphertext || !nonce) continue;
      const value = cipher.decrypt(ciphertext, nonce, `tiktok_sync.credentials:${row.account_id}:${kind}`);
      expect(ciphertext.toString('latin1')).not.toContain(value.reveal());
      tokens.add(value.reveal());
    }
  }
}

beforeAll(async () => {
  database = await createTestDatabase();
  dir = await mkdtemp(path.join(tmpdir(), 'cli-tiktok-'));
  sandbox = await startSandbox({
    clock: systemClock,
    readyDelayMs: 300,
    redirectUris: REDIRECT_URIS,
    accounts: [{ username: 'ana', scale: 300 }, { username: 'bob' }],
  });
  slow = await startSandbox({
    clock: systemClock,
    readyDelayMs: HOUR,
    redirectUris: REDIRECT_URIS,
    accounts: [{ username: 'cara' }],
    firstRequestId: 8_000_000_000_000_000_001n,
  });
  quickConfig = path.join(dir, 'quick.json');
  await writeFile(
    quickConfig,
    JSON.stringify({ tiktok: { pollInitialSeconds: 0.05, pollMaxSeconds: 0.2, waitSeconds: 20 } }),
  );
  patientConfig = path.join(dir, 'patient.json');
  await writeFile(
    patientConfig,
    JSON.stringify({ tiktok: { pollInitialSeconds: 30, pollMaxSeconds: 60, waitSeconds: 60 } }),
  );
  webhookConfig = path.join(dir, 'webhook.json');
  await writeFile(
    webhookConfig,
    JSON.stringify({ tiktok: { pollInitialSeconds: 600, pollMaxSeconds: 600, waitSeconds: 600 } }),
  );
  impatientConfig = path.join(dir, 'impatient.json');
  await writeFile(
    impatientConfig,
    JSON.stringify({ tiktok: { pollInitialSeconds: 0.05, pollMaxSeconds: 0.1, waitSeconds: 0.3 } }),
  );
  vi.stubEnv('DATABASE_URL', database.url);
  vi.stubEnv('TIKTOK_SYNC_DATA_DIR', dir);
  vi.stubEnv('TIKTOK_SYNC_CONFIG', quickConfig);
  vi.stubEnv('TIKTOK_SYNC_ENCRYPTION_KEY', encryptionKey.toString('base64'));
  vi.stubEnv('TIKTOK_REDIRECT_URI', 'http://127.0.0.1:0/callback/');
  vi.stubEnv('LOG_LEVEL', 'trace');
  useSandbox(sandbox);
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await sandbox?.close();
  await slow?.close();
  await database?.drop();
  await rm(dir, { recursive: true, force: true });
});

describe('tiktok-sync connect', () => {
  it('stores the TikTok user, the granted scopes and encrypted tokens', async () => {
    const result = await run(['connect', '--no-open', '--account', 'ana'], (url) => sandbox.browse(url));
    expect(result.stderr).toEqual([]);
    expect(result.code).toBe(0);
    const openId = sandbox.accounts.get('ana')!.openId;
    expect(result.stdout.join('\n')).toContain(
      `Connected TikTok user \`${openId}\` as account \`ana\` (a new account).`,
    );
    expect(result.stdout.join('\n')).toMatch(/\/v2\/auth\/authorize\/\?client_key=.*code_challenge=/);
    const accounts = await query('select name, open_id from tiktok_sync.accounts');
    expect(accounts).toEqual([{ name: 'ana', open_id: openId }]);
    const [credentials] = await query<{ status: string; scopes: string[]; open_id: string }>(
      'select status, scopes, open_id from tiktok_sync.credentials',
    );
    expect(credentials).toEqual({ status: 'active', scopes: ['portability.all.ongoing'], open_id: openId });
    await collectTokens();
    expect(tokens.size).toBe(2);
    expect(result.logs.join('')).toContain('TikTok account connected');
  });

  it('updates the same account on a second connect of the same TikTok user', async () => {
    const before = await query<{ granted_at: Date }>('select granted_at from tiktok_sync.credentials');
    const again = await run(['connect', '--no-open'], (url) => sandbox.browse(url));
    expect(again.code).toBe(0);
    expect(again.stdout.join('\n')).toMatch(/as account `ana` \(its connection renewed\)/);
    await collectTokens();
    const named = await run(['connect', '--no-open', '--account', 'ana'], (url) => sandbox.browse(url));
    expect(named.code).toBe(0);
    await collectTokens();

    const accounts = await query('select name from tiktok_sync.accounts');
    expect(accounts).toEqual([{ name: 'ana' }]);
    const after = await query<{ granted_at: Date }>('select granted_at from tiktok_sync.credentials');
    expect(after).toHaveLength(1);
    expect(after[0]!.granted_at.getTime()).toBeGreaterThan(before[0]!.granted_at.getTime());

    const other = await run(['connect', '--no-open', '--account', 'other'], (url) => sandbox.browse(url));
    expect(other.code).toBe(1);
    expect(other.stderr.join('\n')).toMatch(/already connected as account `ana`/);
    expect(await query('select name from tiktok_sync.accounts')).toEqual([{ name: 'ana' }]);
  });

  it('names a new account after the open_id when --account is left out', async () => {
    sandbox.consent({ account: 'bob' });
    const result = await run(['connect', '--no-open'], (url) => sandbox.browse(url));
    expect(result.code).toBe(0);
    const openId = sandbox.accounts.get('bob')!.openId;
    expect(result.stdout.join('\n')).toContain(`as account \`${openId}\` (a new account)`);
    await collectTokens();
  });

  it('connects against a local (sandbox) consent page without a browser, on a headless machine', async () => {
    const result = await run(['connect', '--account', 'ana', '--timeout', '10']);
    expect(result.code).toBe(0);
    const text = result.stdout.join('\n');
    expect(text).toContain('The consent page is on this machine (a sandbox): following it directly');
    expect(text).toContain(
      `Connected TikTok user \`${sandbox.accounts.get('ana')!.openId}\` as account \`ana\``,
    );
    // One visit signs in the user asked for, whatever the sandbox would consent as next.
    sandbox.consent({ account: 'ana' });
    const bob = await run(['connect', '--account', 'bob', '--timeout', '10']);
    // bob signed in: connected before under its open_id, so the name `bob` is refused for it.
    expect(bob.stderr.join('\n')).toContain(
      `This TikTok user (open_id \`${sandbox.accounts.get('bob')!.openId}\`) is already connected`,
    );
  });

  it('explains access_denied', async () => {
    sandbox.consent({ deny: true });
    const result = await run(['connect', '--no-open', '--account', 'ana'], (url) => sandbox.browse(url));
    expect(result.code).toBe(1);
    expect(result.stderr.at(-1)).toMatch(/^error: TikTok reported `access_denied`.*declined/);
  });

  it('refuses a callback with another state and explains the timeout', async () => {
    const forge = async (consentUrl: string) => {
      const redirect = new URL(consentUrl).searchParams.get('redirect_uri')!;
      const answer = await fetch(`${redirect}?code=stolen&state=forged`);
      await answer.arrayBuffer();
      return answer.status;
    };
    const result = await run(['connect', '--no-open', '--timeout', '1'], forge);
    expect(result.code).toBe(1);
    const errors = result.stderr.join('\n');
    expect(errors).toMatch(
      /A callback reached http:\/\/127\.0\.0\.1:[1-9]\d*\/callback\/? with a state that does not belong to this login .* refused/,
    );
    expect(result.stderr.at(-1)).toMatch(
      /^error: No answer from TikTok's consent page reached http:\/\/127\.0\.0\.1:\d+\/callback\/? within 1 s.*1 callback\(s\) with a state/,
    );
  });

  it('names the missing setting: client key, client secret, encryption key', async () => {
    vi.stubEnv('TIKTOK_CLIENT_KEY', '');
    const noKey = await run(['connect', '--no-open']);
    expect(noKey.code).toBe(1);
    expect(noKey.stderr.at(-1)).toMatch(/TIKTOK_CLIENT_KEY/);
    useSandbox(sandbox);

    vi.stubEnv('TIKTOK_CLIENT_SECRET', '');
    const noSecret = await run(['connect', '--no-open']);
    expect(noSecret.stderr.at(-1)).toMatch(/TIKTOK_CLIENT_SECRET/);
    useSandbox(sandbox);

    vi.stubEnv('TIKTOK_SYNC_ENCRYPTION_KEY', '');
    const noEncryption = await run(['sync', '--account', 'ana', '--once']);
    expect(noEncryption.code).toBe(1);
    expect(noEncryption.stderr.at(-1)).toMatch(/openssl rand -base64 32.*TIKTOK_SYNC_ENCRYPTION_KEY/);
    vi.stubEnv('TIKTOK_SYNC_ENCRYPTION_KEY', encryptionKey.toString('base64'));
  });
});

describe('tiktok-sync sync and cancel', () => {
  it('imports the account data once and prints progress and the per-table summary', async () => {
    const result = await run(['sync', '--account', 'ana', '--once']);
    expect(result.stderr.filter((line) => line.startsWith('error'))).toEqual([]);
    expect(result.code).toBe(0);
    const progress = result.stderr.join('\n');
    expect(progress).toMatch(/Asked TikTok for the data \(all_data as JSON\): request \d+\./);
    expect(progress).toMatch(/Request \d+ is ready to download/);
    expect(progress).toMatch(/Downloaded [\d,]+ bytes\./);
    const summary = result.stdout.join('\n');
    expect(summary).toMatch(/^Synced account `ana`: request \d+, [\d,]+ bytes \(JSON, 2025 layout/);
    expect(summary).toMatch(/watch_history\s+[1-9]\d*\s+0\s+0\s+0\s+0/);

    const [watched] = await query<{ n: number }>(
      "select count(*)::int as n from tiktok.watch_history w join tiktok.accounts a using (account_id) where a.name = 'ana'",
    );
    expect(watched!.n).toBeGreaterThan(0);
    const requests = await query(
      'select status, run_id is not null as has_run from tiktok_sync.data_requests',
    );
    expect(requests).toEqual([{ status: 'imported', has_run: true }]);
    await collectTokens();
  });

  it('wakes on the webhook for its request when TIKTOK_WEBHOOK_LISTEN is set', async () => {
    const port = await freePort();
    vi.stubEnv('TIKTOK_WEBHOOK_LISTEN', `127.0.0.1:${port}`);
    sandbox.webhooks.setUrl(`http://127.0.0.1:${port}/webhooks/tiktok`);
    try {
      const bob = sandbox.accounts.get('bob')!.openId;
      const started = Date.now();
      // Polling alone would not check again for ten minutes, past the test's timeout: only the
      // webhook can end this sync (a wall-clock bound would also measure how busy the machine is).
      const result = await run(['--config', webhookConfig, 'sync', '--account', bob, '--once']);
      expect(result.stderr.filter((line) => line.startsWith('error'))).toEqual([]);
      expect(result.code).toBe(0);
      expect(Date.now() - started).toBeLessThan(10 * 60_000);
      const progress = result.stderr.join('\n');
      expect(progress).toContain(
        `Listening for TikTok's webhook on http://127.0.0.1:${port}/webhooks/tiktok`,
      );
      expect(progress).toMatch(/TikTok's webhook says request \d+ is ready\./);
      const events = await query(
        'select event, delivery_count, processed_at is not null as processed from tiktok_sync.webhook_events',
      );
      expect(events).toEqual([{ event: 'portability.download.ready', delivery_count: 1, processed: true }]);
      // One Check before the wait and one after the webhook woke it: no polling in between.
      const [checks] = await query<{ n: number }>(
        'select max(check_count)::int as n from tiktok_sync.data_requests where request_id = (select max(request_id) from tiktok_sync.data_requests)',
      );
      expect(checks!.n).toBeLessThanOrEqual(2);
    } finally {
      sandbox.webhooks.setUrl(undefined);
      vi.stubEnv('TIKTOK_WEBHOOK_LISTEN', '');
    }
  });

  it('leaves a request TikTok is still preparing in flight, resumes it, and cancels it', async () => {
    useSandbox(slow);
    try {
      const connected = await run(['connect', '--no-open', '--account', 'cara'], (url) => slow.browse(url));
      expect(connected.code).toBe(0);
      await collectTokens();

      const first = await run(['--config', impatientConfig, 'sync', '--account', 'cara', '--once']);
      expect(first.code).toBe(1);
      const message = first.stderr.at(-1)!;
      const requestId = /still preparing request (\d+) for account `cara`/.exec(message)?.[1];
      expect(requestId).toBeDefined();
      expect(message).toMatch(/the next `tiktok-sync sync --account cara --once` resumes it\.$/);

      const resumed = await run([
        '--config',
        impatientConfig,
        'sync',
        '--account',
        'cara',
        '--once',
        '--resume',
      ]);
      expect(resumed.code).toBe(1);
      expect(resumed.stderr.join('\n')).toContain(`Resuming request ${requestId}`);
      expect(resumed.stderr.at(-1)).toContain(`still preparing request ${requestId}`);
      expect(slow.hits.add).toBe(1);

      const cancelled = await run(['cancel', '--account', 'cara']);
      expect(cancelled.code).toBe(0);
      expect(cancelled.stdout).toEqual([
        `Cancelled request ${requestId} of account \`cara\`; the next sync makes a new one.`,
      ]);
      expect(slow.requests().map((r) => r.status)).toEqual(['cancelled']);
      const [row] = await query('select status from tiktok_sync.data_requests where request_id = $1', [
        requestId,
      ]);
      expect(row).toEqual({ status: 'cancelled' });

      const nothing = await run(['cancel', '--account', 'cara']);
      expect(nothing.stdout).toEqual(['Account `cara` has no data request in flight; nothing to cancel.']);
      const noResume = await run(['sync', '--account', 'cara', '--once', '--resume']);
      expect(noResume.code).toBe(1);
      expect(noResume.stderr.at(-1)).toMatch(/no data request in flight to resume/);
    } finally {
      useSandbox(sandbox);
    }
  });

  it('explains an unknown account, a refused request, a revoked grant and a missing --once', async () => {
    const unknown = await run(['sync', '--account', 'nobody', '--once']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.at(-1)).toMatch(/no account named `nobody`.*tiktok-sync connect --account nobody/);

    // A request TikTok does not know (say, made by another app) is refused with TikTok's log id.
    const bob = sandbox.accounts.get('bob')!.openId;
    await query(
      `insert into tiktok_sync.data_requests (account_id, request_id, status, data_format, categories, added_at)
       select account_id, '123456789', 'pending', 'json', '{all_data}', now() from tiktok_sync.accounts where open_id = $1`,
      [bob],
    );
    const refused = await run(['sync', '--account', bob, '--once']);
    expect(refused.code).toBe(1);
    expect(refused.stderr.join('\n')).toContain('Resuming request 123456789');
    expect(refused.stderr.at(-1)).toMatch(/^error: .*`123456789`.*invalid.*log id \d{14}[0-9A-F]+/);
    const [failed] = await query(
      "select status, error_code from tiktok_sync.data_requests where request_id = '123456789'",
    );
    expect(failed).toEqual({ status: 'failed', error_code: 'invalid_params' });

    await sandbox.faults.onRevoke('ana', 1);
    const revoked = await run(['sync', '--account', 'ana', '--once']);
    expect(revoked.code).toBe(1);
    expect(revoked.stderr.at(-1)).toMatch(
      /invalid_grant.*To connect it again: `tiktok-sync connect --account ana`\.$/,
    );

    const usage = await run(['sync', '--account', 'ana']);
    expect(usage.code).toBe(2);
    expect(usage.stderr.join('\n')).toMatch(/needs --once/);
  });

  it('never prints or logs a token or the client secret', async () => {
    const secrets = [...tokens, sandbox.clientSecret, slow.clientSecret, encryptionKey.toString('base64')];
    expect(tokens.size).toBeGreaterThanOrEqual(8);
    const everything = printed.join('\n');
    expect(everything).toContain('"msg":"TikTok account connected"');
    for (const secret of secrets) expect(everything).not.toContain(secret);
  });
});
