import { createServer } from 'node:http';
import type { Kysely } from 'kysely';
import { ConfigError } from '../errors.js';
import { parseHostPort } from '../host-port.js';
import type { Logger } from '../logger.js';
import { listen } from '../server/listen.js';
import type { Clock } from '../tiktok/clock.js';
import type { TikTokDatabase } from '../tiktok/db-types.js';
import { createWebhookHandler, type RequestNotifier } from '../tiktok/webhook.js';
import { processWebhookEvents } from '../tiktok/webhook-events.js';
import type { TikTokApp } from './tiktok-app.js';

export interface WebhookServerOptions {
  /** `host:port`, an IPv6 host in brackets. */
  listen: string;
  path: string;
  db: Kysely<TikTokDatabase>;
  app: Pick<TikTokApp, 'clientKey' | 'clientSecret'>;
  /** What `authorization.removed` does (the `sync.onAuthorizationRemoved` policy). */
  onAuthorizationRemoved(accountId: string, reason: string): Promise<'later' | undefined>;
  notifier: RequestNotifier;
  clock: Clock;
  logger: Logger;
}

/**
 * Serves TikTok's webhook on `listen` for as long as a command runs: verified events are recorded,
 * `portability.download.ready` wakes the waiting sync, `authorization.removed` revokes the grant (and
 * forgets the account under the `forget` policy).
 */
export async function serveWebhooks(
  options: WebhookServerOptions,
): Promise<{ url: string; close(): Promise<void> }> {
  const handler = createWebhookHandler({
    clientSecret: options.app.clientSecret,
    clientKey: options.app.clientKey,
    clock: options.clock,
    logger: options.logger,
    onEvent: processWebhookEvents({
      db: options.db,
      clock: options.clock,
      logger: options.logger,
      notifier: options.notifier,
      onAuthorizationRemoved: options.onAuthorizationRemoved,
    }),
  });
  const server = createServer((request, response) => {
    const pathname = new URL(request.url ?? '/', 'http://webhook').pathname;
    if (pathname !== options.path) {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found');
      return;
    }
    handler(request, response);
  });
  // Validated as host:port by the config schema.
  const { host, port } = parseHostPort(options.listen) ?? { host: options.listen, port: Number.NaN };
  const listening = await listen(server, { host, port }).catch((error: NodeJS.ErrnoException) => {
    throw new ConfigError(
      'webhook_listen_failed',
      `Cannot listen for TikTok's webhook on ${options.listen} (${error.code ?? error.message}); free that address or change TIKTOK_WEBHOOK_LISTEN.`,
      { cause: error },
    );
  });
  return {
    url: `${listening.url}${options.path}`,
    close: () => listening.close(),
  };
}
