import { type Command, InvalidArgumentError } from 'commander';
import type { DestinationStream } from 'pino';
import type { Config } from '../config.js';
import { openDatabase } from '../db/connect.js';
import { ConfigError, TerminalError } from '../errors.js';
import { parseHostPort } from '../host-port.js';
import { createLogger, type Logger } from '../logger.js';
import { type Daemon, startDaemon } from '../scheduler/daemon.js';
import { daemonDatabase } from '../scheduler/pool.js';
import { accountSyncStatus, formatAccountSyncStatus } from '../scheduler/status.js';
import type { TikTokTables } from '../tiktok/db-types.js';
import { prepareDatabase } from './context.js';
import type { Output } from './output.js';
import { requireEncryptionKey, requireTikTokApp } from './tiktok-app.js';

export interface RunCommandDeps {
  output: Output;
  /** Aborted on SIGTERM/SIGINT. */
  signal: AbortSignal;
  /** The validated config (the program's `--config` applies). */
  loadConfig(): Config;
  /** Where log lines go instead of stderr. */
  logDestination?: DestinationStream | undefined;
  /**
   * What to log as the daemon starts: warnings about the config file (others can read its secrets)
   * and notes on folders made private (src/private-files.ts).
   */
  startupNotices?: ((config: Config) => { warnings: string[]; notes: string[] }) | undefined;
}

export interface RunOptions {
  /** One tick: sync the accounts due now, wait for them, print their status and return. */
  once?: boolean | undefined;
  /** Schedule accounts stopped by a terminal failure again: true for all, or these names. */
  retryStopped?: boolean | string[] | undefined;
  /** `host:port` for /healthz, /metrics and the webhook (overrides `sync.listen`). */
  listen?: string | undefined;
  concurrency?: number | undefined;
  /** Default: lines on stderr at `logLevel` (info unless configured), in `logFormat`. */
  logger?: Logger | undefined;
}

/** Registers `tiktok-sync run`, the sync daemon. */
export function registerRunCommand(program: Command, deps: RunCommandDeps): void {
  program
    .command('run')
    .description(
      "the sync daemon: re-requests every connected account's export on its interval, until SIGTERM/SIGINT",
    )
    .option('--once', 'sync the accounts due now, wait for them, print their status and exit')
    .option('--retry-stopped [accounts...]', 'schedule accounts stopped by a terminal failure again')
    .option('--listen <host:port>', 'serve /healthz, /metrics and the webhook here (default sync.listen)')
    .option('--concurrency <n>', 'accounts worked on at once (default sync.concurrency)', positiveInt)
    .option(
      '--print-redirect-uri',
      'print the OAuth redirect URI of invite links (<server.publicUrl>/oauth/callback), to register with the TikTok app, and exit',
    )
    .action(
      async (options: {
        once?: boolean;
        retryStopped?: boolean | string[];
        listen?: string;
        concurrency?: number;
        printRedirectUri?: boolean;
      }) => {
        const config = deps.loadConfig();
        if (options.printRedirectUri) {
          deps.output.out(webRedirectUri(config));
          return;
        }
        // The daemon logs what it does; `--once` prints a status table and only logs problems.
        const level = config.logLevel ?? (options.once ? 'warn' : 'info');
        const logger = createLogger({ level, format: config.logFormat, destination: deps.logDestination });
        const notices = deps.startupNotices?.(config);
        for (const warning of notices?.warnings ?? []) logger.warn(warning);
        for (const note of notices?.notes ?? []) logger.warn(note);
        await runDaemon(config, deps.output, deps.signal, { ...options, logger });
      },
    );
}

/**
 * Runs the daemon until `signal` aborts, then stops it within `sync.shutdownTimeout`: the current
 * stages get `sync.shutdownGrace` to finish, then are abandoned, and every claim is released.
 */
export async function runDaemon(
  loaded: Config,
  output: Output,
  signal: AbortSignal,
  options: RunOptions = {},
): Promise<void> {
  if (options.listen !== undefined && parseHostPort(options.listen) === undefined) {
    throw new ConfigError(
      'config_invalid',
      `--listen is \`${options.listen}\`; expected host:port, e.g. 0.0.0.0:8724.`,
    );
  }
  const config: Config = options.concurrency
    ? { ...loaded, sync: { ...loaded.sync, concurrency: options.concurrency } }
    : loaded;
  requireTikTokApp(config);
  requireEncryptionKey(config);
  const logger =
    options.logger ?? createLogger({ level: config.logLevel ?? 'info', format: config.logFormat });
  const base = await openDatabase(config, logger);
  let daemon: Daemon | undefined;
  const database = daemonDatabase(base, config, config.sync.concurrency + 4);
  try {
    await prepareDatabase(base, logger);
    daemon = await startDaemon({
      config,
      database,
      logger,
      cron: !options.once,
      ...(options.listen ? { listen: options.listen } : options.once ? { listen: false } : {}),
      ...(options.retryStopped ? { retryStopped: options.retryStopped } : {}),
    });
    if (options.once) {
      await daemon.tick();
      await daemon.idle();
      await daemon.stop();
      const rows = await accountSyncStatus(database.db.withTables<TikTokTables>(), { now: Date.now() });
      output.out(formatAccountSyncStatus(rows, Date.now()));
      const stopped = rows.filter((row) => row.state === 'stopped').map((row) => `\`${row.account}\``);
      if (stopped.length > 0) {
        throw new TerminalError(
          'accounts_stopped',
          `${stopped.length} account(s) stopped: ${stopped.join(', ')} (the reason is above). Fix it, then \`tiktok-sync run --retry-stopped\`.`,
        );
      }
      return;
    }
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
    logger.info('signal received: stopping the daemon');
    // The stop bounds itself; this is a last guard so the process always exits.
    await Promise.race([
      daemon.stop(),
      new Promise<void>((resolve) => setTimeout(resolve, config.sync.shutdownTimeoutMs + 2_000).unref()),
    ]);
  } finally {
    // A connection still held by abandoned work must not keep the process from exiting.
    await Promise.race([
      database.close().catch(() => {}),
      new Promise<void>((resolve) => setTimeout(resolve, 2_000).unref()),
    ]);
    await base.close().catch(() => {});
  }
}

/** The redirect URI the daemon's invite pages send to TikTok, or a sentence saying what to set. */
export function webRedirectUri(config: Config): string {
  if (!config.server.redirectUri) {
    throw new ConfigError(
      'public_url_missing',
      'server.publicUrl is not set (config file key `server.publicUrl`, or TIKTOK_SYNC_PUBLIC_URL): set it to the https address people reach the daemon at; the redirect URI is that address followed by /oauth/callback.',
    );
  }
  return config.server.redirectUri;
}

function positiveInt(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0 || parsed > 256)
    throw new InvalidArgumentError('expected a whole number from 1 to 256.');
  return parsed;
}
