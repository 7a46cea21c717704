/**
 * The invite pages on the daemon's HTTP server (README, "Many users: invite links"):
 *
 * - `GET /connect/<token>`: what will be shared, who asks, and a button to TikTok; or why the link
 *   does not work (never existed, expired, used, withdrawn).
 * - `POST /connect/<token>`: starts a consent: a `state` and a PKCE verifier kept in Postgres
 *   (src/invites/store.ts), then TikTok's consent page (docs/tiktok-api.md §2.1).
 * - `GET /oauth/callback`: takes the `state` once, exchanges the code, and in one transaction
 *   stores the grant encrypted, creates or renews the account (the same TikTok user always gets the
 *   same one), marks the invite used and makes the account due at once.
 *
 * Absolute URLs come from `server.publicUrl` only, never from Host or X-Forwarded-* headers, so the
 * daemon works behind a reverse proxy, with or without the proxy keeping the public URL's path.
 * Tokens, states, codes and verifiers never reach a log line or a page.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Kysely, sql } from 'kysely';
import type { Counter } from 'prom-client';
import type { Config, ServerConfig } from '../config.js';
import { MINUTE } from '../duration.js';
import { ConfigError, coerceError, PipelineError } from '../errors.js';
import type { Logger } from '../logger.js';
import { oauthClientFor, type TikTokApp } from '../tiktok/app.js';
import type { Clock } from '../tiktok/clock.js';
import type { TikTokDatabase } from '../tiktok/db-types.js';
import { accountForGrant, accountNameFromHash } from '../tiktok/grant-account.js';
import { splitScopes, type TokenSet } from '../tiktok/oauth.js';
import { TokenCipher } from '../tiktok/token-cipher.js';
import type { TokenStore } from '../tiktok/tokens.js';
import {
  accountConflictPage,
  consentPage,
  crossSitePage,
  deniedPage,
  expiredLinkPage,
  failurePage,
  invalidLinkPage,
  methodPage,
  notSetUpPage,
  type Operator,
  type Page,
  partialScopesPage,
  renderPage,
  revokedLinkPage,
  STYLE_HASH,
  statePage,
  successPage,
  tiktokErrorPage,
  usedLinkPage,
} from './pages.js';
import { findInvite, type Invite, inviteById, newToken, saveConsentStart, takeConsent } from './store.js';

/** How long a consent started on an invite page may take to come back from TikTok. */
const CONSENT_TTL_MS = 15 * MINUTE;

export interface InvitePagesOptions {
  db: Kysely<TikTokDatabase>;
  server: ServerConfig;
  /** The scopes asked for, and the interval the pages say data is copied at. */
  tiktok: Pick<Config['tiktok'], 'scopes'>;
  interval: Config['sync']['interval'];
  app: TikTokApp;
  encryptionKey: Buffer;
  grants: TokenStore;
  clock: Clock;
  logger: Logger;
  /** This daemon's name, recorded with the consents it starts and completes. */
  owner: string;
  consents?: Counter<'outcome'> | undefined;
  /** A consent was stored: the daemon schedules the account (it is due already) at once. */
  onConnected(accountId: string): void;
  consentTtlMs?: number;
}

export interface InvitePages {
  /** Whether a request path is one of these pages (under the public URL's path or not). */
  matches(pathname: string): boolean;
  handle(request: IncomingMessage, response: ServerResponse): void;
}

type Outcome =
  | 'completed'
  | 'denied'
  | 'partial_scopes'
  | 'tiktok_error'
  | 'state_refused'
  | 'invite_refused'
  | 'account_conflict'
  | 'failed';

class InviteGone extends Error {
  constructor(readonly invite: Invite | undefined) {
    super('the invite was used or withdrawn meanwhile');
  }
}

export function createInvitePages(options: InvitePagesOptions): InvitePages {
  const { db, server, clock, owner } = options;
  const log = options.logger.child({ component: 'invites' });
  const ttlMs = options.consentTtlMs ?? CONSENT_TTL_MS;
  const publicUrl = server.publicUrl;
  const operator: Operator | undefined = server.operator;
  const prefix = publicUrl ? new URL(publicUrl).pathname.replace(/\/+$/, '') : '';
  const publicOrigin = publicUrl ? new URL(publicUrl).origin : undefined;
  const authOrigin = new URL(options.app.authBaseUrl).origin;
  const cipher = new TokenCipher(options.encryptionKey);
  const policy = [
    "default-src 'none'",
    `style-src ${STYLE_HASH}`,
    `form-action ${publicOrigin ? `${publicOrigin} ${authOrigin}` : "'none'"}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');

  const route = (pathname: string): string | undefined => {
    const path =
      prefix && (pathname === prefix || pathname.startsWith(`${prefix}/`))
        ? pathname.slice(prefix.length)
        : pathname;
    return path === '/oauth/callback' || path === '/connect' || path.startsWith('/connect/')
      ? path
      : undefined;
  };

  // `same-origin`: the link's token never goes to TikTok in a Referer, and the button's POST still
  // carries the page's Origin (with `no-referrer`, browsers send `Origin: null`).
  const headers = (extra: Record<string, string> = {}) => ({
    'cache-control': 'no-store',
    'referrer-policy': 'same-origin',
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'content-security-policy': policy,
    ...extra,
  });

  const send = (request: IncomingMessage, response: ServerResponse, page: Page) => {
    const body = renderPage(page);
    response.writeHead(page.status, {
      ...headers({ 'content-type': 'text/html; charset=utf-8' }),
      'content-length': String(Buffer.byteLength(body)),
      ...(page.allow ? { allow: page.allow } : {}),
    });
    response.end(request.method === 'HEAD' ? undefined : body);
  };

  /** The page of an invite that cannot be used (or undefined when it can). */
  const unusable = (invite: Invite | undefined, atCallback = false): Page | undefined => {
    if (!invite) return invalidLinkPage(operator);
    switch (invite.state) {
      case 'outstanding':
        return undefined;
      case 'used':
        return usedLinkPage(operator!, invite.usedAt!);
      case 'revoked':
        return revokedLinkPage(operator!);
      case 'expired':
        // A consent started before the link expired may finish (within the consent's own expiry).
        return atCallback ? undefined : expiredLinkPage(operator!, invite.expiresAt);
    }
  };

  /** The invite of a link that may be used now; else undefined, the page saying why already sent. */
  async function usableInvite(request: IncomingMessage, response: ServerResponse, token: string) {
    const invite = await findInvite(db, token, clock.now());
    const refused = unusable(invite);
    if (refused) {
      log.info({ invite: invite?.inviteId, page: refused.kind }, 'invite link refused');
      send(request, response, refused);
      return undefined;
    }
    return invite!;
  }

  async function invitePage(request: IncomingMessage, response: ServerResponse, token: string) {
    const invite = await usableInvite(request, response, token);
    if (!invite) return;
    send(
      request,
      response,
      consentPage({
        operator: operator!,
        scopes: options.tiktok.scopes,
        interval: options.interval,
        action: `${publicUrl}/connect/${token}`,
        expiresAt: invite.expiresAt,
      }),
    );
  }

  async function startConsent(request: IncomingMessage, response: ServerResponse, token: string) {
    request.resume();
    const origin = request.headers.origin;
    if ((origin && origin !== publicOrigin) || request.headers['sec-fetch-site'] === 'cross-site') {
      log.warn({ origin }, 'invite consent refused: the request came from another site');
      send(request, response, crossSitePage());
      return;
    }
    const invite = await usableInvite(request, response, token);
    if (!invite) return;
    const state = newToken();
    const oauth = oauthClientFor({ ...options.app, redirectUri: server.redirectUri! }, clock);
    const authorization = oauth.createAuthorization({ scopes: options.tiktok.scopes, state: state.reveal() });
    await saveConsentStart(db, cipher, {
      inviteId: invite.inviteId,
      state,
      codeVerifier: authorization.codeVerifier,
      redirectUri: oauth.redirectUri,
      scopes: options.tiktok.scopes,
      owner,
      now: clock.now(),
      ttlMs,
    });
    log.info({ invite: invite.inviteId }, "invite consent started: sent to TikTok's consent page");
    response.writeHead(303, headers({ location: authorization.url, 'content-length': '0' }));
    response.end();
  }

  async function callback(request: IncomingMessage, response: ServerResponse, params: URLSearchParams) {
    const finish = (outcome: Outcome, page: Page, fields: Record<string, unknown> = {}) => {
      options.consents?.inc({ outcome });
      const line = { outcome, page: page.kind, ...fields };
      if (outcome === 'completed') log.info(line, 'invite consent completed');
      else if (outcome === 'failed') log.error(line, 'invite consent failed');
      else log.warn(line, `invite consent not completed: ${outcome.replace('_', ' ')}`);
      send(request, response, page);
    };
    const stateText = params.get('state');
    if (!stateText) {
      finish('state_refused', statePage(operator, 'missing', ttlMs / MINUTE));
      return;
    }
    const consent = await takeConsent(db, cipher, stateText, { owner, now: clock.now() });
    if (consent.kind !== 'taken') {
      finish('state_refused', statePage(operator, consent.kind, ttlMs / MINUTE));
      return;
    }
    const context = { invite: consent.inviteId, startedBy: consent.startedBy };
    const refused = unusable(await inviteById(db, consent.inviteId, clock.now()), true);
    if (refused) {
      finish('invite_refused', refused, context);
      return;
    }
    const error = params.get('error');
    if (error) {
      const description = params.get('error_description') ?? undefined;
      if (error === 'access_denied') finish('denied', deniedPage(operator!), { ...context, description });
      else
        finish('tiktok_error', tiktokErrorPage(operator!, { code: error, description }), {
          ...context,
          error,
          description,
        });
      return;
    }
    const code = params.get('code');
    if (!code) {
      finish('tiktok_error', tiktokErrorPage(operator!, { code: 'no_code' }), context);
      return;
    }
    const said = params.get('scopes');
    const missingSaid = said === null ? [] : missingScopes(consent.scopes, splitScopes(said));
    if (missingSaid.length > 0) {
      finish('partial_scopes', partialScopesPage(operator!, missingSaid, options.interval), {
        ...context,
        missing: missingSaid,
      });
      return;
    }
    let tokens: TokenSet;
    try {
      tokens = await oauthClientFor({ ...options.app, redirectUri: consent.redirectUri }, clock).exchangeCode(
        code,
        consent.codeVerifier(),
      );
    } catch (thrown) {
      const failure = coerceError(thrown);
      if (!(failure instanceof PipelineError) || failure instanceof ConfigError) throw failure;
      const logId = typeof failure.details.log_id === 'string' ? failure.details.log_id : undefined;
      finish('tiktok_error', tiktokErrorPage(operator!, { code: failure.code, logId }), {
        ...context,
        err: failure,
      });
      return;
    }
    const missing = missingScopes(consent.scopes, tokens.scopes);
    if (missing.length > 0) {
      finish('partial_scopes', partialScopesPage(operator!, missing, options.interval), {
        ...context,
        missing,
        openId: tokens.openId,
      });
      return;
    }
    let stored: Awaited<ReturnType<typeof complete>>;
    try {
      stored = await complete(consent.inviteId, tokens);
    } catch (thrown) {
      if (thrown instanceof InviteGone) {
        finish('invite_refused', unusable(thrown.invite) ?? invalidLinkPage(operator), context);
        return;
      }
      if (
        thrown instanceof ConfigError &&
        (thrown.code === 'account_linked_to_another_user' || thrown.code === 'tiktok_user_already_connected')
      ) {
        finish('account_conflict', accountConflictPage(operator!), {
          ...context,
          openId: tokens.openId,
          reason: thrown.message,
        });
        return;
      }
      throw thrown;
    }
    finish('completed', successPage(operator!, tokens.scopes, options.interval), {
      ...context,
      account: stored.accountName,
      accountId: stored.accountId,
      created: stored.created,
      renewed: stored.renewed,
      openId: tokens.openId,
      scopes: tokens.scopes,
    });
    options.onConnected(stored.accountId);
  }

  /**
   * In one transaction: the invite (locked) is still usable, the account is created or renewed, the
   * grant stored, the invite marked used and the account due now. Anything failing stores nothing.
   */
  function complete(inviteId: string, tokens: TokenSet) {
    const now = clock.now();
    return db.transaction().execute(async (trx) => {
      const invite = await trx
        .selectFrom('tiktok_sync.invites')
        .select(['account_name', 'used_at', 'revoked_at'])
        .where('invite_id', '=', inviteId)
        .forUpdate()
        .executeTakeFirst();
      if (!invite || invite.used_at || invite.revoked_at) {
        throw new InviteGone(await inviteById(db, inviteId, now));
      }
      const account = await accountForGrant(trx, tokens.openId, {
        requested: invite.account_name ?? undefined,
        newName: accountNameFromHash,
        linkedElsewhere: 'renew',
      });
      await options.grants.saveGrant(account.accountId, tokens, { connectedVia: 'invite', transaction: trx });
      await trx
        .updateTable('tiktok_sync.invites')
        .set({ used_at: new Date(now), account_id: account.accountId })
        .where('invite_id', '=', inviteId)
        .execute();
      await scheduleNow(trx, account.accountId, now);
      return account;
    });
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://daemon');
    const path = route(url.pathname) ?? url.pathname;
    const method = request.method ?? 'GET';
    if (!publicUrl || !operator) {
      send(request, response, notSetUpPage());
      return;
    }
    if (path === '/oauth/callback') {
      if (method !== 'GET') send(request, response, methodPage('GET', 'GET'));
      else await callback(request, response, url.searchParams);
      return;
    }
    const token = path.startsWith('/connect/') ? path.slice('/connect/'.length) : '';
    if (method === 'POST') await startConsent(request, response, token);
    else if (method === 'GET' || method === 'HEAD') await invitePage(request, response, token);
    else send(request, response, methodPage('GET and POST', 'GET, HEAD, POST'));
  }

  return {
    matches: (pathname) => route(pathname) !== undefined,
    handle(request, response) {
      handle(request, response).catch((thrown: unknown) => {
        const error = coerceError(thrown);
        if (route(new URL(request.url ?? '/', 'http://daemon').pathname) === '/oauth/callback') {
          options.consents?.inc({ outcome: 'failed' });
        }
        log.error({ err: error }, 'invite page failed');
        if (!response.headersSent) send(request, response, failurePage(operator));
        else response.destroy();
      });
    },
  };
}

/** The scopes asked for that TikTok's answer lacks. */
function missingScopes(asked: readonly string[], granted: readonly string[]): string[] {
  return asked.filter((scope) => !granted.includes(scope));
}

/**
 * The account is due now: a new one gets its schedule row, a renewed one is due at once and no
 * longer stopped, complete or backing off (as `reconcileSchedule` does for any renewed grant).
 */
async function scheduleNow(db: Kysely<TikTokDatabase>, accountId: string, now: number): Promise<void> {
  const at = new Date(now);
  await sql`
    insert into tiktok_sync.sync_schedule as s (account_id, next_due_at, slot_at, created_at, updated_at)
    values (${accountId}, ${at}, ${at}, ${at}, ${at})
    on conflict (account_id) do update
       set next_due_at = least(s.next_due_at, excluded.next_due_at), slot_at = least(s.slot_at, excluded.slot_at),
           stopped_at = null, stop_code = null, stop_reason = null, complete = false, completed_at = null,
           attempts = 0, backoff_until = null, updated_at = excluded.updated_at
  `.execute(db);
}
