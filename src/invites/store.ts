/**
 * Invite links and the consents started from them, in Postgres (migration 0017). A link's token and
 * a consent's `state` are random and kept only as their SHA-256, so the database alone cannot open a
 * link or forge a callback; the PKCE verifier is encrypted like the tokens.
 */
import { createHash, randomBytes } from 'node:crypto';
import { type Kysely, type Selectable, sql } from 'kysely';
import { DAY } from '../duration.js';
import { ConfigError } from '../errors.js';
import type { InvitesTable, OAuthStatesTable, TikTokDatabase } from '../tiktok/db-types.js';
import { Secret } from '../tiktok/secret.js';
import type { TokenCipher } from '../tiktok/token-cipher.js';

/** Random bytes in an invite token and in a consent's `state` (base64url: 43 characters). */
const RANDOM_BYTES = 32;
const TOKEN_FORM = /^[A-Za-z0-9_-]{43}$/;

/** A new random token (an invite's, or a consent's `state`): 32 bytes, base64url. */
export function newToken(): Secret {
  return new Secret(randomBytes(RANDOM_BYTES).toString('base64url'));
}

/** The SHA-256 under which a token is stored. */
export function tokenHash(token: string | Secret): Buffer {
  return createHash('sha256')
    .update(typeof token === 'string' ? token : token.reveal(), 'utf8')
    .digest();
}

/** Whether a text has the form of a token; anything else cannot be one and is not looked up. */
function looksLikeToken(text: string): boolean {
  return TOKEN_FORM.test(text);
}

/** `<publicUrl>/connect/<token>`. */
export function inviteLink(publicUrl: string, token: Secret): string {
  return `${publicUrl}/connect/${token.reveal()}`;
}

export type InviteState = 'outstanding' | 'used' | 'expired' | 'revoked';

export interface Invite {
  inviteId: string;
  /** The account the consent goes to; null: named after the TikTok user. */
  accountName: string | null;
  note: string | null;
  createdAt: Date;
  expiresAt: Date;
  usedAt: Date | null;
  revokedAt: Date | null;
  /** The account the completed consent created or renewed, and its name now. */
  account: { accountId: string; name: string } | null;
  state: InviteState;
}

function stateOf(row: Pick<InviteRow, 'revoked_at' | 'used_at' | 'expires_at'>, now: number): InviteState {
  if (row.revoked_at) return 'revoked';
  if (row.used_at) return 'used';
  if (row.expires_at.getTime() <= now) return 'expired';
  return 'outstanding';
}

type InviteRow = Selectable<InvitesTable> & { account_current_name: string | null };

function inviteQuery(db: Kysely<TikTokDatabase>) {
  return db
    .selectFrom('tiktok_sync.invites as i')
    .leftJoin('tiktok.accounts as a', 'a.account_id', 'i.account_id')
    .select([
      'i.invite_id',
      'i.token_sha256',
      'i.account_name',
      'i.note',
      'i.created_at',
      'i.expires_at',
      'i.used_at',
      'i.revoked_at',
      'i.account_id',
      'a.name as account_current_name',
    ]);
}

function toInvite(row: InviteRow, now: number): Invite {
  return {
    inviteId: String(row.invite_id),
    accountName: row.account_name,
    note: row.note,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    usedAt: row.used_at,
    revokedAt: row.revoked_at,
    account:
      row.account_id && row.account_current_name
        ? { accountId: String(row.account_id), name: row.account_current_name }
        : null,
    state: stateOf(row, now),
  };
}

export interface NewInvite {
  accountName?: string | undefined;
  note?: string | undefined;
  expiresInMs: number;
  now: number;
}

/** Makes an invite; the token is returned once and never stored. */
export async function createInvite(
  db: Kysely<TikTokDatabase>,
  options: NewInvite,
): Promise<{ invite: Invite; token: Secret }> {
  const token = newToken();
  const row = await db
    .insertInto('tiktok_sync.invites')
    .values({
      token_sha256: tokenHash(token),
      account_name: options.accountName ?? null,
      note: options.note ?? null,
      created_at: new Date(options.now),
      expires_at: new Date(options.now + options.expiresInMs),
    })
    .returning('invite_id')
    .executeTakeFirstOrThrow();
  const invite = await inviteQuery(db).where('i.invite_id', '=', row.invite_id).executeTakeFirstOrThrow();
  return { invite: toInvite(invite, options.now), token };
}

/** Every invite, newest first. */
export async function listInvites(db: Kysely<TikTokDatabase>, now: number): Promise<Invite[]> {
  const rows = await inviteQuery(db).orderBy('i.invite_id', 'desc').execute();
  return rows.map((row) => toInvite(row, now));
}

/** The invite of a link's token, if there is one. */
export async function findInvite(
  db: Kysely<TikTokDatabase>,
  token: string,
  now: number,
): Promise<Invite | undefined> {
  if (!looksLikeToken(token)) return undefined;
  const row = await inviteQuery(db).where('i.token_sha256', '=', tokenHash(token)).executeTakeFirst();
  return row && toInvite(row, now);
}

export async function inviteById(
  db: Kysely<TikTokDatabase>,
  inviteId: string,
  now: number,
): Promise<Invite | undefined> {
  const row = await inviteQuery(db).where('i.invite_id', '=', inviteId).executeTakeFirst();
  return row && toInvite(row, now);
}

/**
 * Withdraws an outstanding or expired invite, named by its number or by its link (or token). A used
 * invite is refused: its account is connected, and the link no longer works anyway.
 */
export async function revokeInvite(db: Kysely<TikTokDatabase>, which: string, now: number): Promise<Invite> {
  const byNumber = /^\d{1,18}$/.test(which);
  const token = which.replace(/\/+$/, '').split('/').at(-1) ?? '';
  const found = byNumber ? await inviteById(db, which, now) : await findInvite(db, token, now);
  if (!found) {
    throw new ConfigError(
      'invite_unknown',
      byNumber
        ? `There is no invite ${which}; \`tiktok-sync invite --list\` lists them.`
        : 'No invite has this link; `tiktok-sync invite --list` lists the invites by number.',
    );
  }
  if (found.state === 'used') {
    throw new ConfigError(
      'invite_used',
      `Invite ${found.inviteId} was used on ${when(found.usedAt!)}${found.account ? ` (account \`${found.account.name}\`)` : ''}; there is nothing to withdraw. To stop syncing that account, pause or delete it.`,
    );
  }
  if (found.state === 'revoked') return found;
  await db
    .updateTable('tiktok_sync.invites')
    .set({ revoked_at: new Date(now) })
    .where('invite_id', '=', found.inviteId)
    .where('used_at', 'is', null)
    .where('revoked_at', 'is', null)
    .execute();
  return (await inviteById(db, found.inviteId, now))!;
}

/** Invites by state, for the metrics and `status`. */
export async function inviteCounts(
  db: Kysely<TikTokDatabase>,
  now: number,
): Promise<Record<InviteState, number>> {
  const rows = await sql<{ state: InviteState; n: number }>`
    select case when revoked_at is not null then 'revoked'
                when used_at is not null then 'used'
                when expires_at <= ${new Date(now)} then 'expired'
                else 'outstanding' end as state,
           count(*)::int as n
      from tiktok_sync.invites group by 1
  `.execute(db);
  const counts: Record<InviteState, number> = { outstanding: 0, used: 0, expired: 0, revoked: 0 };
  for (const row of rows.rows) counts[row.state] = row.n;
  return counts;
}

export interface ConsentStart {
  inviteId: string;
  state: Secret;
  codeVerifier: Secret;
  redirectUri: string;
  scopes: readonly string[];
  /** The daemon serving the page. */
  owner: string;
  now: number;
  ttlMs: number;
}

/** Remembers a consent the invite page started, until TikTok's callback brings its `state` back. */
export async function saveConsentStart(
  db: Kysely<TikTokDatabase>,
  cipher: TokenCipher,
  start: ConsentStart,
): Promise<void> {
  const hash = tokenHash(start.state);
  const verifier = cipher.encrypt(start.codeVerifier, verifierContext(hash));
  await db
    .insertInto('tiktok_sync.oauth_states')
    .values({
      state_sha256: hash,
      invite_id: start.inviteId,
      redirect_uri: start.redirectUri,
      scopes: [...start.scopes],
      verifier_ciphertext: verifier.ciphertext,
      verifier_nonce: verifier.nonce,
      key_fingerprint: cipher.fingerprint,
      started_by: start.owner,
      created_at: new Date(start.now),
      expires_at: new Date(start.now + start.ttlMs),
    })
    .execute();
}

export type TakenConsent =
  | {
      kind: 'taken';
      inviteId: string;
      redirectUri: string;
      scopes: string[];
      /** The daemon that served the invite page. */
      startedBy: string;
      codeVerifier(): Secret;
    }
  | { kind: 'unknown' }
  | { kind: 'used'; usedAt: Date }
  | { kind: 'expired'; expiredAt: Date };

/**
 * Takes the consent a callback's `state` belongs to, once: the first callback to bring it back
 * before it expires gets it, on whichever daemon; every later one (a replay) or a late one is told
 * apart from a `state` that was never handed out.
 */
export async function takeConsent(
  db: Kysely<TikTokDatabase>,
  cipher: TokenCipher,
  state: string,
  options: { owner: string; now: number },
): Promise<TakenConsent> {
  if (!looksLikeToken(state)) return { kind: 'unknown' };
  const hash = tokenHash(state);
  const now = new Date(options.now);
  const taken = await db
    .updateTable('tiktok_sync.oauth_states')
    .set({ used_at: now, used_by: options.owner })
    .where('state_sha256', '=', hash)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .returningAll()
    .executeTakeFirst();
  if (taken) {
    return {
      kind: 'taken',
      inviteId: String(taken.invite_id),
      redirectUri: taken.redirect_uri,
      scopes: taken.scopes,
      startedBy: taken.started_by,
      codeVerifier: () => decryptVerifier(cipher, taken),
    };
  }
  const row = await db
    .selectFrom('tiktok_sync.oauth_states')
    .select(['used_at', 'expires_at'])
    .where('state_sha256', '=', hash)
    .executeTakeFirst();
  if (!row) return { kind: 'unknown' };
  if (row.used_at) return { kind: 'used', usedAt: row.used_at };
  return { kind: 'expired', expiredAt: row.expires_at };
}

/** Forgets consents that ended (or expired) more than a day ago; a replay after that is "unknown". */
export async function sweepConsents(db: Kysely<TikTokDatabase>, now: number): Promise<number> {
  const result = await db
    .deleteFrom('tiktok_sync.oauth_states')
    .where('expires_at', '<', new Date(now - DAY))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

function decryptVerifier(
  cipher: TokenCipher,
  row: Pick<OAuthStatesTable, 'state_sha256' | 'verifier_ciphertext' | 'verifier_nonce' | 'key_fingerprint'>,
): Secret {
  try {
    return cipher.decrypt(row.verifier_ciphertext, row.verifier_nonce, verifierContext(row.state_sha256));
  } catch (error) {
    throw new ConfigError(
      row.key_fingerprint !== cipher.fingerprint ? 'encryption_key_mismatch' : 'verifier_decrypt_failed',
      row.key_fingerprint !== cipher.fingerprint
        ? `The consent was started by a daemon with another encryption key (fingerprint ${row.key_fingerprint}, ours ${cipher.fingerprint}); every daemon must have the same TIKTOK_SYNC_ENCRYPTION_KEY.`
        : 'The stored PKCE verifier of the consent does not decrypt (corrupt or tampered).',
      { cause: error },
    );
  }
}

function verifierContext(stateHash: Buffer): string {
  return `tiktok_sync.oauth_states:${stateHash.toString('hex')}:code_verifier`;
}

/** `2025-11-24 16:00 UTC`. */
export function when(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
