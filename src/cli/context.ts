import type { Config } from '../config.js';
import { type DatabaseHandle, openDatabase } from '../db/connect.js';
import { migrateToLatest } from '../db/migrate.js';
import type { Logger } from '../logger.js';

export interface CommandContext {
  readonly config: Config;
  readonly logger: Logger;
  readonly database: DatabaseHandle;
  readonly signal: AbortSignal;
}

/** Opens the database (starting the embedded one if needed), migrates it, runs `work`, closes it. */
export async function withDatabase<T>(
  config: Config,
  logger: Logger,
  signal: AbortSignal,
  work: (context: CommandContext) => Promise<T>,
): Promise<T> {
  const database = await openDatabase(config, logger);
  try {
    const { applied } = await migrateToLatest(database.db);
    if (applied.length > 0) logger.info({ applied }, 'database migrated');
    return await work({ config, logger, database, signal });
  } finally {
    await database.close();
  }
}
