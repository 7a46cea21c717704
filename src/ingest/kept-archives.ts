/**
 * Imported archives kept by content hash, so that `tiktok-sync reprocess` can read them again when a
 * parser learns more (src/ingest/reprocess.ts). Layout: `<dir>/<account id>/<sha256>/<name as
 * imported>` (a zip, a folder, or a bare `.json`/`.txt` file: the name is kept because the name of a
 * TXT file says its section). The copy is made after the import committed; the folders are 0700 and
 * the files 0600, since an export holds messages, locations and logins.
 *
 * Retention (`archive.keep`): `all` (the default), `none`, or the last N archives of each account by
 * first import. Pruning removes the copies, never the archive's row or its data.
 */
import { randomBytes } from 'node:crypto';
import { copyFile, cp, lstat, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type pg from 'pg';
import type { KeptArchivesConfig } from '../config.js';
import { makePrivateDir, makeTreePrivate } from '../private-files.js';

/** A pool or a checked-out client. */
type Queryable = Pick<pg.ClientBase, 'query'>;

export interface KeptArchive {
  archiveId: string;
  /** Where the copy is, absolute. */
  path: string;
  /** Relative to the kept-archives directory, as `tiktok_sync.archives.kept_path` holds it. */
  keptPath: string;
}

export interface KeepRequest {
  accountId: string;
  archiveId: string;
  sha256: string;
  /** The export as imported: a zip, a folder or a bare file. */
  inputPath: string;
}

/**
 * Keeps a copy of an imported archive under `config.dir` unless the policy says none or it is kept
 * already, then prunes the account's copies beyond the policy. Returns the copy, if the archive is
 * kept after all.
 */
export async function keepArchive(
  pool: Queryable,
  config: KeptArchivesConfig,
  request: KeepRequest,
): Promise<KeptArchive | undefined> {
  let kept: KeptArchive | undefined;
  if (config.keep !== 'none') {
    kept = await existingCopy(pool, config, request.archiveId);
    if (!kept) kept = await copyArchive(pool, config, request);
  }
  await pruneKept(pool, config, request.accountId);
  return kept && (await existingCopy(pool, config, request.archiveId));
}

async function existingCopy(
  pool: Queryable,
  config: KeptArchivesConfig,
  archiveId: string,
): Promise<KeptArchive | undefined> {
  const { rows } = await pool.query<{ kept_path: string | null }>(
    'select kept_path from tiktok_sync.archives where archive_id = $1',
    [archiveId],
  );
  const keptPath = rows[0]?.kept_path;
  if (!keptPath) return undefined;
  const absolute = path.resolve(config.dir, keptPath);
  const there = await lstat(absolute).catch(() => undefined);
  return there ? { archiveId, path: absolute, keptPath } : undefined;
}

async function copyArchive(
  pool: Queryable,
  config: KeptArchivesConfig,
  request: KeepRequest,
): Promise<KeptArchive> {
  const accountDir = path.join(config.dir, request.accountId);
  await makePrivateDir(accountDir);
  const name = path.basename(path.resolve(request.inputPath));
  const final = path.join(accountDir, request.sha256);
  const partial = `${final}.part-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await mkdir(partial, { mode: 0o700 });
    const source = await stat(request.inputPath);
    if (source.isDirectory()) {
      // Links are not followed (an export folder has none; one that leads out of it is not copied).
      await cp(request.inputPath, path.join(partial, name), {
        recursive: true,
        verbatimSymlinks: true,
        filter: async (from) => !(await lstat(from)).isSymbolicLink(),
      });
    } else {
      await copyFile(request.inputPath, path.join(partial, name));
    }
    await makeTreePrivate(partial);
    await rm(final, { recursive: true, force: true });
    await rename(partial, final);
  } catch (error) {
    await rm(partial, { recursive: true, force: true }).catch(() => {});
    throw error;
  }
  const keptPath = path.join(request.accountId, request.sha256, name);
  await pool.query('update tiktok_sync.archives set kept_path = $2, kept_at = now() where archive_id = $1', [
    request.archiveId,
    keptPath,
  ]);
  return { archiveId: request.archiveId, path: path.join(final, name), keptPath };
}

/** Removes the account's copies beyond the policy (all of them for `none`); returns how many. */
export async function pruneKept(
  pool: Queryable,
  config: KeptArchivesConfig,
  accountId: string,
): Promise<number> {
  if (config.keep === 'all') return 0;
  const keep = config.keep === 'none' ? 0 : config.keep;
  const { rows } = await pool.query<{ archive_id: string; kept_path: string }>(
    `select archive_id, kept_path from tiktok_sync.archives
     where account_id = $1 and kept_path is not null
     order by archive_id desc offset $2`,
    [accountId, keep],
  );
  for (const row of rows) {
    // `<account>/<sha256>/<name>`: the copy is the folder named by the hash.
    const folder = path.resolve(config.dir, path.dirname(row.kept_path));
    if (path.dirname(path.dirname(folder)) === path.resolve(config.dir)) {
      await rm(folder, { recursive: true, force: true });
    }
    await pool.query(
      'update tiktok_sync.archives set kept_path = null, kept_at = null where archive_id = $1',
      [row.archive_id],
    );
  }
  return rows.length;
}

/**
 * The account's kept archives in the order TikTok made them (src/ingest/export-order.ts), then the
 * order they were first imported.
 */
export async function keptArchives(
  pool: Queryable,
  config: KeptArchivesConfig,
  accountId: string,
): Promise<(KeptArchive & { firstRunId: string; exportRoot: string | null; exportedAt: Date })[]> {
  const { rows } = await pool.query<{
    archive_id: string;
    kept_path: string;
    first_run_id: string;
    exported_at: Date;
    export_root: string | null;
  }>(
    `select archive_id, kept_path, first_run_id, export_root, exported_at from tiktok_sync.archives
     where account_id = $1 and kept_path is not null order by exported_at, archive_id`,
    [accountId],
  );
  return rows.map((row) => ({
    archiveId: row.archive_id,
    keptPath: row.kept_path,
    path: path.resolve(config.dir, row.kept_path),
    firstRunId: row.first_run_id,
    exportRoot: row.export_root,
    exportedAt: row.exported_at,
  }));
}

/**
 * Removes every kept archive of the account, `<dir>/<account id>/` (an account being forgotten;
 * its archive rows are deleted with it). Returns how many copies were there.
 */
export async function removeKeptArchives(dir: string, accountId: string): Promise<number> {
  const accountDir = path.join(dir, accountId);
  const copies = await readdir(accountDir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  await rm(accountDir, { recursive: true, force: true });
  return copies.length;
}
