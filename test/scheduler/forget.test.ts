import { createHash } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { syncAccountNow } from '../../src/db/account-admin.js';
import { openIdHash } from '../../src/db/forgotten.js';
import { createLogger } from '../../src/logger.js';
import type { TikTokTables } from '../../src/tiktok/db-types.js';
import { parseEncryptionKey, TokenCipher, TokenStore } from '../../src/tiktok/tokens.js';
import { runCli } from '../cli/run-cli.js';
import { until } from '../helpers/until.js';
import { zipBytes } from '../helpers/zip.js';
import { connect } from '../tiktok/support.js';
import { createWorld, ENCRYPTION_KEY, MINUTE, step, type TestDaemon, type World } from './support.js';

// The config drops a trailing slash from URLs, so the app registers both forms.
const REDIRECT_URIS = ['http://127.0.0.1:*/callback/', 'http://127.0.0.1:*/callback'];
const WEBHOOK_PATH = '/webhooks/tiktok';

let world: World;
beforeAll(async () => {
  world = await createWorld(['ana', 'bo', 'cy'], { sandbox: { redirectUris: REDIRECT_URIS } });
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await world?.close();
});

/** The CLI against the world's database and config. */
async function cli(
  args: string[],
  browser?: (url: string) => Promise<unknown>,
  overrides: Record<string, string> = {},
) {
  const { file, env } = await world.configFile();
  for (const [name, value] of Object.entries({ ...env, ...overrides })) vi.stubEnv(name, value);
  vi.stubEnv('TIKTOK_REDIRECT_URI', 'http://127.0.0.1:0/callback/');
  return runCli(['--config', file, ...args], browser ? { browser } : {});
}

const query = async <T = Record<string, unknown>>(text: string, values: unknown[] = []) =>
  (await world.database.pool.query(text, values)).rows as T[];

/** Every file under the world's data directory, with its path relative to it (but the configs the tests write). */
async function files(): Promise<string[]> {
  const names = await readdir(world.directory, { recursive: true });
  const out: string[] = [];
  for (const name of names) {
    if (/^config-\d+\.json$/.test(name)) continue;
    if ((await stat(path.join(world.directory, name))).isFile()) out.push(name);
  }
  return out.sort();
}

/** Rows anywhere in the database (every table of every schema) that hold what is looked for. */
async function rowsHolding(look: { accountId: string; runIds: string[]; text: string[] }) {
  const columns = await query<{ schema: string; table: string; column: string }>(
    `select n.nspname as schema, c.relname as table, a.attname as column
       from pg_class c
       join pg_namespace n on n.oid = c.relnamespace
       join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
      where c.relkind in ('r', 'p') and n.nspname not in ('pg_catalog', 'information_schema')
        and n.nspname not like 'pg_toast%'
      order by 1, 2, a.attnum`,
  );
  const found: string[] = [];
  const tables = new Set(columns.map((c) => `"${c.schema}"."${c.table}"`));
  for (const table of tables) {
    for (const needle of look.text) {
      const [row] = await query<{ n: number }>(
        `select count(*)::int as n from ${table} t where strpos(t::text, $1) > 0`,
        [needle],
      );
      if (row!.n > 0) found.push(`${table} holds ${needle.slice(0, 12)}…`);
    }
  }
  for (const { schema, table, column } of columns) {
    const name = `"${schema}"."${table}"`;
    if (column === 'account_id') {
      const [row] = await query<{ n: number }>(
        `select count(*)::int as n from ${name} where account_id::text = $1`,
        [look.accountId],
      );
      if (row!.n > 0) found.push(`${name}.account_id: ${row!.n}`);
    } else if (column.endsWith('run_id') && look.runIds.length > 0) {
      const [row] = await query<{ n: number }>(
        `select count(*)::int as n from ${name} where "${column}"::text = any($1::text[])`,
        [look.runIds],
      );
      if (row!.n > 0) found.push(`${name}.${column}: ${row!.n}`);
    }
  }
  return found;
}

/** The HTTP status TikTok (the sandbox) answers a Check made with this access token. */
async function checkWith(accessToken: string): Promise<number> {
  const response = await fetch(`${world.sandbox.url}/v2/user/data/check/?fields=status`, {
    method: 'POST',
    headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
    body: '{"request_id": 1}',
  });
  await response.arrayBuffer();
  return response.status;
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const brokenZip = (text: string) =>
  zipBytes([{ name: 'user_data_tiktok.json', data: `{"Your Activity": {"Watch History": ${text}` }]);

let daemon: TestDaemon;

/** The lines the daemon logs (JSON), to wait for what it does after it has answered a webhook. */
const logs: string[] = [];
const capturing = () =>
  createLogger({
    level: 'info',
    format: 'json',
    destination: { write: (line: string) => void logs.push(line) },
  });
/** Webhook events the daemon ignored as a forgotten user's so far. */
const ignoredEvents = () =>
  logs.filter((line) => line.includes('webhook event of a forgotten TikTok user ignored')).length;

describe('tiktok-sync forget', () => {
  it('revokes at TikTok, cancels the request in flight, and leaves no row, file or token of the account', async () => {
    const { clock, sandbox } = world;
    const config = await world.config({}, { archive: { retention: '7d' } });
    daemon = await world.daemon(config, { listen: '127.0.0.1:0', logger: capturing() });
    sandbox.webhooks.setUrl(`${daemon.url}${WEBHOOK_PATH}`);
    for (let i = 0; i < 4; i++) await step(clock, [daemon], i === 0 ? 0 : MINUTE);
    const imported = await query<{ name: string }>(
      `select a.name from tiktok_sync.data_requests d join tiktok.accounts a using (account_id)
        where d.status = 'imported' order by 1`,
    );
    expect(imported.map((row) => row.name)).toEqual(['ana', 'bo', 'cy']);
    // A second request for ana, still pending at TikTok.
    await syncAccountNow(world.database.pool, 'ana', clock.now());
    await step(clock, [daemon], 0);
    await sandbox.webhooks.idle();

    const anaId = world.accounts.get('ana')!;
    const boId = world.accounts.get('bo')!;
    const openId = sandbox.accounts.get('ana')!.openId;
    // One failed import of ana's own, and one whose bytes bo's import put aside too.
    const own = await brokenZip('[oops');
    const shared = await brokenZip('{oops');
    await writeFile(path.join(world.directory, 'own.zip'), own);
    await writeFile(path.join(world.directory, 'shared.zip'), shared);
    for (const [file, account] of [
      ['own.zip', 'ana'],
      ['shared.zip', 'ana'],
      ['shared.zip', 'bo'],
    ] as const) {
      const failed = await cli(['import', path.join(world.directory, file), '--account', account]);
      expect(failed.code).toBe(1);
    }
    await world.database.pool.query(
      `insert into tiktok_sync.webhook_events (dedupe_key, event, user_openid, content)
       values ('early', 'authorization.removed', $1, '{"reason": 1}')`,
      [openId],
    );
    // What ana had, to look for afterwards.
    const runIds = (
      await query<{ run_id: string }>(
        'select run_id::text from tiktok_sync.sync_runs where account_id = $1',
        [anaId],
      )
    ).map((row) => row.run_id);
    const requests = await query<{ request_id: string; finished: boolean }>(
      'select request_id, finished_at is not null as finished from tiktok_sync.data_requests where account_id = $1',
      [anaId],
    );
    const inFlight = requests.find((request) => !request.finished)!.request_id;
    const [grant] = await query<{ access_token_ciphertext: Buffer; access_token_nonce: Buffer }>(
      'select access_token_ciphertext, access_token_nonce from tiktok_sync.credentials where account_id = $1',
      [anaId],
    );
    const accessToken = new TokenCipher(parseEncryptionKey(ENCRYPTION_KEY)!)
      .decrypt(
        grant!.access_token_ciphertext,
        grant!.access_token_nonce,
        `tiktok_sync.credentials:${anaId}:access_token`,
      )
      .reveal();
    expect(await checkWith(accessToken)).not.toBe(401);
    const before = await files();
    const anaFiles = before.filter(
      (file) =>
        file.startsWith(`archives/${anaId}/`) ||
        requests.some((request) => file.startsWith(`downloads/tiktok-${request.request_id}-`)) ||
        runIds.some((run) => file.includes(`.run${run}.reason.json`)) ||
        file.startsWith(`quarantine/${sha256(own)}-`),
    );
    expect(anaFiles.filter((file) => file.startsWith('archives/')).length).toBeGreaterThan(0);
    expect(anaFiles.filter((file) => file.startsWith('downloads/')).length).toBeGreaterThan(0);
    expect(anaFiles.filter((file) => file.startsWith('quarantine/'))).toHaveLength(3);
    expect(await rowsHolding({ accountId: anaId, runIds, text: [openId] })).not.toEqual([]);
    const boRows = await rowsHolding({ accountId: boId, runIds: [], text: [] });

    // TikTok's authorization.removed for ana, which the revoke sets off, is held back until after.
    sandbox.webhooks.setUrl(undefined);
    const revokes = sandbox.hits.revoke;
    const refused = await cli(['forget', '--account', 'ana']);
    expect(refused.code).toBe(1);
    expect(refused.stderr.join('\n')).toMatch(/pass --yes to confirm/);
    const forgotten = await cli(['forget', '--account', 'ana', '--yes']);
    expect(forgotten.stderr.filter((line) => /warning|error/.test(line))).toEqual([]);
    expect(forgotten.code).toBe(0);
    const said = forgotten.stdout.join('\n');
    expect(said).toContain(`Cancelled request ${inFlight} at TikTok.`);
    expect(said).toContain("Revoked the account's grant at TikTok.");
    expect(said).toMatch(
      new RegExp(
        `Forgot account \`ana\` \\(account id ${anaId}\\): [\\d,]+ data rows, ${runIds.length} run\\(s\\), \\d+ archive record\\(s\\), ${requests.length} request\\(s\\), [1-9]\\d* webhook event\\(s\\), its tokens and schedule; 1 kept archive\\(s\\), [1-9] download\\(s\\) and 3 quarantined file\\(s\\)\\.`,
      ),
    );
    expect(forgotten.text).not.toContain(openId);

    // At TikTok: the grant revoked (its access token refused), the request cancelled.
    expect(sandbox.hits.revoke).toBe(revokes + 1);
    expect(await checkWith(accessToken)).toBe(401);
    expect(sandbox.requests().find((request) => request.requestId === inFlight)?.status).toBe('cancelled');
    // Nothing of ana in any table of any schema: no id, run, open_id or token; bo untouched.
    expect(await rowsHolding({ accountId: anaId, runIds, text: [openId, accessToken] })).toEqual([
      '"tiktok_sync"."forgotten_accounts".account_id: 1',
    ]);
    expect(await rowsHolding({ accountId: boId, runIds: [], text: [] })).toEqual(boRows);
    expect(await query('select * from tiktok_sync.forgotten_accounts')).toEqual([
      {
        account_id: anaId,
        open_id_hash: openIdHash(openId),
        forgotten_at: expect.any(Date),
        reason: 'requested',
        revoke: 'revoked',
        reconsented_at: null,
      },
    ]);
    // No file of ana: kept archives, downloads, reason files, its own quarantined copy; bo's stay.
    const after = await files();
    expect(after).toEqual(before.filter((file) => !anaFiles.includes(file)));
    expect(
      after.some((file) => file.startsWith(`quarantine/${sha256(shared)}-`) && !file.endsWith('.json')),
    ).toBe(true);
    for (const file of after) {
      const content = await readFile(path.join(world.directory, file));
      expect(content.includes(openId), file).toBe(false);
      expect(content.includes('"account": "ana"'), file).toBe(false);
    }

    // Status does not list it; the metrics count it.
    const status = await cli(['status', '--json']);
    const listed = JSON.parse(status.stdout.join('\n'));
    expect(listed.accounts.map((a: { name: string }) => a.name)).toEqual(['bo', 'cy']);
    expect(listed.sync.map((a: { account: string }) => a.account)).toEqual(['bo', 'cy']);
    const metric = await daemon.metrics.registry.getSingleMetricAsString('tiktok_sync_forgotten_accounts');
    expect(metric).toMatch(/^tiktok_sync_forgotten_accounts\{reason="requested"\} 1$/m);

    // The webhook TikTok sent for the revoke, delivered now, stores nothing.
    const events = await query('select event_id from tiktok_sync.webhook_events order by 1');
    const removal = sandbox.webhooks.deliveries.find(
      (delivery) => delivery.event === 'authorization.removed' && delivery.rawBody.includes(openId),
    )!;
    sandbox.webhooks.setUrl(`${daemon.url}${WEBHOOK_PATH}`);
    const seen = ignoredEvents();
    expect(await sandbox.webhooks.redeliver(removal)).toBe(200);
    // Answered before it is processed: wait until the daemon says it ignored it, then look.
    await until(() => ignoredEvents() > seen, 'the redelivered removal ignored');
    expect(await query('select event_id from tiktok_sync.webhook_events order by 1')).toEqual(events);
    expect(await rowsHolding({ accountId: anaId, runIds, text: [openId] })).toHaveLength(1);

    // Nothing resumes it: no account to sync, and the old account id takes no grant.
    const sync = await cli(['sync', '--account', 'ana', '--once']);
    expect(sync.stderr.at(-1)).toMatch(/no account named `ana`/);
    const { tokens, oauth } = await connect(sandbox, { account: 'ana' });
    const store = new TokenStore({
      db: world.database.db.withTables<TikTokTables>(),
      oauth,
      encryptionKey: parseEncryptionKey(ENCRYPTION_KEY),
      clock,
    });
    await expect(store.saveGrant(anaId, tokens)).rejects.toThrow();
    expect(await rowsHolding({ accountId: anaId, runIds, text: [openId] })).toHaveLength(1);
  });

  it('lets the same TikTok user connect again as a new account, noting the new consent', async () => {
    const { sandbox } = world;
    const anaId = world.accounts.get('ana')!;
    const openId = sandbox.accounts.get('ana')!.openId;
    sandbox.consent({ account: 'ana' });
    const connected = await cli(['connect', '--no-open', '--account', 'ana'], (url) => sandbox.browse(url));
    expect(connected.code).toBe(0);
    expect(connected.stdout.join('\n')).toContain('as account `ana` (a new account)');
    const [account] = await query<{ account_id: string }>(
      "select account_id::text from tiktok.accounts where name = 'ana'",
    );
    expect(Number(account!.account_id)).toBeGreaterThan(Number(anaId));
    const [tombstone] = await query<{ reconsented_at: Date | null }>(
      'select reconsented_at from tiktok_sync.forgotten_accounts where account_id = $1',
      [anaId],
    );
    expect(tombstone!.reconsented_at).toBeInstanceOf(Date);
    // The old grant's removal, delivered again, is about the forgotten grant: still ignored.
    const removal = sandbox.webhooks.deliveries.find(
      (delivery) => delivery.event === 'authorization.removed' && delivery.rawBody.includes(openId),
    )!;
    const seenAgain = ignoredEvents();
    expect(await sandbox.webhooks.redeliver(removal)).toBe(200);
    await until(() => ignoredEvents() > seenAgain, 'the old removal ignored again');
    expect(
      await query("select 1 from tiktok_sync.webhook_events where event = 'authorization.removed'"),
    ).toEqual([]);
    const [grant] = await query<{ status: string }>(
      'select status from tiktok_sync.credentials where account_id = $1',
      [account!.account_id],
    );
    expect(grant!.status).toBe('active');
    await daemon.close();
  });
});

describe('authorization.removed under the forget policy', () => {
  it('forgets the account without revoking, and waits for a daemon still syncing it', async () => {
    const { clock, sandbox } = world;
    const config = await world.config({ onAuthorizationRemoved: 'forget' }, { archive: { retention: '7d' } });
    daemon = await world.daemon(config, { listen: '127.0.0.1:0' });
    sandbox.webhooks.setUrl(`${daemon.url}${WEBHOOK_PATH}`);
    const boId = world.accounts.get('bo')!;
    const cyId = world.accounts.get('cy')!;
    const revokes = sandbox.hits.revoke;
    const tombstone = (accountId: string) =>
      query<{ reason: string; revoke: string }>(
        'select reason, revoke from tiktok_sync.forgotten_accounts where account_id = $1',
        [accountId],
      );

    await sandbox.faults.revokeConsent('bo', 1);
    await sandbox.webhooks.idle();
    await until(async () => (await tombstone(boId)).length > 0, 'bo forgotten');
    expect(await tombstone(boId)).toEqual([{ reason: 'authorization_removed', revoke: 'removed_by_tiktok' }]);
    expect(sandbox.hits.revoke).toBe(revokes);
    expect(
      await rowsHolding({ accountId: boId, runIds: [], text: [sandbox.accounts.get('bo')!.openId] }),
    ).toEqual(['"tiktok_sync"."forgotten_accounts".account_id: 1']);
    const left = await files();
    expect(left.filter((file) => file.startsWith(`archives/${boId}/`))).toEqual([]);
    // The copy bo and ana shared has no reason file left: it is gone too.
    expect(left.filter((file) => file.startsWith('quarantine/'))).toEqual([]);

    // cy is held by another daemon: its grant is marked revoked at once, the forgetting waits.
    await world.database.pool.query(
      `update tiktok_sync.sync_schedule set lease_owner = 'elsewhere', lease_expires_at = $2 where account_id = $1`,
      [cyId, new Date(clock.now() + 10 * MINUTE)],
    );
    await sandbox.faults.revokeConsent('cy', 4);
    await sandbox.webhooks.idle();
    await until(
      async () =>
        (
          await query<{ status: string }>(
            'select status from tiktok_sync.credentials where account_id = $1',
            [cyId],
          )
        )[0]?.status === 'revoked',
      'cy revoked',
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await tombstone(cyId)).toEqual([]);
    expect(
      await query(
        "select processed_at from tiktok_sync.webhook_events where account_id = $1 and event = 'authorization.removed'",
        [cyId],
      ),
    ).toEqual([{ processed_at: null }]);
    await step(clock, [daemon], 11 * MINUTE);
    expect(await tombstone(cyId)).toEqual([{ reason: 'authorization_removed', revoke: 'removed_by_tiktok' }]);
    expect(
      await rowsHolding({ accountId: cyId, runIds: [], text: [sandbox.accounts.get('cy')!.openId] }),
    ).toEqual(['"tiktok_sync"."forgotten_accounts".account_id: 1']);
    const metric = await daemon.metrics.registry.getSingleMetricAsString('tiktok_sync_forgotten_accounts');
    expect(metric).toMatch(/^tiktok_sync_forgotten_accounts\{reason="authorization_removed"\} 2$/m);
    await daemon.close();
  });
});

describe('forget when TikTok cannot help', () => {
  it('reports a revoke TikTok refuses and forgets all the same', async () => {
    const { sandbox } = world;
    const [ana] = await query<{ account_id: string }>(
      "select account_id::text from tiktok.accounts where name = 'ana'",
    );
    sandbox.faults.serverErrors(1, { endpoint: 'revoke' });
    const forgotten = await cli(['forget', '--account', 'ana', '--yes']);
    expect(forgotten.code).toBe(0);
    expect(forgotten.stderr.join('\n')).toMatch(
      /^warning: the grant at TikTok was NOT revoked: Revoking the access token: TikTok reported `server_error` \(Injected server error\.\); TikTok log id \w+\. Its tokens are deleted here/m,
    );
    expect(forgotten.text).not.toMatch(/retried/);
    expect(forgotten.stdout.join('\n')).toMatch(/^Forgot account `ana`/m);
    expect(
      await query('select revoke from tiktok_sync.forgotten_accounts where account_id = $1', [
        ana!.account_id,
      ]),
    ).toEqual([{ revoke: 'failed' }]);
    expect(await rowsHolding({ accountId: ana!.account_id, runIds: [], text: [] })).toEqual([
      '"tiktok_sync"."forgotten_accounts".account_id: 1',
    ]);
  });

  it('forgets an account that only ever had imports, with no TikTok app configured', async () => {
    const sample = path.resolve('samples/TikTok_Data_1764000000.zip');
    expect((await cli(['import', sample, '--account', 'imp'])).code).toBe(0);
    const [imp] = await query<{ account_id: string }>(
      "select account_id::text from tiktok.accounts where name = 'imp'",
    );
    expect((await files()).some((file) => file.startsWith(`archives/${imp!.account_id}/`))).toBe(true);
    const forgotten = await cli(['forget', '--account', 'imp', '--yes'], undefined, {
      TIKTOK_CLIENT_KEY: '',
      TIKTOK_CLIENT_SECRET: '',
      TIKTOK_SYNC_ENCRYPTION_KEY: '',
    });
    expect(forgotten.stderr).toEqual([]);
    expect(forgotten.code).toBe(0);
    expect(forgotten.stdout[0]).toBe(
      'The account was never connected to TikTok (imports only): nothing to revoke.',
    );
    expect(forgotten.stdout[1]).toMatch(/^Forgot account `imp` .* 1 kept archive\(s\), 0 download\(s\)/);
    expect(
      await query(
        'select open_id_hash, reason, revoke from tiktok_sync.forgotten_accounts where account_id = $1',
        [imp!.account_id],
      ),
    ).toEqual([{ open_id_hash: null, reason: 'requested', revoke: 'not_connected' }]);
    expect((await files()).some((file) => file.startsWith(`archives/${imp!.account_id}/`))).toBe(false);
    expect(await rowsHolding({ accountId: imp!.account_id, runIds: [], text: [] })).toEqual([
      '"tiktok_sync"."forgotten_accounts".account_id: 1',
    ]);
    // An import into the same name is a new account with a new id.
    expect((await cli(['import', sample, '--account', 'imp'])).code).toBe(0);
    const [again] = await query<{ account_id: string }>(
      "select account_id::text from tiktok.accounts where name = 'imp'",
    );
    expect(again!.account_id).not.toBe(imp!.account_id);
  });
});
