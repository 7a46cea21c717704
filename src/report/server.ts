import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type pg from 'pg';
import { coerceError } from '../errors.js';
import type { Logger } from '../logger.js';
import { send as sendAnswer, sendHealth } from '../server/http.js';
import { type Listening, listen } from '../server/listen.js';
import { isLoopback } from '../server/loopback.js';
import { buildReport, type ReportOptions, readOnly } from './build.js';
import { renderReport } from './html.js';

export interface ReportServerOptions {
  pool: pg.Pool;
  host: string;
  /** 0 picks a free one. */
  port: number;
  report: ReportOptions;
  logger: Logger;
}

/**
 * `tiktok-sync serve`: the report, built anew from the database for each request in a read-only
 * transaction. `GET /` answers the page `tiktok-sync report` writes, `GET /healthz` whether the
 * database answers; nothing else, and no method but GET and HEAD. On a loopback address it answers
 * only requests addressed to a loopback name, so that a web page whose name is made to resolve to
 * 127.0.0.1 (DNS rebinding) cannot read the report through the visitor's browser.
 */
export async function startReportServer(options: ReportServerOptions): Promise<Listening> {
  const loopbackOnly = isLoopback(options.host);
  const server = createServer((request, response) => {
    handle(request, response).catch((error) => {
      const message = coerceError(error).message;
      options.logger.error({ err: coerceError(error) }, 'the report could not be made');
      if (!response.headersSent) send(response, 500, 'text/plain; charset=utf-8', `${message}\n`);
      else response.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://report');
    if (loopbackOnly && !isLoopback(hostName(request.headers.host))) {
      send(
        response,
        403,
        'text/plain; charset=utf-8',
        'This report server answers only requests addressed to 127.0.0.1, [::1] or localhost.\n',
      );
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('allow', 'GET, HEAD');
      send(
        response,
        405,
        'text/plain; charset=utf-8',
        'The report is read-only: only GET and HEAD are answered.\n',
      );
      return;
    }
    if (url.pathname === '/healthz') {
      sendHealth(
        response,
        async () => {
          await readOnly(options.pool, (client) => client.query('select 1'));
          return { ok: true };
        },
        PAGE_HEADERS,
      );
      return;
    }
    if (url.pathname !== '/') {
      send(response, 404, 'text/plain; charset=utf-8', 'Not found: the report is at /.\n');
      return;
    }
    const html = renderReport(await buildReport(options.pool, options.report));
    send(response, 200, 'text/html; charset=utf-8', request.method === 'HEAD' ? '' : html, {
      'content-length': String(Buffer.byteLength(html)),
    });
  }

  return listen(server, { host: options.host, port: options.port });
}

/** The name in a Host header, without its port and an IPv6 address's brackets; empty when unreadable. */
function hostName(header: string | undefined): string {
  if (!URL.canParse(`http://${header}`)) return '';
  return new URL(`http://${header}`).hostname.replace(/^\[(.*)\]$/, '$1');
}

/** What a page of private data answers with, beyond the shared answer's headers (server/http.ts). */
const PAGE_HEADERS = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' };

function send(
  response: ServerResponse,
  status: number,
  type: string,
  body: string,
  headers: Record<string, string> = {},
): void {
  sendAnswer(response, status, type, body, { ...PAGE_HEADERS, ...headers });
}
