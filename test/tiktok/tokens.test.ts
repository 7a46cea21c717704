import { Writable } from 'node:stream';
import { inspect } from 'node:util';
import type { Kysely } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureAccount } from '../../src/db/accounts.js';
import { ConfigError, type PipelineError, TerminalError } from '../../src/errors.js';
import { createLogger } from '../../src/logger.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import type { SimulatedClock } from '../../src/tiktok/clock.js';
import type { TikTokDatabase, TikTokTables } from '../../src/tiktok/db-types.js';
import { PortabilityClient } from '../../src/tiktok/portability-client.js';
import { parseEncryptionKey, TokenCipher, TokenStore } from '../../src/tiktok/tokens.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { connect, sandboxWith } from './support.js';

const KEY_B64 = Buffer.alloc(32, 7).toString('base64');

let database: TestDatabase;
let sandbox: Sandbox;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.drop();
});
afterEach(async () => {
  await sandbox?.close();
});

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(String(chunk));
      callback();
    },
  });
  return { logger: createLogger({ level: 'trace', destination }), lines };
}

async function connected(name: string, options: { refreshMarginMs?: number } = {}) {
  sandbox = await sandboxWith({ accounts: [{ username: name }] });
  const { tokens, oauth } = await connect(sandbox);
  const db: Kysely<TikTokDatabase> = database.db.withTables<TikTokTables>();
  const accountId = await ensureAccount(database.db, name);
  const { logger, lines } = capture();
  const store = new TokenStore({
    db,
    oauth,
    encryptionKey: parseEncryptionKey(KEY_B64),
    clock: sandbox.clock,
    logger,
    ...options,
  });
  await store.saveGrant(accountId, tokens);
  return { store, tokens, oauth, accountId, db, lines, clock: sandbox.clock as SimulatedClock };
}

describe('tokens', () => {
  it('parses 32-byte keys in base64 and hex and refuses anything else', () => {
    expect(parseEncryptionKey(KEY_B64)).toEqual(Buffer.alloc(32, 7));
    expect(parseEncryptionKey('07'.repeat(32))).toEqual(Buffer.alloc(32, 7));
    expect(parseEncryptionKey(undefined)).toBeUndefined();
    expect(() => parseEncryptionKey('c2hvcnQ=')).toThrow(/openssl rand -base64 32/);
  });

  it('encrypts with AES-256-GCM bound to its row', () => {
    const cipher = new TokenCipher(Buffer.alloc(32, 1));
    const secret = { reveal: () => 'act.secret' } as never;
    const sealed = cipher.encrypt(secret, 'a');
    expect(sealed.nonce).toHaveLength(12);
    expect(sealed.ciphertext.toString('utf8')).not.toContain('act.secret');
    expect(cipher.decrypt(sealed.ciphertext, sealed.nonce, 'a').reveal()).toBe('act.secret');
    expect(() => cipher.decrypt(sealed.ciphertext, sealed.nonce, 'b')).toThrow();
    expect(JSON.stringify({ cipher })).not.toMatch(/\\x01/);
  });

  it('refuses to store tokens without a key and says how to make one', async () => {
    sandbox = await sandboxWith();
    const { tokens, oauth } = await connect(sandbox);
    const db = database.db.withTables<TikTokTables>();
    const accountId = await ensureAccount(database.db, 'nokey');
    const store = new TokenStore({ db, oauth, encryptionKey: undefined, clock: sandbox.clock });
    const error = (await store.saveGrant(accountId, tokens).catch((e: unknown) => e)) as ConfigError;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.code).toBe('encryption_key_missing');
    expect(error.message).toContain('openssl rand -base64 32');
    expect(error.message).toContain('TIKTOK_SYNC_ENCRYPTION_KEY');
  });

  it('stores the grant encrypted and links the account to the open_id', async () => {
    const { store, tokens, accountId } = await connected('ana');
    const row = await database.pool.query(
      `select c.*, a.open_id as account_open_id from tiktok_sync.credentials c join tiktok_sync.accounts a using (account_id) where account_id = $1`,
      [accountId],
    );
    const stored = row.rows[0];
    expect(stored.status).toBe('active');
    expect(stored.account_open_id).toBe(tokens.openId);
    expect(stored.scopes).toEqual(['portability.all.ongoing']);
    const raw = JSON.stringify(stored);
    expect(raw).not.toContain(tokens.accessToken.reveal());
    expect(Buffer.from(stored.access_token_ciphertext).toString('latin1')).not.toContain(
      tokens.accessToken.reveal(),
    );
    expect((await store.accessToken(accountId)).reveal()).toBe(tokens.accessToken.reveal());
    expect(String(store)).toBe('TokenStore');
    expect(inspect(await store.accessToken(accountId))).toBe('[redacted]');
  });

  it('refreshes before the 24 h token expires and persists the rotated refresh token', async () => {
    const { store, tokens, accountId, lines, oauth, clock } = await connected('bo');
    await clock.advance(22 * 3600_000);
    expect((await store.accessToken(accountId)).reveal()).toBe(tokens.accessToken.reveal());
    await clock.advance(1.5 * 3600_000);
    const fresh = await store.accessToken(accountId);
    expect(fresh.reveal()).not.toBe(tokens.accessToken.reveal());
    // The old refresh token was rotated away at the sandbox; the stored one is the new one.
    await expect(oauth.refresh(tokens.refreshToken)).rejects.toMatchObject({ code: 'invalid_grant' });
    const again = await store.refresh(accountId, { rejected: fresh });
    expect(again.reveal()).not.toBe(fresh.reveal());
    const summary = await store.summary(accountId);
    expect(summary?.accessTokenExpiresAt?.getTime()).toBe(clock.now() + 86_400_000);
    const log = lines.join('');
    expect(log).toContain('access token refreshed');
    expect(log).not.toContain(fresh.reveal());
    expect(log).not.toContain(tokens.refreshToken.reveal());
  });

  it('refreshes only once when two callers race', async () => {
    const { store, accountId, clock } = await connected('cy');
    await clock.advance(23.5 * 3600_000);
    const [a, b] = await Promise.all([store.accessToken(accountId), store.accessToken(accountId)]);
    expect(a.reveal()).toBe(b.reveal());
  });

  it('marks the account needs_consent on invalid_grant after the user revoked consent', async () => {
    const { store, accountId, clock } = await connected('dee');
    await sandbox.faults.revokeConsent('dee');
    await clock.advance(23.5 * 3600_000);
    const error = (await store.accessToken(accountId).catch((e: unknown) => e)) as PipelineError;
    expect(error).toBeInstanceOf(TerminalError);
    expect(error.code).toBe('needs_consent');
    expect(error.message).toMatch(/for account `dee` \(invalid_grant\).*tiktok-sync connect --account dee/);
    const summary = await store.summary(accountId);
    expect(summary?.status).toBe('needs_consent');
    expect(summary?.statusReason).toMatch(/invalid_grant/);
    const row = await database.pool.query(
      'select access_token_ciphertext, refresh_token_ciphertext from tiktok_sync.credentials where account_id = $1',
      [accountId],
    );
    expect(row.rows[0]).toEqual({ access_token_ciphertext: null, refresh_token_ciphertext: null });
    await expect(store.accessToken(accountId)).rejects.toMatchObject({ code: 'needs_consent' });
  });

  it('gives the portability client a refreshed token when TikTok rejects the current one', async () => {
    const { store, accountId, db } = await connected('eve');
    // Simulate a token TikTok no longer knows by storing a bogus one.
    const cipher = new TokenCipher(parseEncryptionKey(KEY_B64)!);
    const bogus = cipher.encrypt(
      { reveal: () => 'act.bogus' } as never,
      `tiktok_sync.credentials:${accountId}:access_token`,
    );
    await db
      .updateTable('tiktok_sync.credentials')
      .set({ access_token_ciphertext: bogus.ciphertext, access_token_nonce: bogus.nonce })
      .where('account_id', '=', accountId)
      .execute();
    const client = new PortabilityClient({
      tokens: store.forAccount(accountId),
      endpoints: { apiBaseUrl: sandbox.url },
      clock: sandbox.clock,
    });
    await expect(client.addRequest({ dataFormat: 'json', categories: ['all_data'] })).resolves.toHaveProperty(
      'requestId',
    );
  });

  it('revokes at TikTok and wipes the tokens', async () => {
    const { store, accountId, tokens, oauth } = await connected('fay');
    await store.revoke(accountId);
    expect((await store.summary(accountId))?.status).toBe('revoked');
    await expect(oauth.refresh(tokens.refreshToken)).rejects.toMatchObject({ code: 'invalid_grant' });
  });

  it('tells a wrong encryption key apart from corrupt data', async () => {
    const { accountId, db, oauth } = await connected('gil');
    const other = new TokenStore({ db, oauth, encryptionKey: Buffer.alloc(32, 9), clock: sandbox.clock });
    await expect(other.accessToken(accountId)).rejects.toMatchObject({ code: 'encryption_key_mismatch' });
  });
});
