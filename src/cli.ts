import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { withDatabase } from './cli/context.js';
import { cmdDb } from './cli/db.js';
import { cmdImport } from './cli/import.js';
import { type Output, processOutput } from './cli/output.js';
import { cmdStatus } from './cli/status.js';
import { loadConfig } from './config.js';
import { openDatabase } from './db/connect.js';
import { migrateToLatest } from './db/migrate.js';
import { coerceError, PipelineError, StageFailedError } from './errors.js';
import { createLogger } from './logger.js';

/**
 * The command line. The only place that sets exit codes: 0 success, 1 failure, 2 usage error.
 * Returns the exit code instead of exiting, so that tests can call it in-process.
 */
export async function main(argv: string[], output: Output = processOutput): Promise<number> {
  const controller = new AbortController();
  const onSignal = () => controller.abort(new Error('Interrupted by a signal.'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const program = new Command('tiktok-sync')
    .description("Keeps a PostgreSQL database in step with TikTok users' data exports.")
    .option(
      '-c, --config <file>',
      'config file (JSON); default ./tiktok-sync.config.json, or TIKTOK_SYNC_CONFIG',
    )
    .exitOverride()
    .configureOutput({ writeOut: (s) => output.out(s.trimEnd()), writeErr: (s) => output.err(s.trimEnd()) });

  const context = () => {
    const config = loadConfig({ configPath: program.opts().config });
    // One-shot commands print their own outcome; LOG_LEVEL=info shows the log lines too.
    const logger = createLogger({ level: config.logLevel ?? 'error' });
    return { config, logger };
  };

  program
    .command('import')
    .description('import one TikTok data export (zip, JSON or TXT) into the database')
    .argument('<zip>', 'the export archive, e.g. TikTok_Data_1764000000.zip')
    .requiredOption('-a, --account <name>', 'the account the export belongs to (created on first use)')
    .action(async (zip: string, options: { account: string }) => {
      const { config, logger } = context();
      await withDatabase(config, logger, controller.signal, (ctx) => cmdImport(ctx, output, zip, options));
    });

  program
    .command('migrate')
    .description('bring the database schema up to date (import does this too)')
    .action(async () => {
      const { config, logger } = context();
      const database = await openDatabase(config, logger);
      try {
        const { applied, latest } = await migrateToLatest(database.db);
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

  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? 0 : 2;
    }
    output.err(`error: ${describe(error)}`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function describe(thrown: unknown): string {
  const error = coerceError(thrown);
  if (error instanceof StageFailedError) {
    const inner = coerceError(error.cause);
    const run = error.runId
      ? ` (run ${error.runId} is marked failed at stage \`${error.stage}\`; stored data is unchanged)`
      : '';
    return `${inner.message}${run}`;
  }
  if (error instanceof PipelineError) return error.message;
  return `${error.message} (unexpected; please report it with the log above)`;
}

function positiveInt(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0)
    throw new InvalidArgumentError('expected a positive whole number.');
  return parsed;
}
