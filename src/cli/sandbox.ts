import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { parseFaultFlags, startSandbox } from '../sandbox/index.js';
import type { Era } from '../synthetic/index.js';

import { systemClock } from '../tiktok/clock.js';
import type { Output } from './output.js';

export interface SandboxCommandOptions {
  port: number;
  users: string[];
  era: Era;
  readyAfterMs: number;
  faults?: string | undefined;
  /** Where to send webhooks; default the configured TIKTOK_WEBHOOK_LISTEN, if any. */
  webhookUrl?: string | undefined;
}

/**
 * `tiktok-sync sandbox`: the local TikTok API on loopback, on the real clock, consenting on its own,
 * until interrupted. Prints how to point the other commands at it.
 */
export async function cmdSandbox(
  config: Config,
  logger: Logger,
  output: Output,
  signal: AbortSignal,
  options: SandboxCommandOptions,
): Promise<void> {
  const { webhook } = config.tiktok;
  const webhookUrl =
    options.webhookUrl ?? (webhook.listen ? `http://${webhook.listen}${webhook.path}` : undefined);
  const sandbox = await startSandbox({
    port: options.port,
    clock: systemClock,
    accounts: options.users.map((username) => ({ username, era: options.era })),
    readyDelayMs: options.readyAfterMs,
    firstRequestId: firstRequestId(),
    redirectUris: registeredRedirects(config.tiktok.redirectUri, config.server.redirectUri),
    ...(options.faults ? { faults: parseFaultFlags(options.faults) } : {}),
    ...(webhookUrl ? { webhook: { url: webhookUrl } } : {}),
    logger,
  });
  try {
    // Consent is automatic; with several users, consents sign in as each in turn, then as the first.
    if (options.users.length > 1) for (const account of options.users) sandbox.consent({ account });

    output.out(
      `TikTok sandbox listening on ${sandbox.url} (a local stand-in for TikTok's API; nothing reaches TikTok).`,
    );
    const users = [...sandbox.accounts.values()].map((a) => `${a.username} (open_id ${a.openId})`);
    output.out(`Users: ${users.join(', ')}; ${options.era} export layout.`);
    output.out(
      options.users.length > 1
        ? `Consent is given automatically to programs (\`connect\`), signing in as ${options.users.join(', then ')} in turn, and then always as ${options.users[0]}.`
        : `Consent is given automatically to programs (\`connect\`), as ${options.users[0]}.`,
    );
    output.out(
      'A browser gets a consent screen instead: choose who signs in and which scopes to grant, or cancel.',
    );
    output.out(`Data requests are ready ${Math.round(options.readyAfterMs / 1000)} s after they are made.`);
    if (options.faults) output.out(`Faults injected: ${options.faults}.`);
    if (webhookUrl) output.out(`Webhooks go to ${webhookUrl}.`);
    output.out();
    output.out(
      'Point tiktok-sync at it (this client key and secret belong to this sandbox run only, so printing them is fine):',
    );
    output.out(`  export TIKTOK_API_BASE_URL=${sandbox.url}`);
    output.out(`  export TIKTOK_AUTH_BASE_URL=${sandbox.consentUrl}`);
    output.out(`  export TIKTOK_CLIENT_KEY=${sandbox.clientKey}`);
    output.out(`  export TIKTOK_CLIENT_SECRET=${sandbox.clientSecret}`);
    if (!config.tiktok.encryptionKey)
      output.out('  export TIKTOK_SYNC_ENCRYPTION_KEY="$(openssl rand -base64 32)"');
    output.out(
      `Then: tiktok-sync connect --account ${options.users[0]} && tiktok-sync sync --account ${options.users[0]} --once`,
    );
    const daemonPort = config.sync.listen.slice(config.sync.listen.lastIndexOf(':') + 1);
    output.out(
      config.server.publicUrl
        ? 'Or invite links: start `tiktok-sync run`, then `tiktok-sync invite` and open the link in a browser.'
        : `Or invite links: also export TIKTOK_SYNC_PUBLIC_URL=http://127.0.0.1:${daemonPort} TIKTOK_SYNC_OPERATOR_NAME=… TIKTOK_SYNC_OPERATOR_CONTACT=…, start \`tiktok-sync run\`, then \`tiktok-sync invite\` and open the link in a browser.`,
    );
    output.out('Serving until Ctrl-C.');
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    await sandbox.close();
  }
}

/**
 * What the sandbox app accepts as redirect URIs: like a desktop app, any port of loopback
 * `/callback/` (with or without the slash) and of the daemon's loopback `/oauth/callback`, the
 * configured URI on any port, and the redirect URI of the configured `server.publicUrl`.
 */
function registeredRedirects(configured: string, web: string | undefined): string[] {
  const uris = ['127.0.0.1', 'localhost'].flatMap((host) => [
    `http://${host}:*/callback/`,
    `http://${host}:*/callback`,
    `http://${host}:*/oauth/callback`,
  ]);
  const url = new URL(configured);
  uris.push(configured, `${url.protocol}//${url.hostname}:*${url.pathname}`);
  if (web) uris.push(web);
  return uris;
}

/**
 * Request ids that an earlier sandbox run did not hand out: a database that outlives the sandbox
 * keeps its requests, and TikTok never reuses an id. Above 2^53, like TikTok's.
 */
export function firstRequestId(): bigint {
  return 7_000_000_000_000_000_000n + BigInt(Date.now()) * 1000n;
}
