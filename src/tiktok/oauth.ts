import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { TerminalError, TransientError } from '../errors.js';
import { type Clock, systemClock } from './clock.js';
import { attemptSignal, networkFailure, parseRetryAfter } from './http.js';
import { Secret } from './secret.js';
import { TIKTOK_API_BASE_URL, TIKTOK_AUTH_BASE_URL } from './vocabulary.js';

export {
  PORTABILITY_SCOPES,
  type PortabilityScope,
  TIKTOK_API_BASE_URL,
  TIKTOK_AUTH_BASE_URL,
} from './vocabulary.js';

/**
 * How the PKCE challenge is encoded. TikTok's desktop Login Kit page says hex SHA-256 of the
 * verifier; RFC 7636 says base64url. Which one TikTok accepts for web apps is UNVERIFIED.
 */
export type PkceEncoding = 'hex' | 'base64url';

export interface PkcePair {
  verifier: Secret;
  challenge: string;
  method: 'S256';
}

const VERIFIER_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~';

/** A fresh verifier (64 characters of the RFC 7636 alphabet) and its S256 challenge. */
export function createPkce(encoding: PkceEncoding = 'hex', length = 64): PkcePair {
  const bytes = randomBytes(length);
  let verifier = '';
  // Bytes at or above the largest multiple of the alphabet size are skipped so every character is equally likely.
  const limit = 256 - (256 % VERIFIER_ALPHABET.length);
  for (let i = 0; verifier.length < length; i++) {
    const byte = i < bytes.length ? bytes[i]! : randomBytes(1)[0]!;
    if (byte < limit) verifier += VERIFIER_ALPHABET[byte % VERIFIER_ALPHABET.length];
  }
  return { verifier: new Secret(verifier), challenge: pkceChallenge(verifier, encoding), method: 'S256' };
}

export function pkceChallenge(verifier: string, encoding: PkceEncoding): string {
  return createHash('sha256').update(verifier, 'ascii').digest(encoding);
}

/** What TikTok's token endpoint returned, with the secrets wrapped and the lifetimes made absolute. */
export interface TokenSet {
  accessToken: Secret;
  refreshToken: Secret;
  openId: string;
  /** Granted scopes as TikTok lists them (comma-separated in the reply). */
  scopes: string[];
  /** Milliseconds since epoch, on the client's clock. */
  accessTokenExpiresAt: number;
  refreshTokenExpiresAt: number;
  tokenType: string;
}

export interface OAuthClientOptions {
  clientKey: string;
  clientSecret: string | Secret;
  /** Must equal one of the app's registered redirect URIs exactly. */
  redirectUri: string;
  /** `https://open.tiktokapis.com`, or the sandbox. */
  apiBaseUrl?: string;
  /** `https://www.tiktok.com`, or the sandbox. */
  authBaseUrl?: string;
  pkceEncoding?: PkceEncoding;
  timeoutMs?: number;
  clock?: Clock;
}

export interface AuthorizationRequest {
  /** The consent page to open in the user's browser. */
  url: string;
  /** Check it against the callback's `state` ({@link statesMatch}). */
  state: string;
  /** Send it with the code in {@link OAuthClient.exchangeCode}; never log it. */
  codeVerifier: Secret;
}

const tokenReplySchema = z.object({
  access_token: z.string().min(1),
  refresh_token: z.string().min(1),
  open_id: z.string().min(1),
  scope: z.string(),
  expires_in: z.number().int().positive(),
  refresh_expires_in: z.number().int().positive(),
  token_type: z.string().default('Bearer'),
});

const oauthErrorSchema = z.object({
  error: z.string().min(1),
  error_description: z.string().optional(),
  log_id: z.string().optional(),
});

/** OAuth errors that a retry may fix; every other one needs a human (or a new consent). */
const TRANSIENT_OAUTH_ERRORS = new Set(['server_error', 'temporarily_unavailable']);

/**
 * TikTok Login Kit v2 (docs/tiktok-api.md §2): the consent URL with PKCE and state, the code exchange,
 * refresh and revoke. Token requests are form-encoded and answer flat JSON, or
 * `{error, error_description, log_id}` on failure.
 */
export class OAuthClient {
  readonly clientKey: string;
  readonly redirectUri: string;
  readonly apiBaseUrl: string;
  readonly authBaseUrl: string;
  readonly pkceEncoding: PkceEncoding;
  readonly #clientSecret: Secret;
  readonly #timeoutMs: number;
  readonly #clock: Clock;

  constructor(options: OAuthClientOptions) {
    this.clientKey = options.clientKey;
    this.#clientSecret = Secret.of(options.clientSecret);
    this.redirectUri = options.redirectUri;
    this.apiBaseUrl = trimSlash(options.apiBaseUrl ?? TIKTOK_API_BASE_URL);
    this.authBaseUrl = trimSlash(options.authBaseUrl ?? TIKTOK_AUTH_BASE_URL);
    this.pkceEncoding = options.pkceEncoding ?? 'hex';
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#clock = options.clock ?? systemClock;
  }

  /** The consent URL: `client_key`, comma-separated `scope`, `state`, and the PKCE S256 challenge. */
  createAuthorization(options: {
    scopes: readonly string[];
    state?: string;
    /** Show the consent screen even if the user authorized before (`disable_auto_auth=1`). */
    forceConsent?: boolean;
  }): AuthorizationRequest {
    if (options.scopes.length === 0) {
      throw new TerminalError(
        'oauth_no_scopes',
        'No scopes were given for the consent URL; ask for at least one portability scope.',
      );
    }
    const state = options.state ?? randomBytes(24).toString('base64url');
    const pkce = createPkce(this.pkceEncoding);
    const url = new URL('/v2/auth/authorize/', `${this.authBaseUrl}/`);
    url.searchParams.set('client_key', this.clientKey);
    url.searchParams.set('scope', options.scopes.join(','));
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('redirect_uri', this.redirectUri);
    url.searchParams.set('state', state);
    url.searchParams.set('code_challenge', pkce.challenge);
    url.searchParams.set('code_challenge_method', pkce.method);
    if (options.forceConsent) url.searchParams.set('disable_auto_auth', '1');
    return { url: url.toString(), state, codeVerifier: pkce.verifier };
  }

  /** Exchanges the callback's `code` for tokens (authorization_code grant with the PKCE verifier). */
  async exchangeCode(code: string, codeVerifier: Secret, signal?: AbortSignal): Promise<TokenSet> {
    return this.#tokenRequest(
      'Exchanging the authorization code',
      {
        client_key: this.clientKey,
        client_secret: this.#clientSecret.reveal(),
        code,
        grant_type: 'authorization_code',
        redirect_uri: this.redirectUri,
        code_verifier: codeVerifier.reveal(),
      },
      signal,
    );
  }

  /** A new access token; the reply's refresh token may differ from the one sent and must replace it. */
  async refresh(refreshToken: Secret, signal?: AbortSignal): Promise<TokenSet> {
    return this.#tokenRequest(
      'Refreshing the access token',
      {
        client_key: this.clientKey,
        client_secret: this.#clientSecret.reveal(),
        grant_type: 'refresh_token',
        refresh_token: refreshToken.reveal(),
      },
      signal,
    );
  }

  /** Revokes the user's authorization of this app (their access and refresh tokens stop working). */
  async revoke(accessToken: Secret, signal?: AbortSignal): Promise<void> {
    const what = 'Revoking the access token';
    const response = await this.#post(
      '/v2/oauth/revoke/',
      what,
      {
        client_key: this.clientKey,
        client_secret: this.#clientSecret.reveal(),
        token: accessToken.reveal(),
      },
      signal,
    );
    const text = await response.text().catch(() => '');
    if (response.ok && !hasOAuthError(text)) return;
    throw this.#oauthError(what, response, text);
  }

  async #tokenRequest(
    what: string,
    form: Record<string, string>,
    signal: AbortSignal | undefined,
  ): Promise<TokenSet> {
    const sentAt = this.#clock.now();
    const response = await this.#post('/v2/oauth/token/', what, form, signal);
    const text = await response.text().catch(() => '');
    if (!response.ok || hasOAuthError(text)) throw this.#oauthError(what, response, text);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new TransientError(
        'oauth_bad_reply',
        `${what}: TikTok answered HTTP ${response.status} with a body that is not JSON; it will be retried.`,
      );
    }
    const parsed = tokenReplySchema.safeParse(json);
    if (!parsed.success) {
      const fields = parsed.error.issues.map((issue) => issue.path.join('.')).join(', ');
      throw new TerminalError(
        'oauth_bad_reply',
        `${what}: TikTok's token reply lacks or has invalid fields (${fields}); expected access_token, refresh_token, open_id, scope, expires_in and refresh_expires_in.`,
      );
    }
    const reply = parsed.data;
    return {
      accessToken: new Secret(reply.access_token),
      refreshToken: new Secret(reply.refresh_token),
      openId: reply.open_id,
      scopes: splitScopes(reply.scope),
      // Measured from when the request was sent, so a slow reply never makes us think a token lives longer.
      accessTokenExpiresAt: sentAt + reply.expires_in * 1000,
      refreshTokenExpiresAt: sentAt + reply.refresh_expires_in * 1000,
      tokenType: reply.token_type,
    };
  }

  async #post(path: string, what: string, form: Record<string, string>, signal: AbortSignal | undefined) {
    try {
      return await fetch(`${this.apiBaseUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'cache-control': 'no-cache' },
        body: new URLSearchParams(form).toString(),
        signal: attemptSignal(signal, this.#timeoutMs),
        redirect: 'error',
      });
    } catch (error) {
      throw networkFailure(error, what, signal, this.#timeoutMs);
    }
  }

  #oauthError(what: string, response: Response, text: string): Error {
    let parsedError: z.infer<typeof oauthErrorSchema> | undefined;
    try {
      const result = oauthErrorSchema.safeParse(JSON.parse(text));
      if (result.success) parsedError = result.data;
    } catch {
      // not JSON: fall through to the HTTP status
    }
    const details = { httpStatus: response.status, log_id: parsedError?.log_id };
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), this.#clock.now());
    if (!parsedError) {
      const transient = response.status === 429 || response.status >= 500;
      const message = `${what}: TikTok answered HTTP ${response.status} without an OAuth error body${transient ? '; it will be retried' : ''}.`;
      return transient
        ? new TransientError(
            response.status === 429 ? 'rate_limit_exceeded' : 'oauth_server_error',
            message,
            { details, retryAfterMs },
          )
        : new TerminalError('oauth_http_error', message, { details });
    }
    const description = parsedError.error_description ? ` (${truncate(parsedError.error_description)})` : '';
    const logId = parsedError.log_id ? `; TikTok log id ${parsedError.log_id}` : '';
    if (TRANSIENT_OAUTH_ERRORS.has(parsedError.error) || response.status >= 500 || response.status === 429) {
      return new TransientError(
        parsedError.error,
        `${what}: TikTok reported \`${parsedError.error}\`${description}; it will be retried${logId}.`,
        { details, retryAfterMs },
      );
    }
    const advice =
      parsedError.error === 'invalid_grant'
        ? 'the grant is no longer valid (revoked, expired or already used): the user must connect the account again'
        : parsedError.error === 'invalid_client' || parsedError.error === 'unauthorized_client'
          ? 'check the client key and client secret of the app'
          : 'check the request and the app settings in the TikTok developer portal';
    return new TerminalError(
      parsedError.error,
      `${what}: TikTok reported \`${parsedError.error}\`${description}; ${advice}${logId}.`,
      { details },
    );
  }
}

export function splitScopes(value: string | null | undefined): string[] {
  if (!value) return [];
  return [...new Set(value.split(/[,\s]+/).filter((scope) => scope !== ''))];
}

/** Constant-time comparison of the `state` sent and the one received. */
export function statesMatch(expected: string, received: string | null | undefined): boolean {
  if (typeof received !== 'string') return false;
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(received).digest();
  return timingSafeEqual(a, b) && expected.length === received.length;
}

function hasOAuthError(text: string): boolean {
  // A reply carrying an `error` key is a failure whatever its HTTP status (UNVERIFIED whether TikTok
  // ever answers 200 with one; being strict costs nothing).
  if (!text.includes('"error"')) return false;
  try {
    const json = JSON.parse(text) as { error?: unknown };
    return typeof json.error === 'string' && json.error !== '';
  } catch {
    return false;
  }
}

function truncate(text: string, max = 300): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
