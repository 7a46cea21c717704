import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { TerminalError } from '../errors.js';
import { listen } from '../server/listen.js';
import { splitScopes, statesMatch } from './oauth.js';

/** What TikTok's consent page sent back to the redirect URI (docs/tiktok-api.md §2.1). */
export type RedirectResult =
  | {
      ok: true;
      code: string;
      scopes: string[];
      state: string;
      /**
       * Answers the browser, which waits on the redirect until the code is exchanged (so the page
       * never says "connected" before the grant is stored), then closes the server.
       */
      reply(outcome: { connected: boolean; text: string }): void;
    }
  | { ok: false; error: string; errorDescription: string | undefined; state: string | undefined };

export interface RedirectListenerOptions {
  /** Loopback address to listen on; `127.0.0.1` by default. */
  host?: string;
  /** 0 picks a free port (use a fixed one when the registered redirect URI names a port). */
  port?: number;
  /** Path of the redirect URI, e.g. `/callback/`. */
  path?: string;
  /** The `state` of the consent URL; a callback with another state is refused and waited past. */
  expectedState: string;
  /** Gives up (rejecting `result`) when aborted, e.g. by `AbortSignal.timeout(10 * MINUTE)`. */
  signal?: AbortSignal;
  /** Told of each callback refused for carrying another `state` (an old consent page or a forged link). */
  onStateMismatch?: () => void;
}

export interface RedirectListener {
  /** `http://host:port/path` as listened on; register it (or a wildcard-port form) with TikTok. */
  readonly redirectUri: string;
  /** Settles with the first callback whose state matches, then the server closes. */
  readonly result: Promise<RedirectResult>;
  close(): Promise<void>;
}

/**
 * A one-shot loopback HTTP server for the desktop Login Kit flow: receives `code`, `scopes` and
 * `state` (or `error` and `error_description`) on the redirect URI.
 */
export async function listenForRedirect(options: RedirectListenerOptions): Promise<RedirectListener> {
  const host = options.host ?? '127.0.0.1';
  const path = options.path ?? '/callback/';
  let settle!: (result: RedirectResult) => void;
  let fail!: (error: Error) => void;
  const result = new Promise<RedirectResult>((resolve, reject) => {
    settle = resolve;
    fail = reject;
  });
  result.catch(() => {});
  /** The browser's redirect while the code is being exchanged. */
  let waiting: ServerResponse | undefined;

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://loopback');
    if (request.method !== 'GET' || url.pathname !== path) {
      respond(response, 404, 'Not found.');
      return;
    }
    const state = url.searchParams.get('state') ?? undefined;
    if (!statesMatch(options.expectedState, state)) {
      // Not our consent flow (or a forged callback): refuse it and keep waiting for the real one.
      options.onStateMismatch?.();
      respond(
        response,
        400,
        'This sign-in link does not belong to the login in progress. Start again from the command line.',
      );
      return;
    }
    const error = url.searchParams.get('error');
    const code = url.searchParams.get('code');
    if (error) {
      respond(response, 200, 'TikTok did not grant access. You can close this window.');
      settle({
        ok: false,
        error,
        errorDescription: url.searchParams.get('error_description') ?? undefined,
        state,
      });
    } else if (code) {
      waiting = response;
      settle({
        ok: true,
        code,
        scopes: splitScopes(url.searchParams.get('scopes')),
        state: state!,
        reply: ({ connected, text }) => {
          if (waiting) respond(waiting, connected ? 200 : 502, text);
          waiting = undefined;
          void close();
        },
      });
      return;
    } else {
      respond(response, 400, 'The callback carried neither a code nor an error.');
      return;
    }
    void close();
  });

  const listening = await listen(server, { host, port: options.port ?? 0 });
  const redirectUri = `${listening.url}${path}`;

  let closed = false;
  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    options.signal?.removeEventListener('abort', onAbort);
    if (waiting) respond(waiting, 200, 'The login ended; the terminal says how. You can close this window.');
    waiting = undefined;
    // Each page closes its connection, so waiting for busy ones is short.
    await listening.close(Number.POSITIVE_INFINITY);
    fail(new TerminalError('oauth_redirect_closed', 'The login was stopped before TikTok redirected back.'));
  }
  const onAbort = () => {
    fail(
      new TerminalError(
        'oauth_redirect_timeout',
        `No answer from TikTok's consent page reached ${redirectUri} in time; run the login again and finish it in the browser.`,
      ),
    );
    void close();
  };
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener('abort', onAbort, { once: true });

  return { redirectUri, result, close };
}

function respond(response: ServerResponse, status: number, text: string): void {
  const body = `<!doctype html><meta charset="utf-8"><title>tiktok-sync</title><p>${text}</p>`;
  response.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    // One page per connection, so closing the server never waits on a browser's idle keep-alive.
    connection: 'close',
  });
  response.end(body);
}
