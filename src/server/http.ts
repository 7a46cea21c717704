import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Counter } from 'prom-client';
import { ConfigError, coerceError } from '../errors.js';
import { parseHostPort } from '../host-port.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { ListenError, type Listening, listen } from './listen.js';

const WEBHOOK_OUTCOMES: Record<number, string> = {
  200: 'accepted',
  400: 'invalid',
  401: 'refused',
  405: 'wrong_method',
  413: 'too_large',
};

export interface Health {
  ok: boolean;
  [key: string]: unknown;
}

export interface DaemonServerOptions {
  /** `host:port`; port 0 picks a free one. */
  listen: string;
  metrics: Metrics;
  health(): Promise<Health>;
  /** The TikTok webhook receiver, served at `path` (POST). */
  webhook?: { path: string; handler(request: IncomingMessage, response: ServerResponse): void } | undefined;
  /** Pages for people (src/invites/web.ts): the paths they answer, any method. */
  pages?:
    | { matches(pathname: string): boolean; handle(request: IncomingMessage, response: ServerResponse): void }
    | undefined;
  logger: Logger;
}

export interface DaemonServer {
  /** `http://host:port` as bound. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The daemon's one HTTP server: `GET /healthz` (200 or 503 with a JSON body), `GET /metrics`
 * (Prometheus text format), the TikTok webhook receiver on its configured path, and the invite
 * pages (`/connect/<token>`, `/oauth/callback`).
 */
export async function startDaemonServer(options: DaemonServerOptions): Promise<DaemonServer> {
  // Validated as host:port by the config schema and `run --listen`.
  const { host, port } = parseHostPort(options.listen) ?? { host: options.listen, port: Number.NaN };
  // Every webhook request, by how it was answered: a forged, wrong-secret, stale or replayed one is
  // `refused` (401), so an alert can watch for them.
  const webhooks = new Counter({
    name: 'tiktok_sync_webhook_requests_total',
    help: 'Webhook requests by outcome: accepted (200), refused (401: bad, missing or stale signature), invalid (400), too_large (413), wrong_method (405).',
    labelNames: ['outcome'],
    registers: [options.metrics.registry],
  });
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (options.webhook && url.pathname === options.webhook.path) {
      response.once('finish', () =>
        webhooks.inc({ outcome: WEBHOOK_OUTCOMES[response.statusCode] ?? 'other' }),
      );
      options.webhook.handler(request, response);
      return;
    }
    if (options.pages?.matches(url.pathname)) {
      options.pages.handle(request, response);
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      send(response, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
      return;
    }
    if (url.pathname === '/healthz') {
      sendHealth(response, options.health);
      return;
    }
    if (url.pathname === '/metrics') {
      options.metrics.registry
        .metrics()
        .then((text) => send(response, 200, options.metrics.registry.contentType, text))
        .catch((error) => {
          options.logger.warn({ err: coerceError(error) }, 'collecting metrics failed');
          send(response, 500, 'text/plain; charset=utf-8', 'metrics unavailable\n');
        });
      return;
    }
    send(response, 404, 'text/plain; charset=utf-8', 'not found\n');
  });
  server.keepAliveTimeout = 5_000;
  let listening: Listening;
  try {
    listening = await listen(server, { host, port });
  } catch (error) {
    const code = error instanceof ListenError ? error.code : undefined;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      throw new ConfigError(
        'listen_failed',
        `Cannot listen on ${options.listen} (${code}); set sync.listen (or TIKTOK_SYNC_LISTEN) to a free host:port.`,
        { cause: error },
      );
    }
    throw error;
  }
  options.logger.info(
    { url: listening.url },
    `serving /healthz, /metrics and the webhook${options.pages ? ', and the invite pages' : ''}`,
  );
  return {
    url: listening.url,
    // A scrape or webhook in progress gets two seconds to finish.
    close: () => listening.close(2_000),
  };
}

/** Answers with `body`, never cached; `headers` add to or override the defaults. */
export function send(
  response: ServerResponse,
  status: number,
  type: string,
  body: string,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...headers });
  response.end(body);
}

/** Answers `/healthz`: 200 with the health when it is ok, else 503; a failing check is a 503 saying why. */
export function sendHealth(
  response: ServerResponse,
  check: () => Promise<{ ok: boolean }>,
  headers: Record<string, string> = {},
): void {
  check()
    .then((health) =>
      send(response, health.ok ? 200 : 503, 'application/json', `${JSON.stringify(health)}\n`, headers),
    )
    .catch((error) =>
      send(
        response,
        503,
        'application/json',
        `${JSON.stringify({ ok: false, error: coerceError(error).message })}\n`,
        headers,
      ),
    );
}
