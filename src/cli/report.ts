import path from 'node:path';
import type { Command } from 'commander';
import { ConfigError } from '../errors.js';
import { parseHostPort } from '../host-port.js';
import { makePrivateDir, writePrivateFile } from '../private-files.js';
import { buildReport, type ReportOptions } from '../report/build.js';
import { renderReport } from '../report/html.js';
import { chartsOf } from '../report/model.js';
import { startReportServer } from '../report/server.js';
import { isLoopback } from '../server/loopback.js';
import type { AccountCommandDeps } from './account.js';
import { type CommandContext, withDatabase } from './context.js';
import type { Output } from './output.js';

export const DEFAULT_REPORT_LISTEN = '127.0.0.1:8725';

export interface ReportCommandOptions extends ReportOptions {
  /** Where to write the page; default `<dataDir>/report.html`. */
  out?: string | undefined;
}

/** Writes the report to a file (0600: it shows messages, logins and devices); returns its path. */
export async function writeReport(context: CommandContext, options: ReportCommandOptions): Promise<string> {
  const file = path.resolve(options.out ?? path.join(context.config.dataDir, 'report.html'));
  const report = await buildReport(context.database.pool, options);
  await makePrivateDir(path.dirname(file));
  await writePrivateFile(file, renderReport(report));
  return file;
}

/** `tiktok-sync report`: one self-contained HTML file that opens offline. */
export async function cmdReport(
  context: CommandContext,
  output: Output,
  options: ReportCommandOptions,
): Promise<void> {
  const file = await writeReport(context, options);
  const scope = options.account === undefined ? 'every account' : `account \`${options.account}\``;
  output.out(`Wrote the report of ${scope} to ${file}`);
  output.out(
    'Open it in a browser; it needs no network. It shows messages, logins and devices: keep it private.',
  );
}

export interface ServeOptions extends ReportOptions {
  /** `host:port`, an IPv6 host in brackets; port 0 picks a free one. */
  listen: string;
  /** Listen on an address other than loopback. */
  allowRemote?: boolean | undefined;
}

/** `tiktok-sync serve`: the report live from the database, read-only, until interrupted. */
export async function cmdServe(
  context: CommandContext,
  output: Output,
  options: ServeOptions,
): Promise<void> {
  const { host, port } = parseListen(options.listen);
  if (!isLoopback(host) && !options.allowRemote) {
    throw new ConfigError(
      'report_listen_not_loopback',
      `--listen ${options.listen} is not a loopback address, and the report shows messages, logins and devices to whoever reaches it; listen on 127.0.0.1 (the default, ${DEFAULT_REPORT_LISTEN}) and forward the port, or pass --allow-remote behind your own access control.`,
    );
  }
  // The account and the zone are checked before listening, so that a mistake stops the command.
  const first = await buildReport(context.database.pool, options);
  const listening = await startReportServer({
    pool: context.database.pool,
    host,
    port,
    report: { account: options.account, tz: options.tz },
    logger: context.logger,
  });
  try {
    const scope = options.account === undefined ? 'every account' : `account \`${options.account}\``;
    output.out(
      `Serving the report of ${scope} (${chartsOf(first).length} charts now) on ${listening.url}/ read-only, until Ctrl-C.`,
    );
    if (!isLoopback(host)) {
      output.err(
        `warning: ${listening.url} is reachable from other machines; anyone who reaches it reads this report.`,
      );
    }
    await new Promise<void>((resolve) => {
      if (context.signal.aborted) resolve();
      context.signal.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    await listening.close(1_000);
  }
}

function parseListen(listen: string): { host: string; port: number } {
  const parsed = parseHostPort(listen);
  if (parsed === undefined) {
    throw new ConfigError(
      'config_invalid',
      `--listen is \`${listen}\`; expected host:port, e.g. ${DEFAULT_REPORT_LISTEN} (port 0 picks a free one).`,
    );
  }
  return parsed;
}

/** Registers `tiktok-sync report` and `tiktok-sync serve`. */
export function registerReportCommands(program: Command, deps: AccountCommandDeps): void {
  program
    .command('report')
    .description(
      'write the report: one HTML file with charts of activity, watch sessions, changes between syncs, followers, searches, messages, logins and the sync history; opens offline',
    )
    .option('-a, --account <name>', 'only this account (default: every account)')
    .option('-o, --out <file>', 'where to write it (default: <dataDir>/report.html)')
    .option('--tz <zone>', "IANA time zone of days, hours and times (default: each account's own)")
    .action(async (options: { account?: string; out?: string; tz?: string }) => {
      const { config, logger } = deps.context();
      await withDatabase(config, logger, deps.signal, (ctx) => cmdReport(ctx, deps.output, options));
    });

  program
    .command('serve')
    .description(
      'serve the report live from the database, read-only, until Ctrl-C (loopback only by default)',
    )
    .option('--listen <host:port>', 'where to listen (port 0 picks a free one)', DEFAULT_REPORT_LISTEN)
    .option('-a, --account <name>', 'only this account (default: every account)')
    .option('--tz <zone>', "IANA time zone of days, hours and times (default: each account's own)")
    .option('--allow-remote', 'allow a --listen address other than loopback (the report shows private data)')
    .action(async (options: { listen: string; account?: string; tz?: string; allowRemote?: boolean }) => {
      const { config, logger } = deps.context();
      await withDatabase(config, logger, deps.signal, (ctx) => cmdServe(ctx, deps.output, options));
    });
}
