import type { Config } from '../config.js';
import { type DatabaseHandle, openDatabase } from '../db/connect.js';
import { type MigrateOutcome, migrateToLatest } from '../db/migrate.js';
import { closeStoppedRuns } from '../ingest/runs.js';
import type { Logger } from '../logger.js';

export interface CommandContext {
  readonly config: Config;
  readonly logger: Logger;
  readonly database: DatabaseHandle;
  readonly signal: AbortSignal;
}

/**
 * Opens the database (starting the embedded one if needed), migrates it, closes the runs of
 * processes that stopped without recording an outcome, runs `work`, closes the database.
 */
export async function withDatabase<T>(
  config: Config,
  logger: Logger,
  signal: AbortSignal,
  work: (context: CommandContext) => Promise<T>,
): Promise<T> {
  const database = await openDatabase(config, logger);
  try {
    await prepareDatabase(database, logger);
    return await work({ config, logger, database, signal });
  } finally {
    await database.close();
  }
}

/**
 * What every command does once connected: brings the schema up to date, and closes the runs whose
 * process stopped (killed, or cut off from the database) without recording an outcome, whatever the
 * command and the account (src/ingest/runs.ts). A failure to close them is only logged.
 */
export async function prepareDatabase(database: DatabaseHandle, logger: Logger): Promise<MigrateOutcome> {
  const migrated = await migrateToLatest(database.db);
  if (migrated.applied.length > 0) logger.info({ applied: migrated.applied }, 'database migrated');
  await closeStoppedRuns(database.pool, logger).catch((error) =>
    logger.warn({ err: error }, 'could not close the runs of stopped processes'),
  );
  return migrated;
}
