/**
 * Quarantine: an archive that can never be imported (not a zip, truncated, corrupt, unsafe, damaged
 * JSON…) is put aside in a directory of its own, with the reason next to it, so that it is neither
 * retried forever nor silently lost, and the run record says where it went.
 *
 * A download of ours (`sync`) is moved there; a file the user handed to `import` is copied, never
 * taken away from where the user keeps it. Both are written owner-only: exports hold personal data.
 *
 * One copy per content: the copy is named by the SHA-256 of its bytes, `<sha256>-<name as it
 * came>`, and each failed run adds only its reason, `<copy>.run<id>.reason.json`. The same archive
 * failing again (an `import` run twice, a request downloaded again after `--retry-stopped`) points
 * its run (`sync_runs.quarantined_to`) at the copy already there, instead of storing another full
 * copy of someone's export; a download of ours with those bytes is then deleted. Reasons are one file
 * per run rather than a list in one file, so two runs failing at once never overwrite each other.
 *
 * An unzipped export folder is neither moved nor copied: it is the user's own working copy, perhaps
 * large, and a second copy of its personal data helps no one. Nothing retries an import, so there is
 * nothing to stop; the run record (`source`, `error_message`) names the folder and why it failed.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, readdir, rename, rm, stat } from 'node:fs/promises';
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
  /** The file's SHA-256 when the import already hashed it; else it is hashed here. */
  sha256?: string | undefined;
  /** Where the archive came from (file path or API request), for the reason file. */
  source: string;
  /** The stage the import stopped at. */
  stage: string;
  error: unknown;
}

/** What `<copy>.run<id>.reason.json` holds. */
export interface QuarantineReason {
  runId: string;
  account: string;
  kind: 'import' | 'sync';
  source: string;
  originalPath: string;
  /** SHA-256 of the archive, hex: the copy's name starts with it. */
  sha256: string;
  /** `already quarantined`: the same bytes were put aside by an earlier run; this run points at them. */
  action: 'moved' | 'copied' | 'already quarantined';
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
    const sha256 = failure.sha256 ?? (await fileSha256(failure.zipPath));
    const existing = await quarantinedCopy(directory, sha256);
    let target: string;
    let action: QuarantineReason['action'];
    if (existing !== undefined) {
      target = existing;
      action = 'already quarantined';
      // Our own download is a temporary file: the copy already there has the same bytes.
      if (failure.kind === 'sync') await rm(failure.zipPath, { force: true });
    } else {
      target = path.join(directory, `${sha256}-${path.basename(failure.zipPath)}`);
      action = failure.kind === 'sync' ? 'moved' : 'copied';
      await putAside(failure.zipPath, target, action === 'moved');
    }
    const error = coerceError(failure.error);
    const root = error instanceof StageFailedError ? coerceError(error.cause) : error;
    const reason: QuarantineReason = {
      runId: failure.runId,
      account: failure.accountName,
      kind: failure.kind,
      source: failure.source,
      originalPath: path.resolve(failure.zipPath),
      sha256,
      action,
      stage: failure.stage,
      code: root instanceof PipelineError ? root.code : 'unexpected',
      message: root.message,
      quarantinedAt: new Date().toISOString(),
    };
    // Written to a temporary name first, so a reason file is never half there.
    const reasonFile = reasonPath(target, failure.runId);
    await writePrivateFile(`${reasonFile}.tmp`, `${JSON.stringify(reason, null, 2)}\n`);
    await rename(`${reasonFile}.tmp`, reasonFile);
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

/** Where the reason of run `runId` for the quarantined `copy` is written. */
export function reasonPath(copy: string, runId: string): string {
  return `${copy}.run${runId}.reason.json`;
}

async function fileSha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

const REASON_FILE = /\.run\d+\.reason\.json(\.tmp)?$/;

/** The copy of the archive with this SHA-256 already in the quarantine, if there is one. */
async function quarantinedCopy(directory: string, sha256: string): Promise<string | undefined> {
  const name = (await readdir(directory)).find(
    (entry) => entry.startsWith(`${sha256}-`) && !REASON_FILE.test(entry),
  );
  return name === undefined ? undefined : path.join(directory, name);
}

/**
 * Puts the archive at `target`, 0600: renamed when it is ours to move (copied and deleted when the
 * quarantine is on another file system), else copied. A copy goes through a temporary name, so the
 * name of a copy always means all of its bytes are there.
 */
async function putAside(from: string, target: string, move: boolean): Promise<void> {
  if (move) {
    try {
      await rename(from, target);
      await makeFilePrivate(target);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    }
  }
  const partial = path.join(path.dirname(target), `.partial-${randomBytes(6).toString('hex')}.tmp`);
  try {
    await copyFile(from, partial);
    await makeFilePrivate(partial);
    await rename(partial, target);
  } catch (error) {
    await rm(partial, { force: true }).catch(() => {});
    throw error;
  }
  if (move) await rm(from, { force: true });
}

const RUN_REASON_FILE = /^(.+)\.run(\d+)\.reason\.json(\.tmp)?$/;

/**
 * Removes what the quarantine holds of the runs `runIds` (an account being forgotten): their reason
 * files, and each copy they pointed at once no reason file of another run is left next to it and
 * `referencedElsewhere` (another run's `quarantined_to`) says no one else points at it. `copies` are
 * the runs' `quarantined_to`, for copies whose reason file is missing. Returns the files removed and
 * those that could not be.
 */
export async function forgetQuarantined(
  directory: string,
  runIds: readonly string[],
  copies: readonly string[],
  referencedElsewhere: (copy: string) => Promise<boolean>,
): Promise<{ removed: number; failed: { path: string; error: string }[] }> {
  let names: string[];
  try {
    names = await readdir(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { removed: 0, failed: [] };
    throw error;
  }
  const runs = new Set(runIds);
  const touched = new Set(
    copies
      .filter((copy) => path.resolve(path.dirname(copy)) === path.resolve(directory))
      .map((copy) => path.basename(copy)),
  );
  const left = new Set<string>();
  const result = { removed: 0, failed: [] as { path: string; error: string }[] };
  const remove = async (name: string) => {
    const file = path.join(directory, name);
    try {
      await rm(file, { force: true });
      result.removed++;
      return true;
    } catch (error) {
      result.failed.push({ path: file, error: (error as Error).message });
      return false;
    }
  };
  for (const name of names) {
    const match = RUN_REASON_FILE.exec(name);
    if (!match) continue;
    const [, copy, runId] = match as unknown as [string, string, string];
    if (runs.has(runId)) {
      touched.add(copy);
      if (!(await remove(name))) left.add(copy);
    } else {
      left.add(copy);
    }
  }
  for (const copy of touched) {
    if (left.has(copy) || !names.includes(copy)) continue;
    if (await referencedElsewhere(path.join(directory, copy))) continue;
    await remove(copy);
  }
  return result;
}
