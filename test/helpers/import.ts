import { connectTo } from '../../src/db/connect.js';
import { DEFAULT_ARCHIVE_LIMITS } from '../../src/ingest/archive.js';
import {
  type ImportContext,
  type ImportOptions,
  type ImportResult,
  importArchive,
} from '../../src/ingest/import-archive.js';
import { silentLogger } from '../../src/logger.js';

/**
 * `importArchive` on a connection of its own to the database at `url`, as a command would run it:
 * silent, default limits, plus what `context` adds (a quarantine or kept-archives directory…).
 */
export async function importInto(
  url: string,
  options: ImportOptions,
  context: Partial<Omit<ImportContext, 'database'>> = {},
): Promise<ImportResult> {
  const handle = connectTo(url);
  try {
    return await importArchive(
      { database: handle, logger: silentLogger(), limits: DEFAULT_ARCHIVE_LIMITS, ...context },
      options,
    );
  } finally {
    await handle.close();
  }
}
