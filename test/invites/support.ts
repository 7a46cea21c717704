/**
 * The invite tests' world: a test database, a sandbox on a simulated clock whose users have not
 * connected yet, daemons serving the invite pages, and a reverse proxy in front of them at the public
 * URL (with a path, and Host and X-Forwarded-* headers that lie), which the test points at one daemon
 * or another.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Kysely } from 'kysely';
import { type Config, loadConfig } from '../../src/config.js';
import { createInvite, inviteLink } from '../../src/invites/store.js';
import { createLogger } from '../../src/logger.js';
import type { ConsentDecision, Sandbox, SandboxOptions } from '../../src/sandbox/index.js';
import { listen } from '../../src/server/listen.js';
import type { SimulatedClock } from '../../src/tiktok/clock.js';
import type { TikTokDatabase, TikTokTables } from '../../src/tiktok/db-types.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { DAY, MINUTE, startTestDaemon, type TestDaemon, writeDaemonConfig } from '../scheduler/support.js';
import { sandboxWith } from '../tiktok/support.js';

export { until } from '../helpers/until.js';
export { DAY, HOUR, MINUTE, SECOND } from '../scheduler/support.js';

export const OPERATOR = { name: 'Data Lab <Utrecht>', contact: 'lab@example.org' };

/** A page as a browser got it. */
export interface Answer {
  status: number;
  headers: Headers;
  html: string;
  /** The page's `data-page` (what it says: `invite`, `invite_expired`, `connected` …). */
  kind: string | undefined;
  /** The heading. */
  title: string | undefined;
}

export interface InviteWorld {
  database: TestDatabase;
  db: Kysely<TikTokDatabase>;
  sandbox: Sandbox;
  clock: SimulatedClock;
  /** `<proxy>/sync`: what links and the redirect URI are made of. */
  publicUrl: string;
  /** Every log line of every daemon (JSON). */
  logs: string[];
  /** Every page a browser got (HTML), to look for secrets at the end. */
  pages: string[];
  /** Every URL a browser went to. */
  urls: string[];
  config(extra?: Record<string, unknown>, env?: Record<string, string>): Promise<Config>;
  /** A daemon listening on a free port (no cron: the test ticks), behind the proxy once `serve`d. */
  daemon(owner: string, config?: Config): Promise<TestDaemon>;
  /** Routes the proxy (the public URL) to this daemon. */
  serve(daemon: TestDaemon): void;
  invite(options?: {
    accountName?: string;
    expiresInMs?: number;
  }): Promise<{ inviteId: string; link: string; token: string }>;
  get(url: string, init?: RequestInit): Promise<Answer>;
  /**
   * A person with a link: opens it, presses the button, lets the sandbox consent (as `decision`
   * says) and lands on the callback. Returns each step.
   */
  consent(
    link: string,
    decision?: ConsentDecision,
  ): Promise<{ page: Answer; tiktokUrl: string; callbackUrl: string; landing: Answer }>;
  /** Starts a consent on the invite page and returns TikTok's consent URL (the person has not answered yet). */
  start(link: string): Promise<string>;
  /** TikTok's answer to a consent URL: the callback URL it redirects to. */
  answer(tiktokUrl: string, decision?: ConsentDecision): Promise<string>;
  close(): Promise<void>;
}

export async function inviteWorld(
  users: readonly string[],
  options: { sandbox?: SandboxOptions } = {},
): Promise<InviteWorld> {
  const database = await createTestDatabase();
  const directory = await mkdtemp(path.join(tmpdir(), 'invites-test-'));
  const sandbox = await sandboxWith({
    readyDelayMs: 2 * MINUTE,
    redirectUris: ['http://127.0.0.1:*/sync/oauth/callback', 'http://127.0.0.1:*/oauth/callback'],
    accounts: users.map((username) => ({ username, scale: 25 })),
    ...options.sandbox,
  });
  const clock = sandbox.clock as SimulatedClock;
  const logs: string[] = [];
  const pages: string[] = [];
  const urls: string[] = [];
  const daemons: TestDaemon[] = [];

  // The reverse proxy: passes the path on as it is, and tells the daemon a Host it must not believe.
  let target: string | undefined;
  const proxy = createServer((request, response) => {
    if (!target) {
      response.writeHead(502).end('no daemon');
      return;
    }
    const upstream = new URL(target);
    const forwarded = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: request.method,
        path: request.url,
        headers: {
          ...request.headers,
          host: 'attacker.example',
          'x-forwarded-host': 'attacker.example',
          'x-forwarded-proto': 'http',
        },
      },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    forwarded.on('error', () => response.destroy());
    request.pipe(forwarded);
  });
  const proxied = await listen(proxy, { host: '127.0.0.1', port: 0 });
  const publicUrl = `${proxied.url}/sync`;
  const config = async (extra: Record<string, unknown> = {}, env: Record<string, string> = {}) => {
    const written = await writeDaemonConfig(directory, database.url, sandbox, {
      server: { publicUrl, operatorName: OPERATOR.name, operatorContact: OPERATOR.contact },
      ...extra,
    });
    return loadConfig({ configPath: written.file, env: { ...written.env, ...env } });
  };

  const get = async (url: string, init: RequestInit = {}): Promise<Answer> => {
    const response = await fetch(url, { redirect: 'manual', ...init });
    const html = await response.text();
    urls.push(url);
    pages.push(html);
    return {
      status: response.status,
      headers: response.headers,
      html,
      kind: /<main data-page="([^"]+)">/.exec(html)?.[1],
      title: /<h1>([^<]*)<\/h1>/.exec(html)?.[1],
    };
  };

  const start = async (link: string) => {
    const page = await get(link);
    const action = /<form method="post" action="([^"]+)">/.exec(page.html)?.[1];
    if (!action) throw new Error(`the invite page has no form (${page.status} ${page.kind})`);
    const started = await get(action, { method: 'POST', headers: { origin: new URL(publicUrl).origin } });
    const tiktokUrl = started.headers.get('location');
    if (started.status !== 303 || !tiktokUrl)
      throw new Error(`starting the consent answered ${started.status}`);
    urls.push(tiktokUrl);
    return tiktokUrl;
  };

  const answer = async (tiktokUrl: string, decision?: ConsentDecision) => {
    if (decision) sandbox.consent(decision);
    const consent = await fetch(tiktokUrl, { redirect: 'manual' });
    await consent.arrayBuffer();
    const callbackUrl = consent.headers.get('location');
    if (consent.status !== 302 || !callbackUrl) throw new Error(`the sandbox answered ${consent.status}`);
    urls.push(callbackUrl);
    return callbackUrl;
  };

  const world: InviteWorld = {
    database,
    db: database.db.withTables<TikTokTables>(),
    sandbox,
    clock,
    publicUrl,
    logs,
    pages,
    urls,
    config,
    async daemon(owner, given) {
      const daemon = await startTestDaemon(database.url, given ?? (await config()), {
        clock,
        owner,
        listen: '127.0.0.1:0',
        logger: createLogger({
          level: 'info',
          format: 'json',
          destination: { write: (line: string) => void logs.push(line) },
        }),
      });
      daemons.push(daemon);
      return daemon;
    },
    serve(daemon) {
      target = daemon.url;
    },
    async invite(inviteOptions = {}) {
      const { invite, token } = await createInvite(world.db, {
        accountName: inviteOptions.accountName,
        expiresInMs: inviteOptions.expiresInMs ?? 7 * DAY,
        now: clock.now(),
      });
      return { inviteId: invite.inviteId, link: inviteLink(publicUrl, token), token: token.reveal() };
    },
    get,
    start,
    answer,
    async consent(link, decision) {
      const page = await get(link);
      const tiktokUrl = await start(link);
      const callbackUrl = await answer(tiktokUrl, decision);
      return { page, tiktokUrl, callbackUrl, landing: await get(callbackUrl) };
    },
    async close() {
      for (const daemon of daemons) await daemon.close().catch(() => {});
      await proxied.close();
      await sandbox.close();
      await database.drop();
      await rm(directory, { recursive: true, force: true });
    },
  };
  return world;
}

/** Rows of a query on the test database. */
export async function rows<T = Record<string, unknown>>(
  database: TestDatabase,
  text: string,
  values: unknown[] = [],
): Promise<T[]> {
  return (await database.pool.query(text, values)).rows as T[];
}
