import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { DAY } from '../duration.js';

/**
 * Deletes downloaded archives (`tiktok-*.zip` in the download directory) older than `retentionMs`,
 * and leftovers of interrupted downloads or imports older than a day. The archives' contents are in
 * the database and their SHA-256 in `tiktok_sync.archives`; the files are only kept for re-imports
 * and audits. Returns the number of files deleted.
 */
export async function sweepArchives(directory: string, retentionMs: number, nowMs: number): Promise<number> {
  let names: string[];
  try {
    names = await readdir(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  let deleted = 0;
  for (const name of names) {
    if (!name.startsWith('tiktok-')) continue;
    const keepMs = name.endsWith('.zip')
      ? retentionMs > 0
        ? retentionMs
        : DAY
      : name.endsWith('.zip.part')
        ? DAY
        : undefined;
    if (keepMs === undefined) continue;
    const file = path.join(directory, name);
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile() || nowMs - info.mtimeMs < keepMs) continue;
    await rm(file, { force: true });
    deleted++;
  }
  return deleted;
}

/**
 * Deletes the downloads of these data requests (`tiktok-<request id>-<random>.zip`, and `.zip.part`
 * of one interrupted), whatever their age: an account being forgotten. Returns the files deleted and
 * those that could not be.
 */
export async function removeDownloads(
  directory: string,
  requestIds: readonly string[],
): Promise<{ removed: number; failed: { path: string; error: string }[] }> {
  const result = { removed: 0, failed: [] as { path: string; error: string }[] };
  if (requestIds.length === 0) return result;
  let names: string[];
  try {
    names = await readdir(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return result;
    throw error;
  }
  const requests = new Set(requestIds);
  for (const name of names) {
    const requestId = /^tiktok-(\d+)-[0-9a-f]+\.zip(\.part)?$/.exec(name)?.[1];
    if (requestId === undefined || !requests.has(requestId)) continue;
    const file = path.join(directory, name);
    try {
      await rm(file, { force: true });
      result.removed++;
    } catch (error) {
      result.failed.push({ path: file, error: (error as Error).message });
    }
  }
  return result;
}
