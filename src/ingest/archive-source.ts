/**
 * The forms an export to import comes in, and the identity of each: the zip TikTok hands out, the
 * folder it unzips to (any depth, TXT tree or JSON), or one `.json` or `.txt` file of it (people keep
 * only `user_data_tiktok.json`). The form is told by `fs.stat` and a file's first bytes, not by its
 * name: a zip is a file that starts like one, whatever it is called; a file that does not is read as
 * JSON or TXT when its name ends so, and as a (broken) zip otherwise.
 *
 * Anything else (a FIFO, a device, a socket) is refused before it is opened: reading `/dev/zero`
 * never ends and opening a FIFO waits for a writer. Files are opened without waiting and checked
 * again once open (archive-file.ts, `openRegularFile`), in case the path changed in between.
 */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ArchiveError } from '../errors.js';
import type { ArchiveLimits } from './archive.js';
import { fileType, openRegularFile, unreadable } from './archive-file.js';
import { listFolder } from './archive-folder.js';

export type ArchiveSourceKind = 'zip' | 'folder' | 'json' | 'txt';

export interface ArchiveSource {
  readonly kind: ArchiveSourceKind;
  /** The path as given. */
  readonly path: string;
  /** The file's or folder's own name, as the archives table records it. */
  readonly name: string;
}

export interface ArchiveIdentity {
  /** Hex SHA-256: of the file's bytes, or a folder's content hash (see {@link archiveIdentity}). */
  readonly sha256: string;
  /** The file's size; for a folder, the total size of the files that are read. */
  readonly sizeBytes: number;
}

const ACCEPTED =
  '`import` takes a TikTok export as its `.zip`, the folder it unzips to, or a `.json` or `.txt` file from it.';

/** `PK\x03\x04` (a local file header), `PK\x05\x06` (an empty zip), `PK\x07\x08` (a split zip). */
const ZIP_SIGNATURES = new Set([0x04034b50, 0x06054b50, 0x08074b50]);

/**
 * What `inputPath` is (see the module comment). Throws `ArchiveError`: `archive_missing` when it
 * cannot be found, `archive_not_regular` for anything but a file or folder, `archive_unreadable`
 * when a file cannot be opened.
 */
export async function archiveSource(inputPath: string): Promise<ArchiveSource> {
  const stats = await stat(inputPath).catch((error: NodeJS.ErrnoException) => {
    throw new ArchiveError(
      'archive_missing',
      `Cannot read \`${inputPath}\` (${error.code ?? error.message}); check the path. ${ACCEPTED}`,
      { cause: error, details: { path: inputPath } },
    );
  });
  const name = path.basename(path.resolve(inputPath));
  if (stats.isDirectory()) return { kind: 'folder', path: inputPath, name };
  if (!stats.isFile()) {
    throw new ArchiveError(
      'archive_not_regular',
      `\`${inputPath}\` is ${fileType(stats)}, not a file or folder, so it was not read. ${ACCEPTED}`,
      { details: { path: inputPath } },
    );
  }
  if (await startsLikeZip(inputPath)) return { kind: 'zip', path: inputPath, name };
  const lower = name.toLowerCase();
  if (lower.endsWith('.json')) return { kind: 'json', path: inputPath, name };
  if (lower.endsWith('.txt')) return { kind: 'txt', path: inputPath, name };
  // The zip reader says best what is wrong with a file that should have been a zip.
  return { kind: 'zip', path: inputPath, name };
}

async function startsLikeZip(file: string): Promise<boolean> {
  const { handle } = await openRegularFile(file, `\`${file}\``);
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    return bytesRead === 4 && ZIP_SIGNATURES.has(head.readUInt32LE(0));
  } finally {
    await handle.close();
  }
}

/**
 * The identity of an export, for "the same archive as last time" and the archives table. A file's is
 * the SHA-256 of its bytes. A folder's is the SHA-256 of one line per file that is read, sorted by
 * path: `<path>\0<size>\0<sha256 of its bytes>\n`; so it does not depend on the order the file system
 * lists files in, on timestamps, or on files the import skips (`.DS_Store` changes whenever Finder
 * opens the folder). The folder is listed under `limits`, as {@link openArchive} will read it.
 */
export async function archiveIdentity(
  source: ArchiveSource,
  limits: ArchiveLimits,
  signal?: AbortSignal,
): Promise<ArchiveIdentity> {
  if (source.kind !== 'folder') {
    return hashFile(source.path, `\`${source.path}\``, signal);
  }
  const { files } = await listFolder(source.path, limits, signal);
  const read = files
    .filter((f) => f.kind !== 'other')
    // The same name can be stored composed or decomposed (macOS file systems decompose accents).
    .map((f) => ({ ...f, key: f.name.normalize('NFC') }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const hash = createHash('sha256');
  let sizeBytes = 0;
  for (const file of read) {
    signal?.throwIfAborted();
    const content = await hashFile(file.path, `\`${file.name}\` in \`${source.path}\``, signal, file.size);
    hash.update(`${file.key}\0${file.size}\0${content.sha256}\n`);
    sizeBytes += file.size;
  }
  return { sha256: hash.digest('hex'), sizeBytes };
}

/**
 * The SHA-256 of a regular file's first `size` bytes (its size when opened, by default): no further,
 * as the readers read it, so a file that grows meanwhile is not followed. Stops as soon as `signal`
 * aborts (a large export takes seconds to hash), with the signal's reason.
 */
async function hashFile(
  file: string,
  where: string,
  signal: AbortSignal | undefined,
  size?: number,
): Promise<ArchiveIdentity> {
  const opened = await openRegularFile(file, where);
  const bytes = Math.min(size ?? opened.size, opened.size);
  const hash = createHash('sha256');
  if (bytes === 0) {
    await opened.handle.close();
    return { sha256: hash.digest('hex'), sizeBytes: 0 };
  }
  const source = opened.handle.createReadStream({ start: 0, end: bytes - 1 });
  await pipeline(source, hash, signal ? { signal } : {}).catch((error: unknown) => {
    if (signal?.aborted) throw signal.reason;
    throw unreadable(where, error);
  });
  return { sha256: hash.digest('hex'), sizeBytes: bytes };
}
