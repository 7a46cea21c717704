import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { DestinationStream } from 'pino';
import { registerAccountCommands } from './cli/account.js';
import { duration } from './cli/arguments.js';
import { cmdCancel } from './cli/cancel.js';
import { configFileWarnings } from './cli/config-file-check.js';
import { cmdConnect, preflightConnect } from './cli/connect.js';
import { prepareDatabase, withDatabase } from './cli/context.js';
import { cmdDb } from './cli/db.js';
import { cmdDemo } from './cli/demo.js';
import { registerForgetCommand } from './cli/forget.js';
import { cmdGrantAnalyst } from './cli/grant-analyst.js';
import { cmdImport } from './cli/import.js';
import { registerInviteCommand } from './cli/invite.js';
import { type Output, processOutput, visibleOutput } from './cli/output.js';
import { registerReportCommands } from './cli/report.js';
import { cmdReprocess } from './cli/reprocess.js';
import { registerRunCommand } from './cli/run.js';
import { cmdSandbox } from './cli/sandbox.js';
import { cmdStatus } from './cli/status.js';
import { cmdSync } from './cli/sync.js';
import { requireEncryptionKey, requireTikTokApp } from './cli/tiktok-app.js';
import { reportUnknownOptionsFirst } from './cli/unknown-options-first.js';
import { packageVersion } from './cli/version.js';
import { type Config, loadConfig } from './config.js';
import { openDatabase } from './db/connect.js';
import { isConnectionLost } from './db/connection-loss.js';
import { coerceError, InterruptedError, PipelineError, StageFailedError } from './errors.js';
import { createLogger } from './logger.js';
import { tightenPrivateData } from './private-files.js';
import { parseFaultFlags } from './sandbox/index.js';
import { ERAS, type Era } from './synthetic/index.js';

export interface MainOptions {
  /** Stops long-running commands (besides SIGINT/SIGTERM); for tests and embedding. */
  signal?: AbortSignal;
  /** Where log lines go instead of stderr. */
  logDestination?: DestinationStream;
}

/**
 * The command line. The only place that sets exit codes: 0 success, 1 failure, 2 usage error,
 * 130 interrupted. Returns the exit code instead of exiting, so that tests can call it in-process.
 */
export async function main(
  argv: string[],
  given: Output = processOutput,
  options: MainOptions = {},
): Promise<number> {
  const output = visibleOutput(given);
  const controller = new AbortController();
  // The first SIGINT or SIGTERM stops the command (each stage gives up within a second or so, and the
  // run is recorded); a second one, with no listener left, ends the process at once.
  const onSignal = (signal: NodeJS.Signals) => controller.abort(new InterruptedError(signal));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const stop = () => controller.abort(options.signal?.reason);
  if (options.signal?.aborted) stop();
  else options.signal?.addEventListener('abort', stop, { once: true });

  const program = new Command('tiktok-sync')
    .description("Keeps a PostgreSQL database in step with TikTok users' data exports.")
    .option(
      '-c, --config <file>',
      'config file (JSON); default ./tiktok-sync.config.json, or TIKTOK_SYNC_CONFIG',
    )
    .version(packageVersion(), '-V, --version', 'print the version')
    .exitOverride()
    .configureOutput({ writeOut: (s) => output.out(s.trimEnd()), writeErr: (s) => output.err(s.trimEnd()) });

  /** What a command says before it starts: a config file others can read, folders made private. */
  const startupNotices = (config: Config) => ({
    warnings: configFileWarnings({ configPath: program.opts().config }),
    notes: tightenPrivateData(config),
  });

  const context = () => {
    const config = loadConfig({ configPath: program.opts().config });
    const { warnings, notes } = startupNotices(config);
    for (const warning of warnings) output.err(`warning: ${warning}`);
    for (const note of notes) output.err(`note: ${note}`);
    // One-shot commands print their own outcome; LOG_LEVEL=info shows the log lines too.
    const logger = createLogger({
      level: config.logLevel ?? 'error',
      format: config.logFormat,
      destination: options.logDestination,
    });
    return { config, logger };
  };

  program
    .command('import')
    .description(
      'import one TikTok data export into the database: its zip, the folder it unzips to, or its JSON or TXT file',
    )
    .argument(
      '<path>',
      'the export: a .zip (e.g. TikTok_Data_1764000000.zip), an unzipped export folder (JSON or TXT), or a bare user_data_tiktok.json or section .txt file',
    )
    .requiredOption('-a, --account <name>', 'the account the export belongs to (created on first use)')
    .option('--force', 'merge the export even if it is the one last imported for the account')
    .option('--member <path>', 'the export to read when the archive holds several (as the error lists them)')
    .option(
      '--accept-removals',
      'store the export even when it would mark many stored records removed or empty them (the removal guard)',
    )
    .addHelpText(
      'after',
      [
        '',
        'A zip is told by its first bytes, whatever its name. A folder is read at any',
        'depth: files that zip tools and Finder add (__MACOSX/, ._*, .DS_Store) are',
        'skipped, links inside it are not followed, and a link that leads out of it',
        'refuses the folder. A TXT list split into numbered parts (Following_1.txt,',
        'Following_2.txt …) is read as one section, in part order.',
      ].join('\n'),
    )
    .action(
      async (
        input: string,
        options: { account: string; force?: boolean; member?: string; acceptRemovals?: boolean },
      ) => {
        const { config, logger } = context();
        await withDatabase(config, logger, controller.signal, (ctx) =>
          cmdImport(ctx, output, input, options),
        );
      },
    );

  program
    .command('reprocess')
    .description(
      'read the kept archives of an account (or of all) again with the current parsers, writing only what changes',
    )
    .option('-a, --account <name>', 'only this account')
    .addHelpText(
      'after',
      [
        '',
        'Imported archives are kept in <dataDir>/archives (archive.keep: all, none or',
        'the last N per account; TIKTOK_SYNC_KEEP_ARCHIVES). Reprocess replays them in',
        'the order TikTok made them into shadow tables, then writes only the',
        'differences: after an upgrade, a newly read section fills from every kept',
        'archive, removals included; with unchanged parsers nothing is written.',
      ].join('\n'),
    )
    .action(async (options: { account?: string }) => {
      const { config, logger } = context();
      await withDatabase(config, logger, controller.signal, (ctx) => cmdReprocess(ctx, output, options));
    });

  program
    .command('migrate')
    .description('bring the database schema up to date (import does this too)')
    .action(async () => {
      const { config, logger } = context();
      const database = await openDatabase(config, logger);
      try {
        const { applied, latest } = await prepareDatabase(database, logger);
        output.out(
          applied.length > 0
            ? `Applied ${applied.join(', ')}; schema is at ${latest}.`
            : `Schema is up to date (${latest}).`,
        );
      } finally {
        await database.close();
      }
    });

  program
    .command('status')
    .description('list accounts, archives and recent runs')
    .option('-a, --account <name>', 'only this account')
    .option('--json', 'machine-readable output')
    .option('-n, --limit <n>', 'number of archives and runs to show', positiveInt, 20)
    .action(async (options: { account?: string; json?: boolean; limit: number }) => {
      const { config, logger } = context();
      await withDatabase(config, logger, controller.signal, (ctx) => cmdStatus(ctx, output, options));
    });

  program
    .command('db')
    .description('start the embedded Postgres and keep it running for psql or a BI tool (Ctrl-C stops it)')
    .action(async () => {
      const { config, logger } = context();
      await withDatabase(config, logger, controller.signal, (ctx) => cmdDb(ctx, output));
    });

  program
    .command('connect')
    .description(
      "connect a TikTok account: TikTok's consent page in the browser, then the tokens stored encrypted",
    )
    .option(
      '-a, --account <name>',
      'the account to store it as; default: the one this TikTok user has, else its open_id',
    )
    .option('--no-open', 'only print the consent URL (default: also open it when a desktop session is found)')
    .option('--timeout <seconds>', "how long to wait for TikTok's redirect", positiveInt, 300)
    .action(async (commandOptions: { account?: string; open: boolean; timeout: number }) => {
      const { config, logger } = context();
      preflightConnect({ config });
      await withDatabase(config, logger, controller.signal, (ctx) =>
        cmdConnect(ctx, output, { ...commandOptions, desktop: isDesktopSession() }),
      );
    });

  program
    .command('sync')
    .description("sync an account through TikTok's Data Portability API: request, wait, download, import")
    .requiredOption('-a, --account <name>', 'a connected account')
    .option('--once', 'one full sync, then exit (required: continuous syncing is not part of this command)')
    .option('--resume', 'only continue the data request in flight; never make a new one')
    .option('--accept-removals', 'store the export even when the removal guard would hold it back')
    .action(
      async (
        commandOptions: { account: string; once?: boolean; resume?: boolean; acceptRemovals?: boolean },
        command: Command,
      ) => {
        if (!commandOptions.once) {
          command.error(
            'error: `sync` runs one sync and needs --once, e.g. `tiktok-sync sync --account me --once`.',
          );
        }
        const { config, logger } = context();
        requireTikTokApp(config);
        requireEncryptionKey(config);
        await withDatabase(config, logger, controller.signal, (ctx) => cmdSync(ctx, output, commandOptions));
      },
    );

  program
    .command('cancel')
    .description("cancel an account's data request in flight")
    .requiredOption('-a, --account <name>', 'a connected account')
    .action(async (commandOptions: { account: string }) => {
      const { config, logger } = context();
      requireTikTokApp(config);
      requireEncryptionKey(config);
      await withDatabase(config, logger, controller.signal, (ctx) => cmdCancel(ctx, output, commandOptions));
    });

  program
    .command('sandbox')
    .description('run a local stand-in for TikTok (OAuth, Data Portability API, webhooks) until Ctrl-C')
    .option('-p, --port <n>', 'port on 127.0.0.1 (0 picks a free one)', port, 8722)
    .addOption(
      new Option('--users <names>', 'comma-separated sandbox users')
        .argParser(commaList)
        .default(['sandbox.user'], 'sandbox.user'),
    )
    .addOption(new Option('--era <era>', 'export layout').choices(ERAS).default('2025'))
    .addOption(
      new Option('--ready-after <duration>', 'time from a request to its archive being ready, e.g. 30s, 2m')
        .argParser(duration)
        .default(60_000, '60s'),
    )
    .option(
      '--faults <flags>',
      'faults to inject, e.g. 5xx=2@check,429=1:5,reset-download=1:4096',
      faultFlags,
    )
    .option(
      '--webhook-url <url>',
      'where to send webhooks (default: the TIKTOK_WEBHOOK_LISTEN address, if set)',
    )
    .action(
      async (commandOptions: {
        port: number;
        users: string[];
        era: Era;
        readyAfter: number;
        faults?: string;
        webhookUrl?: string;
      }) => {
        const { config, logger } = context();
        await cmdSandbox(config, logger, output, controller.signal, {
          port: commandOptions.port,
          users: commandOptions.users,
          era: commandOptions.era,
          readyAfterMs: commandOptions.readyAfter,
          faults: commandOptions.faults,
          webhookUrl: commandOptions.webhookUrl,
        });
      },
    );

  program
    .command('demo')
    .description('connect a sandbox user through OAuth and sync it twice into the database, in seconds')
    .action(async () => {
      const { config, logger } = context();
      await withDatabase(config, logger, controller.signal, (ctx) => cmdDemo(ctx, output));
    });

  program
    .command('grant-analyst')
    .description(
      'let a Postgres role read schema tiktok (data and views) and nothing else; tiktok_private (contact data, places, payments, raw sections) only with --include-private',
    )
    .argument('<role>', 'the role; created NOLOGIN if missing')
    .option('--include-private', 'also grant schema tiktok_private', false)
    .action(async (role: string, opts: { includePrivate: boolean }) => {
      const { config, logger } = context();
      await withDatabase(config, logger, controller.signal, (ctx) =>
        cmdGrantAnalyst(ctx, output, role, { includePrivate: opts.includePrivate }),
      );
    });

  registerRunCommand(program, {
    output,
    signal: controller.signal,
    logDestination: options.logDestination,
    loadConfig: () => loadConfig({ configPath: program.opts().config }),
    startupNotices,
  });

  registerAccountCommands(program, { output, signal: controller.signal, context });
  registerForgetCommand(program, { output, signal: controller.signal, context });
  registerInviteCommand(program, { output, signal: controller.signal, context });
  registerReportCommands(program, { output, signal: controller.signal, context });
  reportUnknownOptionsFirst(program);

  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? 0 : 2;
    }
    if (controller.signal.aborted) {
      // The stopped run says where it stopped and what was kept; anything else only that it stopped.
      const inner = error instanceof StageFailedError ? coerceError(error.cause) : undefined;
      output.err(inner instanceof InterruptedError ? inner.message : 'Interrupted.');
      return 130;
    }
    output.err(`error: ${describe(error)}`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    options.signal?.removeEventListener('abort', stop);
  }
}

/** A desktop session, where `connect` may open the browser itself. */
function isDesktopSession(): boolean {
  return Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY) || process.platform === 'darwin';
}

/** Failures whose message already says which run stopped where, and what of it was stored. */
const RUN_SENTENCES = new Set(['database_connection_lost', 'interrupted']);

function describe(thrown: unknown): string {
  const error = coerceError(thrown);
  if (error instanceof StageFailedError) {
    const inner = coerceError(error.cause);
    if (inner instanceof PipelineError && RUN_SENTENCES.has(inner.code)) return inner.message;
    const run = error.runId
      ? ` (run ${error.runId} is marked failed at stage \`${error.stage}\`; stored data is unchanged)`
      : '';
    return `${inner.message}${run}`;
  }
  if (error instanceof PipelineError) return error.message;
  if (isConnectionLost(error)) {
    return `The database connection was lost (${error.message}); check that the server runs, then run the command again.`;
  }
  return `${error.message} (unexpected; please report it with the log above)`;
}

function port(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65535)
    throw new InvalidArgumentError('expected a port number (0 picks a free one).');
  return parsed;
}

function commaList(value: string): string[] {
  const names = value
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (names.length === 0) throw new InvalidArgumentError('expected one or more comma-separated names.');
  return names;
}

function faultFlags(value: string): string {
  try {
    parseFaultFlags(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
  return value;
}

function positiveInt(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0)
    throw new InvalidArgumentError('expected a positive whole number.');
  return parsed;
}
