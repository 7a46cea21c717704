import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Kysely, Migration, MigrationProvider, MigrationResult } from 'kysely';
import { Migrator } from 'kysely';
import { TerminalError, TransientError } from '../errors.js';
import { isConnectionLost } from './connection-loss.js';

/** `migrations/` next to `src/` (from the sources) or next to `dist/src/` (when built). */
export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations');

export interface MigrateOutcome {
  applied: string[];
  latest: string | undefined;
}

/**
 * Brings the schema up to date with kysely's Migrator. Its Postgres adapter holds an advisory lock
 * while it runs, so two processes starting at once apply each migration exactly once.
 */
// biome-ignore lint/suspicious/noExplicitAny: kysely migrations work on an untyped database, whatever the app's types.
export async function migrateToLatest(db: Kysely<any>): Promise<MigrateOutcome> {
  const migrator = new Migrator({
    db,
    provider: new FolderMigrationProvider(MIGRATIONS_DIR),
    migrationTableSchema: 'tiktok_sync',
  });
  const { error, results = [] } = await migrator.migrateToLatest();
  const applied = results.filter((r: MigrationResult) => r.status === 'Success').map((r) => r.migrationName);
  if (error) {
    if (isConnectionLost(error)) {
      // Each migration runs in its own transaction: the ones applied stay, the one cut off left nothing.
      throw new TransientError(
        'database_connection_lost',
        `The database connection was lost while the schema was brought up to date (${(error as Error).message}); the migrations applied stay applied: run the command again.`,
        { cause: error },
      );
    }
    const failed = results.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new TerminalError(
      'migration_failed',
      `Migration \`${failed}\` failed (${(error as Error).message ?? String(error)}); the database was left at the last good migration. Fix the cause and run \`tiktok-sync migrate\` again.`,
      { cause: error },
    );
  }
  const all = await migrator.getMigrations();
  return { applied, latest: all.filter((m) => m.executedAt).at(-1)?.name };
}

/**
 * Loads `NNNN_name.ts|js` files from the migrations folder. Like kysely's FileMigrationProvider, but
 * the dynamic import runs from this module, so the test runner's TypeScript loader applies to it.
 */
class FolderMigrationProvider implements MigrationProvider {
  constructor(readonly folder: string) {}

  async getMigrations(): Promise<Record<string, Migration>> {
    const migrations: Record<string, Migration> = {};
    for (const file of (await readdir(this.folder)).sort()) {
      const match = /^(\d{4}_[\w-]+)\.(ts|js|mjs)$/.exec(file);
      if (!match || file.endsWith('.d.ts')) continue;
      const module = (await import(pathToFileURL(path.join(this.folder, file)).href)) as Partial<Migration>;
      if (typeof module.up !== 'function') {
        throw new TerminalError(
          'migration_invalid',
          `Migration file \`${file}\` exports no \`up\` function.`,
        );
      }
      migrations[match[1]!] = module as Migration;
    }
    return migrations;
  }
}
