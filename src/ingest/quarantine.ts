/**
 * Quarantine: an archive that can never be imported (not a zip, truncated, corrupt, unsafe, damaged
 * JSON…) is put aside in a directory of its own, with the reason next to it, so that it is neither
 * retried forever nor silently lost, and the run record says where it went.
 *
 * A download of ours (`sync`) is moved there; a file the user handed to `import` is copied, never
 * taken away from where the user keeps it. Both are written owner-only: exports hold personal data.
 *
 * An unzipped export folder is neither moved nor copied: it is the user's own working copy, perhaps
 * large, and a second copy of its personal data helps no one. Nothing retries an import, so there is
 * nothing to stop; the run record (`source`, `error_message`) names the folder and why it failed.
 */
import { copyFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { DatabaseHandle } from '../db/connect.js';
import { ArchiveError, coerceError, PipelineError, StageFailedError } from '../errors.js';
import type { Logger } from '../logger.js';
import { makeFilePrivate, makePrivateDir, writePrivateFile } from '../private-files.js';

/** Failures that say nothing about the archive's bytes: there is nothing to put aside. */
const NOT_THE_ARCHIVE = new Set(['archive_missing', 'archive_not_regular', 'archive_unreadable']);

export interface QuarantineContext {
  readonly database: DatabaseHandle;
  readonly logger: Logger;
  /** Where unusable archives go; without one, nothing is quarantined. */
  readonly quarantineDir?: string | undefined;
}

export interface QuarantineFailure {
  runId: string;
  accountName: string;
  kind: 'import' | 'sync';
  zipPath: string;
  /** Where the archive came from (file path or API request), for the reason file. */
  source: string;
  /** The stage the import stopped at. */
  stage: string;
  error: unknown;
}

/** What `<archive>.reason.json` holds. */
export interface QuarantineReason {
  runId: string;
  account: string;
  kind: 'import' | 'sync';
  source: string;
  originalPath: string;
  action: 'moved' | 'copied';
  stage: string;
  code: string;
  message: string;
  quarantinedAt: string;
}

/** True when the failure means the archive itself is unusable (an {@link ArchiveError}). */
export function isArchiveFailure(thrown: unknown): boolean {
  const error = coerceError(thrown);
  const root = error instanceof StageFailedError ? coerceError(error.cause) : error;
  return root instanceof ArchiveError && !NOT_THE_ARCHIVE.has(root.code);
}

/**
 * Puts the archive of a failed run aside when the failure is the archive's own, writes the reason
 * next to it and records the new path on the run. Returns that path, or `undefined` when nothing was
 * quarantined. Never throws: the caller is already reporting a failure, which must stay the one seen.
 */
export async function quarantineArchive(
  context: QuarantineContext,
  failure: QuarantineFailure,
): Promise<string | undefined> {
  const directory = context.quarantineDir;
  if (directory === undefined || !isArchiveFailure(failure.error)) return undefined;
  const log = context.logger.child({ account: failure.accountName, run: failure.runId });
  try {
    const kind = await fileKind(failure.zipPath);
    if (kind === 'folder') {
      log.warn({ folder: path.resolve(failure.zipPath) }, 'unusable export folder left where it is');
      return undefined;
    }
    if (kind !== 'file') return undefined;
    await makePrivateDir(directory);
    const target = path.join(
      directory,
      `${stamp(new Date())}-run${failure.runId}-${path.basename(failure.zipPath)}`,
    );
    const action = failure.kind === 'sync' ? 'moved' : 'copied';
    if (action === 'moved') await move(failure.zipPath, target);
    else await copyFile(failure.zipPath, target);
    await makeFilePrivate(target);
    const error = coerceError(failure.error);
    const root = error instanceof StageFailedError ? coerceError(error.cause) : error;
    const reason: QuarantineReason = {
      runId: failure.runId,
      account: failure.accountName,
      kind: failure.kind,
      source: failure.source,
      originalPath: path.resolve(failure.zipPath),
      action,
      stage: failure.stage,
      code: root instanceof PipelineError ? root.code : 'unexpected',
      message: root.message,
      quarantinedAt: new Date().toISOString(),
    };
    // Written to a temporary name first, so a reason file is never half there.
    await writePrivateFile(`${target}.reason.json.tmp`, `${JSON.stringify(reason, null, 2)}\n`);
    await rename(`${target}.reason.json.tmp`, `${target}.reason.json`);
    await context.database.pool.query(
      'update tiktok_sync.sync_runs set quarantined_to = $1 where run_id = $2',
      [target, failure.runId],
    );
    log.warn({ code: reason.code, quarantinedTo: target, action }, 'unusable archive quarantined');
    return target;
  } catch (error) {
    log.error({ err: coerceError(error) }, 'could not quarantine the unusable archive');
    return undefined;
  }
}

async function fileKind(file: string): Promise<'file' | 'folder' | 'other'> {
  try {
    const stats = await stat(file);
    return stats.isFile() ? 'file' : stats.isDirectory() ? 'folder' : 'other';
  } catch {
    return 'other';
  }
}

/** Renames, or copies and deletes when the quarantine is on another file system. */
async function move(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    await copyFile(from, to);
    await rm(from, { force: true });
  }
}

/** `20261125T012233123Z`: sorts by time, safe in file names everywhere. */
function stamp(date: Date): string {
  return date.toISOString().replace(/[-:.]/g, '');
}
