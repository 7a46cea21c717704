import { createHash, randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { consentScreen } from './consent-screen.js';
import { MINUTE, type SandboxContext, SECOND } from './context.js';
import type { ConsentDecision } from './options.js';
import { oauthError, send } from './replies.js';
import { type Grant, SCOPES } from './state.js';
import { sendEvent } from './webhooks.js';

const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

/**
 * The consent page (docs/tiktok-api.md §2.1): checks the client and redirect URI, then redirects back
 * with `code` and `scopes` (or `error`) and `state`. A browser (a request that accepts `text/html`)
 * gets a screen on which the person picks who signs in, which of the scopes to grant, and Authorize
 * or Cancel; a program gets the answer at once, as the next queued consent decision says.
 */
export function authorize(ctx: SandboxContext, url: URL, accept: string, response: ServerResponse): void {
  const { settings, state: sandbox, clock } = ctx;
  const q = url.searchParams;
  const redirectUri = q.get('redirect_uri') ?? '';
  if (q.get('client_key') !== settings.clientKey) {
    send(response, 400, 'client_key is missing or unknown.', { 'content-type': 'text/plain' });
    return;
  }
  if (!settings.redirectUris.some((pattern) => redirectMatches(pattern, redirectUri))) {
    send(response, 400, 'redirect_uri does not match a registered redirect URI.', {
      'content-type': 'text/plain',
    });
    return;
  }
  const state = q.get('state');
  const back = (params: Record<string, string>) => {
    const target = new URL(redirectUri);
    for (const [key, value] of Object.entries(params)) target.searchParams.set(key, value);
    if (state !== null) target.searchParams.set('state', state);
    response.writeHead(302, { location: target.toString() });
    response.end();
  };
  if (q.get('response_type') !== 'code') {
    back({ error: 'unsupported_response_type', error_description: 'response_type must be code.' });
    return;
  }
  const requested = (q.get('scope') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = requested.filter(
    (scope) => !(SCOPES as readonly string[]).includes(scope) && scope !== 'user.info.basic',
  );
  if (requested.length === 0 || unknown.length > 0) {
    back({
      error: 'invalid_scope',
      error_description: `Unknown or missing scope: ${unknown.join(',') || '(none)'}.`,
    });
    return;
  }
  const challenge = q.get('code_challenge') ?? undefined;
  if (settings.requirePkce && (!challenge || q.get('code_challenge_method') !== 'S256')) {
    back({
      error: 'invalid_request',
      error_description: 'code_challenge and code_challenge_method=S256 are required.',
    });
    return;
  }
  // The screen's buttons send the person's choice back to this page as `sandbox_decision`.
  const choice = q.get('sandbox_decision');
  if (choice === null && accept.includes('text/html')) {
    send(response, 200, consentScreen(url, [...sandbox.accounts.keys()], requested), {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
    });
    return;
  }
  const decision: ConsentDecision =
    choice === null
      ? (sandbox.consentQueue.shift() ?? {})
      : { deny: choice !== 'allow', grant: q.getAll('sandbox_scope') };
  if (decision.deny) {
    back({ error: 'access_denied', error_description: 'The user denied the authorization.' });
    return;
  }
  // Who signs in: on TikTok's page the person chooses; here a sandbox-only `sandbox_user` parameter
  // (the screen's choice, or set by `tiktok-sync connect --account <name>` when it follows a local
  // page) or the queued decision chooses, else the first user.
  const asked = q.get('sandbox_user');
  const account =
    (asked ? sandbox.accounts.get(asked) : undefined) ??
    (decision.account ? sandbox.accounts.get(decision.account) : sandbox.accounts.values().next().value);
  if (!account) {
    back({ error: 'server_error', error_description: 'No such sandbox user.' });
    return;
  }
  const granted = (decision.grant ?? requested).filter(
    (scope) => requested.includes(scope) && (!account.grants || account.grants.includes(scope)),
  );
  if (granted.length === 0) {
    back({ error: 'access_denied', error_description: 'The user granted none of the requested scopes.' });
    return;
  }
  const code = randomBytes(24).toString('base64url');
  sandbox.codes.set(code, {
    account,
    scopes: granted,
    redirectUri,
    challenge,
    expiresAt: clock.now() + 10 * MINUTE,
    used: false,
  });
  back({ code, scopes: granted.join(',') });
}

/**
 * The token endpoint (docs/tiktok-api.md §2.2): `authorization_code` with the PKCE verifier, or
 * `refresh_token`, which hands out a new refresh token when rotation is on.
 */
export function token(
  ctx: SandboxContext,
  form: URLSearchParams,
  contentType: string,
  response: ServerResponse,
): void {
  const { settings, state, clock } = ctx;
  if (!contentType.includes('application/x-www-form-urlencoded')) {
    oauthError(
      response,
      clock.now(),
      400,
      'invalid_request',
      'Content-Type must be application/x-www-form-urlencoded.',
    );
    return;
  }
  if (form.get('client_key') !== settings.clientKey || form.get('client_secret') !== settings.clientSecret) {
    oauthError(response, clock.now(), 401, 'invalid_client', 'Client key or secret is invalid.');
    return;
  }
  const grantType = form.get('grant_type');
  if (grantType === 'authorization_code') {
    const code = state.codes.get(form.get('code') ?? '');
    if (!code || code.used || code.expiresAt <= clock.now()) {
      oauthError(
        response,
        clock.now(),
        400,
        'invalid_grant',
        'Authorization code is expired, already used or unknown.',
      );
      return;
    }
    if (form.get('redirect_uri') !== code.redirectUri) {
      oauthError(
        response,
        clock.now(),
        400,
        'invalid_grant',
        'redirect_uri does not match the one of the authorization request.',
      );
      return;
    }
    const verifier = form.get('code_verifier');
    if (code.challenge !== undefined || settings.requirePkce) {
      if (!verifier || !VERIFIER.test(verifier)) {
        oauthError(response, clock.now(), 400, 'invalid_request', 'code_verifier is missing or malformed.');
        return;
      }
      const digest = createHash('sha256').update(verifier).digest();
      const accepted =
        settings.pkceEncoding === 'either'
          ? [digest.toString('hex'), digest.toString('base64url')]
          : [digest.toString(settings.pkceEncoding)];
      if (!code.challenge || !accepted.includes(code.challenge)) {
        oauthError(
          response,
          clock.now(),
          400,
          'invalid_grant',
          'code_verifier does not match the code_challenge.',
        );
        return;
      }
    }
    code.used = true;
    const grant: Grant = {
      id: state.grants.length + 1,
      account: code.account,
      scopes: new Set(code.scopes),
      consumed: new Set(),
      revoked: false,
      refreshToken: `rft.${randomBytes(24).toString('base64url')}`,
      refreshExpiresAt: clock.now() + settings.refreshTtlSeconds * SECOND,
    };
    state.grants.push(grant);
    state.refreshTokens.set(grant.refreshToken, grant);
    send(response, 200, JSON.stringify(issueTokens(ctx, grant)), {
      'content-type': 'application/json; charset=utf-8',
    });
    return;
  }
  if (grantType === 'refresh_token') {
    const grant = state.refreshTokens.get(form.get('refresh_token') ?? '');
    if (!grant || grant.revoked || grant.refreshExpiresAt <= clock.now()) {
      oauthError(response, clock.now(), 400, 'invalid_grant', 'Refresh token is invalid or expired.');
      return;
    }
    if (settings.rotateRefreshTokens) {
      state.refreshTokens.delete(grant.refreshToken);
      grant.refreshToken = `rft.${randomBytes(24).toString('base64url')}`;
      state.refreshTokens.set(grant.refreshToken, grant);
    }
    send(response, 200, JSON.stringify(issueTokens(ctx, grant)), {
      'content-type': 'application/json; charset=utf-8',
    });
    return;
  }
  oauthError(
    response,
    clock.now(),
    400,
    'unsupported_grant_type',
    `grant_type \`${grantType ?? ''}\` is not supported.`,
  );
}

/** The revoke endpoint (docs/tiktok-api.md §2.3): either token of a grant ends the whole grant. */
export async function revoke(
  ctx: SandboxContext,
  form: URLSearchParams,
  response: ServerResponse,
): Promise<void> {
  const { settings, state, clock } = ctx;
  if (form.get('client_key') !== settings.clientKey || form.get('client_secret') !== settings.clientSecret) {
    oauthError(response, clock.now(), 401, 'invalid_client', 'Client key or secret is invalid.');
    return;
  }
  const value = form.get('token') ?? '';
  const grant = state.accessTokens.get(value)?.grant ?? state.refreshTokens.get(value);
  if (!grant) {
    oauthError(response, clock.now(), 400, 'invalid_request', 'token is missing or unknown.');
    return;
  }
  await revokeGrant(ctx, grant, 5);
  send(response, 200, '', {});
}

/** Ends a grant: its tokens stop working and `authorization.removed` is sent (if enabled). */
export async function revokeGrant(ctx: SandboxContext, grant: Grant, reason: number): Promise<void> {
  const { state } = ctx;
  if (grant.revoked) return;
  grant.revoked = true;
  state.refreshTokens.delete(grant.refreshToken);
  for (const [token, issued] of state.accessTokens)
    if (issued.grant === grant) state.accessTokens.delete(token);
  if (ctx.settings.authorizationRemovedEvent) {
    sendEvent(
      ctx.webhooks,
      ctx.settings.clientKey,
      ctx.clock.now(),
      'authorization.removed',
      grant.account,
      { reason },
      true,
    );
  }
}

function issueTokens(ctx: SandboxContext, grant: Grant) {
  const { settings, clock } = ctx;
  const accessToken = `act.${randomBytes(24).toString('base64url')}`;
  ctx.state.accessTokens.set(accessToken, {
    grant,
    expiresAt: clock.now() + settings.accessTtlSeconds * SECOND,
  });
  return {
    access_token: accessToken,
    expires_in: settings.accessTtlSeconds,
    open_id: grant.account.openId,
    refresh_expires_in: Math.max(1, Math.floor((grant.refreshExpiresAt - clock.now()) / SECOND)),
    refresh_token: grant.refreshToken,
    scope: [...grant.scopes].join(','),
    token_type: 'Bearer',
  };
}

/** A registered redirect URI matches exactly, or with `:*` standing for any port (desktop apps). */
function redirectMatches(pattern: string, uri: string): boolean {
  if (pattern === uri) return true;
  if (!pattern.includes(':*')) return false;
  try {
    const target = new URL(uri);
    const [before, after] = pattern.split(':*') as [string, string];
    return (
      `${target.protocol}//${target.hostname}` === before &&
      target.pathname + target.search === after &&
      target.port !== ''
    );
  } catch {
    return false;
  }
}
