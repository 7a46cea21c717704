import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { type PipelineError, TerminalError } from '../../src/errors.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import { createPkce, pkceChallenge } from '../../src/tiktok/oauth.js';
import { listenForRedirect } from '../../src/tiktok/redirect-listener.js';
import { ALL_ONGOING, connect, oauthFor, sandboxWith } from './support.js';

let sandbox: Sandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

describe('oauth', () => {
  it('builds the consent URL with client_key, comma-separated scopes, state and a hex S256 challenge', () => {
    const oauth = oauthForStub();
    const auth = oauth.createAuthorization({
      scopes: ['portability.all.ongoing', 'portability.activity.single'],
      state: 'xyz',
    });
    const url = new URL(auth.url);
    expect(url.origin + url.pathname).toBe('https://www.tiktok.com/v2/auth/authorize/');
    expect(url.searchParams.get('client_key')).toBe('ck');
    expect(url.searchParams.get('scope')).toBe('portability.all.ongoing,portability.activity.single');
    expect(url.searchParams.get('response_type')).toBe('code');
    expect(url.searchParams.get('state')).toBe('xyz');
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('code_challenge')).toBe(pkceChallenge(auth.codeVerifier.reveal(), 'hex'));
    expect(url.searchParams.get('code_challenge')).toMatch(/^[0-9a-f]{64}$/);
    expect(auth.url).not.toContain(auth.codeVerifier.reveal());
  });

  it('makes RFC 7636 verifiers and encodes the challenge as configured', () => {
    const pair = createPkce('base64url');
    expect(pair.verifier.reveal()).toMatch(/^[A-Za-z0-9\-._~]{43,128}$/);
    expect(pair.challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(String(pair.verifier)).toBe('[redacted]');
    expect(JSON.stringify({ pair })).not.toContain(pair.verifier.reveal());
  });

  it('connects through consent, state check and PKCE code exchange', async () => {
    sandbox = await sandboxWith();
    const { tokens } = await connect(sandbox);
    expect(tokens.accessToken.reveal()).toMatch(/^act\./);
    expect(tokens.refreshToken.reveal()).toMatch(/^rft\./);
    expect(tokens.scopes).toEqual(ALL_ONGOING);
    expect(tokens.openId).toBe(sandbox.accounts.get('sandbox.user')!.openId);
    expect(tokens.accessTokenExpiresAt - sandbox.clock.now()).toBe(86_400_000);
    expect(tokens.refreshTokenExpiresAt - sandbox.clock.now()).toBe(31_536_000_000);
    expect(JSON.stringify(tokens)).not.toContain(tokens.accessToken.reveal());
    expect(`${tokens.refreshToken}`).toBe('[redacted]');
    const client = oauthFor(sandbox);
    expect(JSON.stringify(client)).not.toContain(sandbox.clientSecret);
    expect(inspect(client)).not.toContain(sandbox.clientSecret);
  });

  it('reports only the scopes the user granted', async () => {
    sandbox = await sandboxWith();
    const { tokens } = await connect(sandbox, {
      scopes: ['portability.activity.ongoing', 'portability.directmessages.ongoing'],
      grant: ['portability.activity.ongoing'],
    });
    expect(tokens.scopes).toEqual(['portability.activity.ongoing']);
  });

  it('refuses a callback with another state and keeps waiting for the right one', async () => {
    const controller = new AbortController();
    const listener = await listenForRedirect({ expectedState: 'good', signal: controller.signal });
    const forged = await fetch(`${listener.redirectUri}?code=stolen&state=bad`);
    expect(forged.status).toBe(400);
    const real = fetch(`${listener.redirectUri}?code=abc&scopes=portability.all.ongoing&state=good`);
    const result = await listener.result;
    expect(result).toEqual({
      ok: true,
      code: 'abc',
      scopes: ['portability.all.ongoing'],
      state: 'good',
      reply: expect.any(Function),
    });
    // The browser waits until the code is exchanged, and hears how it went.
    if (result.ok) result.reply({ connected: true, text: 'connected as ana' });
    const page = await real;
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('connected as ana');
  });

  it('tells the browser when the connection could not be completed, and answers it when closed', async () => {
    const failing = await listenForRedirect({ expectedState: 'x' });
    const page = fetch(`${failing.redirectUri}?code=abc&state=x`);
    const result = await failing.result;
    if (result.ok) result.reply({ connected: false, text: 'could not complete' });
    expect((await page).status).toBe(502);

    const abandoned = await listenForRedirect({ expectedState: 'y' });
    const waiting = fetch(`${abandoned.redirectUri}?code=abc&state=y`);
    await abandoned.result;
    await abandoned.close();
    expect(await (await waiting).text()).toContain('the terminal says how');
  });

  it('receives access_denied when the user declines', async () => {
    sandbox = await sandboxWith();
    const listener = await listenForRedirect({ expectedState: 's1' });
    const oauth = oauthFor(sandbox, listener.redirectUri);
    sandbox.consent({ deny: true });
    const browsing = sandbox.browse(oauth.createAuthorization({ scopes: ALL_ONGOING, state: 's1' }).url);
    const result = await listener.result;
    await browsing;
    expect(result.ok).toBe(false);
    expect(result.ok === false && result.error).toBe('access_denied');
  });

  it('fails the exchange with invalid_grant when the challenge was encoded differently', async () => {
    sandbox = await sandboxWith({ pkceEncoding: 'hex' });
    const listener = await listenForRedirect({ expectedState: 's2' });
    const oauth = oauthFor(sandbox, listener.redirectUri, 'base64url');
    const auth = oauth.createAuthorization({ scopes: ALL_ONGOING, state: 's2' });
    const browsing = sandbox.browse(auth.url);
    const result = await listener.result;
    if (!result.ok) throw new Error('expected a code');
    result.reply({ connected: true, text: 'done' });
    await browsing;
    const error = await oauth.exchangeCode(result.code, auth.codeVerifier).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TerminalError);
    expect((error as PipelineError).code).toBe('invalid_grant');
    expect((error as PipelineError).details.log_id).toMatch(/^\d{14}[0-9A-F]+$/);
  });

  it('accepts base64url challenges when both sides use them', async () => {
    sandbox = await sandboxWith({ pkceEncoding: 'base64url' });
    const listener = await listenForRedirect({ expectedState: 's3' });
    const oauth = oauthFor(sandbox, listener.redirectUri, 'base64url');
    const auth = oauth.createAuthorization({ scopes: ALL_ONGOING, state: 's3' });
    const browsing = sandbox.browse(auth.url);
    const result = await listener.result;
    if (!result.ok) throw new Error('expected a code');
    result.reply({ connected: true, text: 'done' });
    await browsing;
    await expect(oauth.exchangeCode(result.code, auth.codeVerifier)).resolves.toHaveProperty('openId');
  });

  it('refuses a code used twice and a wrong client secret', async () => {
    sandbox = await sandboxWith();
    const listener = await listenForRedirect({ expectedState: 's4' });
    const oauth = oauthFor(sandbox, listener.redirectUri);
    const auth = oauth.createAuthorization({ scopes: ALL_ONGOING, state: 's4' });
    const browsing = sandbox.browse(auth.url);
    const result = await listener.result;
    if (!result.ok) throw new Error('expected a code');
    result.reply({ connected: true, text: 'done' });
    await browsing;
    await oauth.exchangeCode(result.code, auth.codeVerifier);
    await expect(oauth.exchangeCode(result.code, auth.codeVerifier)).rejects.toMatchObject({
      code: 'invalid_grant',
    });

    const wrong = new (oauth.constructor as typeof import('../../src/tiktok/oauth.js').OAuthClient)({
      clientKey: sandbox.clientKey,
      clientSecret: 'not-the-secret',
      redirectUri: listener.redirectUri,
      apiBaseUrl: sandbox.url,
    });
    const error = (await wrong.refresh(auth.codeVerifier).catch((e: unknown) => e)) as PipelineError;
    expect(error.code).toBe('invalid_client');
    expect(error.message).not.toContain('not-the-secret');
  });

  it('refreshes with a rotated refresh token and refuses the old one', async () => {
    sandbox = await sandboxWith();
    const { tokens, oauth } = await connect(sandbox);
    const next = await oauth.refresh(tokens.refreshToken);
    expect(next.refreshToken.reveal()).not.toBe(tokens.refreshToken.reveal());
    expect(next.accessToken.reveal()).not.toBe(tokens.accessToken.reveal());
    await expect(oauth.refresh(tokens.refreshToken)).rejects.toMatchObject({ code: 'invalid_grant' });
  });

  it('revokes: the refresh token stops working', async () => {
    sandbox = await sandboxWith();
    const { tokens, oauth } = await connect(sandbox);
    await oauth.revoke(tokens.accessToken);
    const error = (await oauth.refresh(tokens.refreshToken).catch((e: unknown) => e)) as PipelineError;
    expect(error).toBeInstanceOf(TerminalError);
    expect(error.code).toBe('invalid_grant');
    expect(error.message).toMatch(/connect the account again/);
  });

  it('maps server_error to a transient failure', async () => {
    sandbox = await sandboxWith();
    const { tokens, oauth } = await connect(sandbox);
    sandbox.faults.serverErrors(1, { endpoint: 'token', status: 503 });
    await expect(oauth.refresh(tokens.refreshToken)).rejects.toMatchObject({
      name: 'TransientError',
      code: 'server_error',
    });
  });
});

function oauthForStub() {
  const fake = {
    clientKey: 'ck',
    clientSecret: 'cs',
    url: 'https://open.tiktokapis.com',
    consentUrl: 'https://www.tiktok.com',
  };
  return oauthFor(fake as unknown as Sandbox, 'http://127.0.0.1:8723/callback/');
}
