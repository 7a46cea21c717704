import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { SECOND } from '../duration.js';
import { ConfigError, PipelineError, TerminalError } from '../errors.js';
import type { Logger } from '../logger.js';
import { oauthClientFor } from '../tiktok/app.js';
import { type Clock, systemClock } from '../tiktok/clock.js';
import type { TikTokDatabase } from '../tiktok/db-types.js';
import { accountForGrant, accountNameFromOpenId } from '../tiktok/grant-account.js';
import { PORTABILITY_SCOPES } from '../tiktok/oauth.js';
import { listenForRedirect, type RedirectListener } from '../tiktok/redirect-listener.js';
import { TokenStore } from '../tiktok/tokens.js';
import type { CommandContext } from './context.js';
import { openInBrowser } from './open-url.js';
import type { Output } from './output.js';
import {
  checkAccountName,
  requireEncryptionKey,
  requireTikTokApp,
  type TikTokApp,
  tiktokDb,
} from './tiktok-app.js';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

export interface ConnectDependencies {
  /** The database with the TikTok tables (accounts, credentials). */
  tiktokDb: Kysely<TikTokDatabase>;
  app: TikTokApp;
  encryptionKey: Buffer;
  logger: Logger;
  signal: AbortSignal;
  output: Output;
  clock?: Clock;
}

export interface ConnectOptions {
  /** Name of the account; default: the account already linked to this TikTok user, else its open_id. */
  accountName?: string | undefined;
  scopes: readonly string[];
  /** Shows the consent page to the user (a browser, or something playing one); the URL is printed either way. */
  openUrl?: ((url: string) => Promise<void> | void) | undefined;
  /** How long to wait for TikTok's redirect. */
  timeoutMs: number;
}

export interface ConnectResult {
  accountId: string;
  accountName: string;
  openId: string;
  scopes: string[];
  /** False when the account existed (a renewed connection, or an imported account now linked). */
  created: boolean;
  /** True when this TikTok user was connected to the account before. */
  renewed: boolean;
}

/**
 * The desktop Login Kit flow: prints (and optionally opens) the consent URL with state and PKCE,
 * waits on the loopback redirect URI, exchanges the code and stores the grant encrypted. The same
 * TikTok user (same open_id) always lands on the same account.
 */
export async function connectAccount(
  deps: ConnectDependencies,
  options: ConnectOptions,
): Promise<ConnectResult> {
  const { output } = deps;
  const clock = deps.clock ?? systemClock;
  if (options.accountName !== undefined) checkAccountName(options.accountName);
  const redirect = loopbackRedirect(deps.app.redirectUri);

  const state = randomBytes(24).toString('base64url');
  let refused = 0;
  let redirectUri = redirect.text;
  const listener = await listen(redirect, state, options.timeoutMs, () => {
    refused++;
    output.err(
      `A callback reached ${redirectUri} with a state that does not belong to this login (an older consent page or a forged link); it was refused. Still waiting for the consent page printed above.`,
    );
  });
  const stop = () => void listener.close();
  deps.signal.addEventListener('abort', stop, { once: true });
  try {
    if (redirect.port === 0) redirectUri = withPort(redirect.url, listener.redirectUri);
    const oauth = oauthClientFor({ ...deps.app, redirectUri }, clock);
    const authorization = oauth.createAuthorization({ scopes: options.scopes, state });
    output.out(`Open this page to let tiktok-sync read the account's data (${options.scopes.join(', ')}):`);
    output.out(`  ${authorization.url}`);
    output.out(
      `Waiting up to ${Math.round(options.timeoutMs / SECOND)} s for TikTok to redirect to ${redirectUri} …`,
    );
    if (options.openUrl) {
      Promise.resolve()
        .then(() => options.openUrl?.(authorization.url))
        .catch((error: unknown) =>
          output.err(`Could not open a browser (${(error as Error).message}); open the page above yourself.`),
        );
    }

    let result: Awaited<RedirectListener['result']>;
    try {
      result = await listener.result;
    } catch (error) {
      deps.signal.throwIfAborted();
      if (error instanceof PipelineError && error.code === 'oauth_redirect_timeout') {
        const mismatch =
          refused > 0
            ? ` ${refused} callback(s) with a state that does not belong to this login were refused: finish the consent on the page this run printed, not an older one.`
            : '';
        throw new TerminalError(
          'oauth_timeout',
          `No answer from TikTok's consent page reached ${redirectUri} within ${Math.round(options.timeoutMs / SECOND)} s; run \`tiktok-sync connect\` again and approve access in the browser.${mismatch}`,
          { cause: error },
        );
      }
      throw error;
    }
    if (!result.ok) throw consentError(result.error, result.errorDescription, options.scopes);

    let connected: ConnectResult;
    try {
      const tokens = await oauth.exchangeCode(result.code, authorization.codeVerifier, deps.signal);
      const account = await accountForGrant(deps.tiktokDb, tokens.openId, {
        requested: options.accountName,
        newName: accountNameFromOpenId,
        linkedElsewhere: 'refuse',
      });
      const grants = new TokenStore({
        db: deps.tiktokDb,
        oauth,
        encryptionKey: deps.encryptionKey,
        clock,
        logger: deps.logger,
      });
      await grants.saveGrant(account.accountId, tokens);
      connected = { ...account, openId: tokens.openId, scopes: tokens.scopes };
    } catch (error) {
      result.reply({
        connected: false,
        text: 'TikTok granted access, but tiktok-sync could not complete the connection; the terminal says why. Nothing was stored.',
      });
      throw error;
    }
    result.reply({
      connected: true,
      text: `The TikTok account is connected as account ${escapeHtml(connected.accountName)}. You can close this window.`,
    });
    deps.logger.info(
      { account: connected.accountName, openId: connected.openId, scopes: connected.scopes },
      'TikTok account connected',
    );
    return connected;
  } finally {
    deps.signal.removeEventListener('abort', stop);
    await listener.close();
  }
}

export interface ConnectCommandOptions {
  account?: string | undefined;
  /** Commander's `--no-open`. */
  open: boolean;
  /** Seconds to wait for the redirect. */
  timeout: number;
}

/** `tiktok-sync connect [--account <name>] [--no-open]`. */
export async function cmdConnect(
  context: CommandContext,
  output: Output,
  options: ConnectCommandOptions & { desktop: boolean },
): Promise<void> {
  const { config, database } = context;
  const app = requireTikTokApp(config);
  // A consent page on this machine is a sandbox's, which consents by itself: no browser is needed
  // (a headless machine has none), so connect follows it directly. TikTok's page is never local.
  const local = isLoopbackUrl(app.authBaseUrl);
  if (local && options.open) {
    output.out('The consent page is on this machine (a sandbox): following it directly, without a browser.');
  }
  const result = await connectAccount(
    {
      tiktokDb: tiktokDb(database),
      app,
      encryptionKey: requireEncryptionKey(config),
      logger: context.logger,
      signal: context.signal,
      output,
    },
    {
      accountName: options.account,
      scopes: config.tiktok.scopes,
      openUrl: !options.open
        ? undefined
        : local
          ? (url: string) => followLocalConsent(url, options.account)
          : options.desktop
            ? openInBrowser
            : undefined,
      timeoutMs: options.timeout * SECOND,
    },
  );
  printConnected(output, result);
}

/** Checks what `connect` needs before the database is opened, so a missing setting fails at once. */
export function preflightConnect(context: Pick<CommandContext, 'config'>): void {
  requireTikTokApp(context.config);
  requireEncryptionKey(context.config);
  loopbackRedirect(context.config.tiktok.redirectUri);
}

export function printConnected(output: Output, result: ConnectResult): void {
  const how = result.created
    ? 'a new account'
    : result.renewed
      ? 'its connection renewed'
      : 'an existing account, now linked to TikTok';
  output.out(`Connected TikTok user \`${result.openId}\` as account \`${result.accountName}\` (${how}).`);
  output.out(`Granted scopes: ${result.scopes.join(', ') || 'none'}. The tokens are stored encrypted.`);
  const portability = result.scopes.filter((scope) =>
    (PORTABILITY_SCOPES as readonly string[]).includes(scope),
  );
  if (portability.length === 0) {
    output.err(
      'warning: the user granted no Data Portability scope, so syncs cannot request data; connect again and allow access to the data.',
    );
  }
}

interface LoopbackRedirect {
  url: URL;
  text: string;
  host: string;
  port: number;
  path: string;
}

/** The configured redirect URI, which `connect` listens on itself: it must be plain http on loopback. */
function loopbackRedirect(text: string): LoopbackRedirect {
  const url = new URL(text);
  if (url.protocol !== 'http:' || !LOOPBACK_HOSTS.has(url.hostname) || url.search || url.hash) {
    throw new ConfigError(
      'redirect_uri_not_loopback',
      `TIKTOK_REDIRECT_URI is \`${text}\`; \`connect\` receives TikTok's redirect itself, so it must be an http URI on 127.0.0.1 or localhost without query, such as http://127.0.0.1:8723/callback/ (registered with the app in the TikTok developer portal).`,
    );
  }
  const host = url.hostname === '[::1]' ? '::1' : url.hostname === 'localhost' ? '127.0.0.1' : url.hostname;
  return { url, text, host, port: url.port === '' ? 80 : Number(url.port), path: url.pathname };
}

async function listen(
  redirect: LoopbackRedirect,
  state: string,
  timeoutMs: number,
  onStateMismatch: () => void,
): Promise<RedirectListener> {
  try {
    return await listenForRedirect({
      host: redirect.host,
      port: redirect.port,
      path: redirect.path,
      expectedState: state,
      signal: AbortSignal.timeout(timeoutMs),
      onStateMismatch,
    });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'EADDRINUSE' || code === 'EACCES') {
      throw new ConfigError(
        'redirect_port_unavailable',
        `Cannot listen on ${redirect.host}:${redirect.port} for TikTok's redirect (${code}): another \`connect\` may be running. Stop it, or change TIKTOK_REDIRECT_URI and register the new URI with the app.`,
        { cause: error },
      );
    }
    throw error;
  }
}

/** The configured URI with the port the listener got (for `:0`, "any free port"). */
function withPort(configured: URL, listening: string): string {
  const url = new URL(configured);
  url.port = new URL(listening).port;
  return url.toString();
}

function consentError(error: string, description: string | undefined, scopes: readonly string[]): Error {
  const said = description ? ` (${description})` : '';
  if (error === 'access_denied') {
    return new TerminalError(
      'access_denied',
      `TikTok reported \`access_denied\`${said}: the user declined on the consent page. Run \`tiktok-sync connect\` again and approve access to ${scopes.join(', ')}.`,
    );
  }
  return new TerminalError(
    error,
    `TikTok's consent page answered \`${error}\`${said}; check the app's products, scopes and redirect URI in the TikTok developer portal (asked for ${scopes.join(', ')}).`,
  );
}

function isLoopbackUrl(url: string): boolean {
  try {
    return LOOPBACK_HOSTS.has(new URL(url).hostname);
  } catch {
    return false;
  }
}

/**
 * Plays the browser on a local (sandbox) consent page: its redirect carries the code to our listener.
 * The sandbox signs in the user named like the account asked for (`sandbox_user`), when it has one.
 */
async function followLocalConsent(consentUrl: string, accountName: string | undefined): Promise<void> {
  const url = new URL(consentUrl);
  if (accountName !== undefined) url.searchParams.set('sandbox_user', accountName);
  const page = await fetch(url, { redirect: 'manual' });
  await page.arrayBuffer();
  const location = page.headers.get('location');
  if (page.status < 300 || page.status >= 400 || !location) {
    throw new Error(`the local consent page answered HTTP ${page.status} without a redirect`);
  }
  const landing = await fetch(location, { redirect: 'manual' });
  await landing.arrayBuffer();
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
