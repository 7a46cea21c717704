import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ensureAccount } from '../../src/db/accounts.js';
import { tokenHash } from '../../src/invites/store.js';
import type { TikTokTables } from '../../src/tiktok/db-types.js';
import { Secret } from '../../src/tiktok/secret.js';
import { TokenStore } from '../../src/tiktok/tokens.js';
import { runCli } from '../cli/run-cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

const PUBLIC_URL = 'https://sync.example.org/tiktok';
const LINK = /^ {2}(https:\/\/sync\.example\.org\/tiktok\/connect\/([A-Za-z0-9_-]{43}))$/;

let database: TestDatabase;
let dir: string;
let withServer: string;
let withoutServer: string;

beforeAll(async () => {
  database = await createTestDatabase();
  dir = await mkdtemp(path.join(tmpdir(), 'invite-cli-'));
  withServer = path.join(dir, 'server.json');
  await writeFile(
    withServer,
    JSON.stringify({
      server: { publicUrl: `${PUBLIC_URL}/`, operatorName: 'Data Lab', operatorContact: 'lab@example.org' },
    }),
  );
  withoutServer = path.join(dir, 'plain.json');
  await writeFile(withoutServer, '{}');
  vi.stubEnv('DATABASE_URL', database.url);
  vi.stubEnv('TIKTOK_SYNC_DATA_DIR', dir);
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await database?.drop();
  await rm(dir, { recursive: true, force: true });
});

const invite = (args: string[], config = withServer) => runCli(['--config', config, 'invite', ...args]);

describe('tiktok-sync invite', () => {
  it('prints a single-use link whose token is stored only as its SHA-256', async () => {
    const made = await invite(['--account', 'ana', '--expires', '2d', '--note', 'for Ana, by mail']);
    expect(made.code).toBe(0);
    expect(made.stdout[0]).toMatch(
      /^Invite \d+, for account `ana`; it expires \d{4}-\d\d-\d\d \d\d:\d\d UTC:$/,
    );
    const [, link, token] = LINK.exec(made.stdout[1]!)!;
    expect(link).toBeDefined();
    expect(made.text).toContain(
      'https://sync.example.org/tiktok/oauth/callback registered as a redirect URI',
    );
    expect(made.logs.join('\n')).not.toContain(token);

    const { rows } = await database.pool.query(
      `select *, expires_at - created_at as lifetime, row_to_json(i)::text as whole from tiktok_sync.invites i`,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ account_name: 'ana', note: 'for Ana, by mail', used_at: null });
    expect(rows[0].lifetime).toMatchObject({ days: 2 });
    expect(rows[0].token_sha256).toEqual(tokenHash(token!));
    expect(rows[0].whole).not.toContain(token);

    const named = await invite([]);
    expect(named.stdout[0]).toMatch(/for a new account named after the TikTok user/);
    expect(LINK.exec(named.stdout[1]!)![2]).not.toBe(token);
  });

  it('lists the invites with their state, and withdraws one by number or by link', async () => {
    const made = await invite(['--note', 'to revoke by link']);
    const link = LINK.exec(made.stdout[1]!)![1]!;
    const listed = await invite(['--list']);
    expect(listed.code).toBe(0);
    expect(listed.stdout.join('\n')).toMatch(/invite\s+state\s+for account\s+note/);
    expect(listed.stdout.join('\n')).toMatch(/outstanding\s+ana\s+for Ana, by mail/);
    expect(listed.stdout.join('\n')).not.toContain(link);

    const byLink = await invite(['--revoke', link]);
    expect(byLink.code).toBe(0);
    expect(byLink.stdout[0]).toMatch(/^Invite \d+ is withdrawn \(since .* UTC\): its link now shows/);
    const first = (await database.pool.query(`select min(invite_id)::text as id from tiktok_sync.invites`))
      .rows[0].id;
    expect((await invite(['--revoke', first])).code).toBe(0);
    const after = (await invite(['--list'])).stdout.join('\n');
    expect(after.match(/revoked/g)).toHaveLength(2);
    expect(after).toMatch(/withdrawn \d{4}-/);

    await database.pool.query(
      `update tiktok_sync.invites set used_at = now() where revoked_at is null and used_at is null`,
    );
    const used = (
      await database.pool.query(
        `select max(invite_id)::text as id from tiktok_sync.invites where used_at is not null`,
      )
    ).rows[0].id;
    const refused = await invite(['--revoke', used]);
    expect(refused.code).toBe(1);
    expect(refused.stderr.join('\n')).toMatch(/was used on .*; there is nothing to withdraw/);
    const unknown = await invite(['--revoke', `${PUBLIC_URL}/connect/${'x'.repeat(43)}`]);
    expect(unknown.stderr.join('\n')).toMatch(/No invite has this link/);
    expect(unknown.stderr.join('\n')).not.toContain('x'.repeat(43));
    expect((await invite(['--revoke', '99999'])).stderr.join('\n')).toMatch(/There is no invite 99999/);
  });

  it('says what is missing or wrong before touching the database', async () => {
    const noUrl = await invite([], withoutServer);
    expect(noUrl.code).toBe(1);
    expect(noUrl.stderr.join('\n')).toMatch(/Invite links need server\.publicUrl .*TIKTOK_SYNC_PUBLIC_URL/);
    expect((await invite(['--list'], withoutServer)).code).toBe(0);
    expect((await invite(['--account', 'bad name'])).stderr.join('\n')).toMatch(/Account name `bad name`/);
    expect((await invite(['--expires', '10s'])).stderr.join('\n')).toMatch(
      /--expires must be from 1m to 365d/,
    );
    expect((await invite(['--expires', 'soon'])).code).toBe(2);
    expect((await invite(['--list', '--revoke', '1'])).stderr.join('\n')).toMatch(/give one of these/);
    expect((await invite(['--list', '--account', 'ana'])).code).toBe(1);
  });
});

describe('tiktok-sync status', () => {
  it('shows how each account was connected, and the invites by state', async () => {
    const key = randomBytes(32);
    vi.stubEnv('TIKTOK_SYNC_ENCRYPTION_KEY', key.toString('base64'));
    const store = new TokenStore({
      db: database.db.withTables<TikTokTables>(),
      oauth: { refresh: async () => Promise.reject(new Error('unused')) } as never,
      encryptionKey: key,
    });
    const grant = (openId: string) => ({
      accessToken: new Secret(`act.${openId}`),
      refreshToken: new Secret(`rft.${openId}`),
      openId,
      scopes: ['portability.all.ongoing'],
      accessTokenExpiresAt: Date.now() + 86_400_000,
      refreshTokenExpiresAt: Date.now() + 365 * 86_400_000,
      tokenType: 'Bearer',
    });
    await store.saveGrant(await ensureAccount(database.db, 'by-connect'), grant('open-1'));
    await store.saveGrant(await ensureAccount(database.db, 'by-invite'), grant('open-2'), {
      connectedVia: 'invite',
    });
    await ensureAccount(database.db, 'by-import');

    const status = await runCli(['--config', withoutServer, 'status']);
    expect(status.code).toBe(0);
    const text = status.stdout.join('\n');
    expect(text).toMatch(/name\s+id\s+connected\s+archives/);
    expect(text).toMatch(/by-connect\s+\d+\s+connect\s+0\s+never/);
    expect(text).toMatch(/by-invite\s+\d+\s+invite link\s+0\s+never/);
    expect(text).toMatch(/by-import\s+\d+\s+imported only\s+0\s+never/);
    expect(text).toContain('Connected through an invite link: 1; with `connect`: 1; imported only: 1.');
    expect(text).toMatch(
      /Invites: \d+ outstanding, 1 used, \d+ expired, 2 withdrawn \(`tiktok-sync invite --list`\)\./,
    );

    const json = JSON.parse(
      (await runCli(['--config', withoutServer, 'status', '--json'])).stdout.join('\n'),
    );
    expect(
      Object.fromEntries(
        json.accounts.map((a: { name: string; connected_via: string }) => [a.name, a.connected_via]),
      ),
    ).toEqual({
      'by-connect': 'connect',
      'by-import': null,
      'by-invite': 'invite',
    });
    expect(json.invites).toMatchObject({ used: 1, revoked: 2 });
  });
});
