import type { Kysely } from 'kysely';
import { noteReconsent, type RevokeOutcome } from '../db/forgotten.js';
import { HOUR } from '../duration.js';
import { ConfigError, PipelineError, TerminalError } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import { type Clock, systemClock } from './clock.js';
import type { ConnectedVia, CredentialStatus, CredentialsTable, TikTokDatabase } from './db-types.js';
import type { TokenSet } from './oauth.js';
import type { AccessTokenSource } from './portability-client.js';
import type { Secret } from './secret.js';
import { ENCRYPTION_KEY_ENV, KEY_ADVICE, TokenCipher } from './token-cipher.js';

export { ENCRYPTION_KEY_ENV, parseEncryptionKey, TokenCipher } from './token-cipher.js';

/** The part of {@link OAuthClient} the store needs (tests may pass another). */
export interface TokenEndpoint {
  refresh(refreshToken: Secret, signal?: AbortSignal): Promise<TokenSet>;
  revoke(accessToken: Secret, signal?: AbortSignal): Promise<void>;
}

export interface TokenStoreOptions {
  db: Kysely<TikTokDatabase>;
  oauth: TokenEndpoint;
  /** From {@link parseEncryptionKey}; without it tokens can be neither stored nor read. */
  encryptionKey: Buffer | undefined;
  clock?: Clock;
  logger?: Logger;
  /** Refresh when the access token has less than this left (default 1 h of its 24 h). */
  refreshMarginMs?: number;
}

export interface CredentialSummary {
  accountId: string;
  openId: string;
  status: CredentialStatus;
  statusReason: string | null;
  scopes: string[];
  consumedScopes: string[];
  accessTokenExpiresAt: Date | null;
  refreshTokenExpiresAt: Date | null;
}

/**
 * Stores each account's OAuth grant with the tokens encrypted, hands out a valid access token
 * (refreshing it before it expires, storing the rotated refresh token), and marks the account
 * `needs_consent` when TikTok no longer honours the grant. Refreshes take a row lock, so two
 * processes never spend the same refresh token.
 */
export class TokenStore {
  readonly #db: Kysely<TikTokDatabase>;
  readonly #oauth: TokenEndpoint;
  readonly #cipher: TokenCipher | undefined;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #marginMs: number;

  constructor(options: TokenStoreOptions) {
    this.#db = options.db;
    this.#oauth = options.oauth;
    this.#cipher = options.encryptionKey ? new TokenCipher(options.encryptionKey) : undefined;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger();
    this.#marginMs = options.refreshMarginMs ?? HOUR;
  }

  /**
   * Saves a fresh grant (after the consent flow) and links the account to the TikTok user. With
   * `transaction`, the rows are written in it (the caller commits); otherwise in one of its own.
   */
  async saveGrant(
    accountId: string,
    tokens: TokenSet,
    options: { connectedVia?: ConnectedVia; transaction?: Kysely<TikTokDatabase> } = {},
  ): Promise<void> {
    const cipher = this.#requireCipher();
    const access = cipher.encrypt(tokens.accessToken, context(accountId, 'access_token'));
    const refresh = cipher.encrypt(tokens.refreshToken, context(accountId, 'refresh_token'));
    const now = new Date(this.#clock.now());
    const row = {
      open_id: tokens.openId,
      status: 'active' as const,
      status_reason: null,
      status_changed_at: now,
      scopes: tokens.scopes,
      consumed_scopes: [],
      key_fingerprint: cipher.fingerprint,
      access_token_ciphertext: access.ciphertext,
      access_token_nonce: access.nonce,
      refresh_token_ciphertext: refresh.ciphertext,
      refresh_token_nonce: refresh.nonce,
      access_token_expires_at: new Date(tokens.accessTokenExpiresAt),
      refresh_token_expires_at: new Date(tokens.refreshTokenExpiresAt),
      granted_at: now,
      refreshed_at: null,
      updated_at: now,
      connected_via: options.connectedVia ?? 'connect',
    };
    const write = async (trx: Kysely<TikTokDatabase>) => {
      await trx
        .updateTable('tiktok.accounts')
        .set({ open_id: tokens.openId })
        .where('account_id', '=', accountId)
        .execute();
      await trx
        .insertInto('tiktok_sync.credentials')
        .values({ account_id: accountId, ...row })
        .onConflict((oc) => oc.column('account_id').doUpdateSet(row))
        .execute();
      // A user forgotten before consented again: the tombstone stays and notes when.
      if ((await noteReconsent(trx, tokens.openId, now)) > 0) {
        this.#logger.info({ accountId }, 'a forgotten TikTok user connected again, as a new account');
      }
    };
    try {
      if (options.transaction) await write(options.transaction);
      else await this.#db.transaction().execute(write);
    } catch (error) {
      if ((error as { code?: string }).code === '23505') {
        const other = await this.#db
          .selectFrom('tiktok.accounts')
          .select('name')
          .where('open_id', '=', tokens.openId)
          .executeTakeFirst();
        throw new ConfigError(
          'tiktok_user_already_connected',
          `This TikTok user is already connected as account \`${other?.name ?? '?'}\`; use that account, or remove it first.`,
          { cause: error },
        );
      }
      throw error;
    }
  }

  async summary(accountId: string): Promise<CredentialSummary | undefined> {
    const row = await this.#db
      .selectFrom('tiktok_sync.credentials')
      .selectAll()
      .where('account_id', '=', accountId)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      accountId,
      openId: row.open_id,
      status: row.status,
      statusReason: row.status_reason,
      scopes: row.scopes,
      consumedScopes: row.consumed_scopes,
      accessTokenExpiresAt: row.access_token_expires_at,
      refreshTokenExpiresAt: row.refresh_token_expires_at,
    };
  }

  /** A usable access token, refreshed first when it expires within the margin. */
  async accessToken(accountId: string, signal?: AbortSignal): Promise<Secret> {
    const row = await this.#load(this.#db, accountId);
    const expiresAt = row.access_token_expires_at?.getTime() ?? 0;
    if (expiresAt - this.#clock.now() > this.#marginMs) return this.#decrypt(row, 'access_token');
    return this.refresh(accountId, { signal });
  }

  /**
   * Refreshes the access token under a row lock. With `rejected`, the refresh happens only if the
   * stored token is still the one TikTok rejected (another process may have refreshed meanwhile).
   */
  async refresh(
    accountId: string,
    options: { rejected?: Secret; signal?: AbortSignal } = {},
  ): Promise<Secret> {
    const cipher = this.#requireCipher();
    let failure: unknown;
    const token = await this.#db.transaction().execute(async (trx) => {
      const row = await this.#load(trx, accountId, true);
      const current = this.#decrypt(row, 'access_token');
      const expiresAt = row.access_token_expires_at?.getTime() ?? 0;
      const stillValid = expiresAt - this.#clock.now() > this.#marginMs;
      if (options.rejected ? current.reveal() !== options.rejected.reveal() : stillValid) return current;

      let tokens: TokenSet;
      try {
        tokens = await this.#oauth.refresh(this.#decrypt(row, 'refresh_token'), options.signal);
      } catch (error) {
        if (error instanceof TerminalError && error.code === 'invalid_grant') {
          await this.#setStatus(
            trx,
            accountId,
            'needs_consent',
            'TikTok rejected the refresh token (invalid_grant): the grant was revoked or has expired. Connect the account again.',
            true,
          );
          const named = await trx
            .selectFrom('tiktok.accounts')
            .select('name')
            .where('account_id', '=', accountId)
            .executeTakeFirst();
          const name = named?.name ?? accountId;
          failure = new TerminalError(
            'needs_consent',
            `TikTok no longer accepts the stored grant for account \`${name}\` (invalid_grant); the account is marked needs_consent. Connect it again to resume syncing: \`tiktok-sync connect --account ${name}\`.`,
            { cause: error, details: { accountId, log_id: error.details.log_id } },
          );
          return undefined;
        }
        throw error;
      }
      const access = cipher.encrypt(tokens.accessToken, context(accountId, 'access_token'));
      const refresh = cipher.encrypt(tokens.refreshToken, context(accountId, 'refresh_token'));
      const now = new Date(this.#clock.now());
      await trx
        .updateTable('tiktok_sync.credentials')
        .set({
          access_token_ciphertext: access.ciphertext,
          access_token_nonce: access.nonce,
          refresh_token_ciphertext: refresh.ciphertext,
          refresh_token_nonce: refresh.nonce,
          access_token_expires_at: new Date(tokens.accessTokenExpiresAt),
          refresh_token_expires_at: new Date(tokens.refreshTokenExpiresAt),
          scopes: tokens.scopes.length > 0 ? tokens.scopes : row.scopes,
          key_fingerprint: cipher.fingerprint,
          refreshed_at: now,
          updated_at: now,
        })
        .where('account_id', '=', accountId)
        .execute();
      this.#logger.info(
        {
          accountId,
          accessTokenExpiresAt: new Date(tokens.accessTokenExpiresAt).toISOString(),
          rotated: true,
        },
        'access token refreshed',
      );
      return tokens.accessToken;
    });
    if (failure) throw failure;
    return token!;
  }

  /** The token source a {@link PortabilityClient} uses for one account. */
  forAccount(accountId: string): AccessTokenSource {
    let last: Secret | undefined;
    return {
      accessToken: async (signal) => {
        last = await this.accessToken(accountId, signal);
        return last;
      },
      refreshAccessToken: async (signal) => {
        last = await this.refresh(accountId, { rejected: last, signal });
        return last;
      },
    };
  }

  /** Records that the user must connect again (e.g. a token still invalid after a refresh). */
  async markNeedsConsent(accountId: string, reason: string): Promise<void> {
    await this.#setStatus(this.#db, accountId, 'needs_consent', reason, false);
  }

  /** The user or TikTok removed the authorization (webhook `authorization.removed`); tokens are wiped. */
  async markRevoked(accountId: string, reason: string): Promise<void> {
    await this.#setStatus(this.#db, accountId, 'revoked', reason, true);
  }

  /** Uses up `portability.*.single` scopes after an Add that relied on them. */
  async consumeScopes(accountId: string, scopes: readonly string[]): Promise<void> {
    if (scopes.length === 0) return;
    const row = await this.#load(this.#db, accountId);
    const consumed = [...new Set([...row.consumed_scopes, ...scopes])];
    await this.#db
      .updateTable('tiktok_sync.credentials')
      .set({ consumed_scopes: consumed, updated_at: new Date(this.#clock.now()) })
      .where('account_id', '=', accountId)
      .execute();
  }

  /** Revokes the grant at TikTok and wipes the stored tokens. */
  async revoke(accountId: string, signal?: AbortSignal): Promise<void> {
    await this.#load(this.#db, accountId);
    const revoked = await this.revokeGrant(
      accountId,
      'Disconnected on request; connect the account again to resume syncing.',
      signal,
    );
    if (revoked.error) throw revoked.error;
  }

  /**
   * Revokes the grant at TikTok whatever its status (with a fresh access token when it is active,
   * else the one stored, if any) and wipes the tokens, marking it revoked for `reason`. TikTok's
   * refusals and network failures are returned, not thrown (forgetting goes on without them); a grant
   * TikTok no longer honours (`invalid_grant`) is `already_ended`.
   */
  async revokeGrant(
    accountId: string,
    reason: string,
    signal?: AbortSignal,
  ): Promise<{ outcome: Exclude<RevokeOutcome, 'removed_by_tiktok'>; error?: Error }> {
    const row = await this.#db
      .selectFrom('tiktok_sync.credentials')
      .selectAll()
      .where('account_id', '=', accountId)
      .executeTakeFirst();
    if (!row) return { outcome: 'not_connected' };
    let outcome: 'revoked' | 'already_ended' = 'already_ended';
    try {
      if (row.status === 'active' || row.access_token_ciphertext) {
        const token =
          row.status === 'active'
            ? await this.accessToken(accountId, signal)
            : this.#decrypt(row, 'access_token');
        await this.#oauth.revoke(token, signal);
        outcome = 'revoked';
      }
    } catch (error) {
      const ended = error instanceof PipelineError && ['invalid_grant', 'needs_consent'].includes(error.code);
      if (!ended) return { outcome: 'failed', error: error as Error };
    }
    await this.markRevoked(accountId, reason);
    return { outcome };
  }

  async #setStatus(
    db: Kysely<TikTokDatabase>,
    accountId: string,
    status: CredentialStatus,
    reason: string,
    wipeTokens: boolean,
  ): Promise<void> {
    const now = new Date(this.#clock.now());
    await db
      .updateTable('tiktok_sync.credentials')
      .set({
        status,
        status_reason: reason,
        status_changed_at: now,
        updated_at: now,
        ...(wipeTokens
          ? {
              access_token_ciphertext: null,
              access_token_nonce: null,
              refresh_token_ciphertext: null,
              refresh_token_nonce: null,
            }
          : {}),
      })
      .where('account_id', '=', accountId)
      .execute();
    this.#logger.warn({ accountId, status, reason }, 'TikTok credentials need attention');
  }

  async #load(db: Kysely<TikTokDatabase>, accountId: string, lock = false) {
    let query = db.selectFrom('tiktok_sync.credentials').selectAll().where('account_id', '=', accountId);
    if (lock) query = query.forUpdate();
    const row = await query.executeTakeFirst();
    if (!row) {
      throw new TerminalError(
        'not_connected',
        `Account ${accountId} has no TikTok grant; connect it first (the consent flow stores one).`,
        { details: { accountId } },
      );
    }
    if (row.status !== 'active') {
      throw new TerminalError(
        row.status === 'revoked' ? 'revoked' : 'needs_consent',
        `Account ${accountId} cannot call TikTok: its grant is ${row.status} (${row.status_reason ?? 'no reason recorded'}).`,
        { details: { accountId, status: row.status } },
      );
    }
    return row;
  }

  #decrypt(
    row: Pick<CredentialsTable, 'account_id' | 'key_fingerprint'> &
      Record<`${Kind}_ciphertext` | `${Kind}_nonce`, Buffer | null>,
    kind: Kind,
  ): Secret {
    const cipher = this.#requireCipher();
    const ciphertext = row[`${kind}_ciphertext`];
    const nonce = row[`${kind}_nonce`];
    if (!ciphertext || !nonce) {
      throw new TerminalError(
        'needs_consent',
        `Account ${row.account_id} has no stored ${kind.replace('_', ' ')}; connect it again.`,
      );
    }
    try {
      return cipher.decrypt(ciphertext, nonce, context(row.account_id, kind));
    } catch (error) {
      const wrongKey = row.key_fingerprint !== null && row.key_fingerprint !== cipher.fingerprint;
      throw new ConfigError(
        wrongKey ? 'encryption_key_mismatch' : 'token_decrypt_failed',
        wrongKey
          ? `The tokens of account ${row.account_id} were stored under another encryption key (fingerprint ${row.key_fingerprint}, ours ${cipher.fingerprint}); set ${ENCRYPTION_KEY_ENV} to that key, or connect the account again.`
          : `The stored ${kind.replace('_', ' ')} of account ${row.account_id} does not decrypt (corrupt or tampered); connect the account again.`,
        { cause: error },
      );
    }
  }

  #requireCipher(): TokenCipher {
    if (!this.#cipher) {
      throw new ConfigError(
        'encryption_key_missing',
        `No encryption key is set, so TikTok tokens cannot be stored or read. ${KEY_ADVICE}`,
      );
    }
    return this.#cipher;
  }

  toString(): string {
    return 'TokenStore';
  }

  toJSON(): string {
    return this.toString();
  }
}

type Kind = 'access_token' | 'refresh_token';

function context(accountId: string, kind: Kind): string {
  return `tiktok_sync.credentials:${accountId}:${kind}`;
}
