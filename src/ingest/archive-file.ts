/**
 * One plain file read as an archive of one member: a bare `user_data_tiktok.json` (people often keep
 * only that file of an unzipped export) or one section's `.txt`. Also how the folder reader reads
 * each of its files.
 */
import { constants, type Stats } from 'node:fs';
import { type FileHandle, open, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline, Readable, Transform, type TransformCallback } from 'node:stream';
import { ArchiveError } from '../errors.js';
import type { ArchiveLimits, ExportArchive, ReadArchiveOptions } from './archive.js';
import { type ArchiveMember, MemberArchive, type MemberKind } from './archive-members.js';

/** Opens `file` as an export of one member, read as JSON or TXT as `kind` says. */
export async function openFileArchive(
  file: string,
  kind: 'json' | 'txt',
  limits: ArchiveLimits,
  options: ReadArchiveOptions,
): Promise<ExportArchive> {
  const { size } = await stat(file).catch((error: unknown) => {
    throw unreadable(`\`${file}\``, error);
  });
  if (size > limits.maxUncompressedBytes) {
    throw new ArchiveError(
      'archive_too_large',
      `\`${file}\` holds ${size} bytes, more than the limit of ${limits.maxUncompressedBytes}; it was not read. Raise the limit if the export is genuine.`,
      { details: { path: file, size, max: limits.maxUncompressedBytes } },
    );
  }
  const member = fileMember(path.basename(file), file, kind, size, `\`${file}\``);
  return new MemberArchive([member], [], options, undefined, file);
}

/**
 * A file on disk as an archive member named `name`. It is read up to the size it had when it was
 * listed and no further, so the limit on the total checked then still holds if the file grows.
 */
export function fileMember(
  name: string,
  file: string,
  kind: MemberKind,
  size: number,
  where: string,
): ArchiveMember {
  return {
    name,
    kind,
    size,
    progressBytes: kind === 'other' ? 0 : size,
    open: async (_readBefore, onBytes) => {
      if (size === 0) return Readable.from([]);
      const { handle } = await openRegularFile(file, where);
      const source = handle.createReadStream({ start: 0, end: size - 1 });
      return pipeline(source, new ByteCounter(onBytes), () => {});
    },
    failure: (error) => (error instanceof ArchiveError ? error : unreadable(where, error)),
  };
}

/**
 * Opens `file` to read it, without waiting (opening a FIFO waits for a writer, in a thread nothing
 * can interrupt), and checks on what was opened that it is a regular file: the path may have been
 * swapped since it was looked at. Throws `archive_not_regular` for anything else, before a byte of
 * it is read, and `archive_unreadable` when it cannot be opened.
 */
export async function openRegularFile(
  file: string,
  where: string,
): Promise<{ handle: FileHandle; size: number }> {
  const handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK).catch((error: unknown) => {
    throw unreadable(where, error);
  });
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) {
      throw new ArchiveError(
        'archive_not_regular',
        `${where} is ${fileType(stats)}, not a regular file, so it was not read. Give the export's own files.`,
        { details: { path: file } },
      );
    }
    return { handle, size: stats.size };
  } catch (error) {
    await handle.close();
    throw unreadable(where, error);
  }
}

/** What a file that is not a regular file is, in words. */
export function fileType(stats: Stats): string {
  if (stats.isDirectory()) return 'a folder';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isSocket()) return 'a socket';
  return 'a special file';
}

/**
 * A file system failure (`EACCES`, `EIO`, a file removed part-way…) while reading `where` →
 * `archive_unreadable`; anything else is returned unchanged.
 */
export function unreadable(where: string, error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !/^E[A-Z]+$/.test(code)) return error;
  return new ArchiveError(
    'archive_unreadable',
    `Cannot read ${where} (${code}); check that it exists, that this user may read it, and that nothing changes it while it is imported.`,
    { cause: error, details: { where, errno: code } },
  );
}

/** Passes bytes through and tells how many have passed, for progress. */
class ByteCounter extends Transform {
  #bytes = 0;

  constructor(private readonly onBytes: (bytes: number) => void) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#bytes += chunk.length;
    this.onBytes(this.#bytes);
    callback(null, chunk);
  }
}
