import { type Sandbox, type SandboxOptions, startSandbox } from '../../src/sandbox/index.js';
import { SimulatedClock } from '../../src/tiktok/clock.js';
import { OAuthClient, type TokenSet } from '../../src/tiktok/oauth.js';
import type { AccessTokenSource } from '../../src/tiktok/portability-client.js';
import { listenForRedirect } from '../../src/tiktok/redirect-listener.js';
import { Secret } from '../../src/tiktok/secret.js';

export const ALL_ONGOING = ['portability.all.ongoing'];

/** A sandbox on a fresh simulated clock. */
export async function sandboxWith(options: SandboxOptions = {}): Promise<Sandbox> {
  return startSandbox({ clock: new SimulatedClock(), ...options });
}

export function oauthFor(
  sandbox: Sandbox,
  redirectUri = 'http://127.0.0.1:1/callback/',
  pkceEncoding?: 'hex' | 'base64url',
) {
  return new OAuthClient({
    clientKey: sandbox.clientKey,
    clientSecret: sandbox.clientSecret,
    redirectUri,
    apiBaseUrl: sandbox.url,
    authBaseUrl: sandbox.consentUrl,
    clock: sandbox.clock,
    ...(pkceEncoding ? { pkceEncoding } : {}),
  });
}

/** The whole desktop consent flow against the sandbox: listener, consent page, code exchange. */
export async function connect(
  sandbox: Sandbox,
  options: { scopes?: string[]; account?: string; grant?: string[] } = {},
): Promise<{ tokens: TokenSet; oauth: OAuthClient }> {
  const state = `state-${Math.random().toString(36).slice(2)}`;
  const listener = await listenForRedirect({ expectedState: state, signal: AbortSignal.timeout(10_000) });
  const oauth = oauthFor(sandbox, listener.redirectUri);
  const authorization = oauth.createAuthorization({ scopes: options.scopes ?? ALL_ONGOING, state });
  if (options.account || options.grant) sandbox.consent({ account: options.account, grant: options.grant });
  const browsing = sandbox.browse(authorization.url);
  const result = await listener.result;
  if (!result.ok) throw new Error(`consent failed: ${result.error}`);
  const tokens = await oauth.exchangeCode(result.code, authorization.codeVerifier);
  result.reply({ connected: true, text: 'connected' });
  await browsing;
  return { tokens, oauth };
}

/** A token source over a token set, refreshing through the sandbox; counts refreshes. */
export function tokenSource(
  tokens: TokenSet,
  oauth: OAuthClient,
): AccessTokenSource & { refreshes: number; current: TokenSet } {
  const source = {
    refreshes: 0,
    current: tokens,
    async accessToken() {
      return source.current.accessToken;
    },
    async refreshAccessToken() {
      source.refreshes++;
      source.current = await oauth.refresh(source.current.refreshToken);
      return source.current.accessToken;
    },
  };
  return source;
}

/** A token source that always answers this token (refresh gives the same). */
export function fixedToken(token: string): AccessTokenSource & { refreshes: number } {
  const source = {
    refreshes: 0,
    async accessToken() {
      return new Secret(token);
    },
    async refreshAccessToken() {
      source.refreshes++;
      return new Secret(token);
    },
  };
  return source;
}
