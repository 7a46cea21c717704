/**
 * The zip container, read in place with yauzl (random access, one entry at a time, nothing extracted
 * to disk), and the translation of zip failures into `ArchiveError`s.
 *
 * yauzl reports failures as plain `Error`s whose only distinguishing feature is the message, so this
 * is the one place that looks at message text; everything downstream branches on `code`.
 */
import { open as openFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { ArchiveError } from '../errors.js';

const AGAIN = 'Download the export again.';

/** Opens the zip (central directory only); not-a-zip and truncated files become `ArchiveError`s. */
export async function openZip(zipPath: string): Promise<ZipFile> {
  try {
    return await new Promise<ZipFile>((resolve, reject) => {
      yauzl.open(
        zipPath,
        { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true },
        (error, zip) => (error ? reject(error) : resolve(zip)),
      );
    });
  } catch (error) {
    if (hasFsCode(error)) throw error;
    if (/central directory record signature not found/i.test(messageOf(error))) {
      if (await startsLikeZip(zipPath)) {
        throw new ArchiveError(
          'archive_truncated',
          `\`${zipPath}\` starts like a zip file but its end is missing; the download was cut short. ${AGAIN}`,
          { cause: error, details: { zipPath } },
        );
      }
      throw new ArchiveError(
        'archive_not_zip',
        `\`${zipPath}\` is not a zip file, nor a file named \`.json\` or \`.txt\`; a TikTok export is a \`.zip\`, the folder it unzips to, or a \`.json\` or \`.txt\` file from it. Check the file, or download the export again.`,
        { cause: error, details: { zipPath } },
      );
    }
    throw zipError(error, zipPath, undefined);
  }
}

async function startsLikeZip(zipPath: string): Promise<boolean> {
  const handle = await openFile(zipPath, 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    return bytesRead === 4 && head.readUInt32LE(0) === 0x04034b50;
  } finally {
    await handle.close();
  }
}

/** Every entry of the central directory, in order; stops with an `ArchiveError` past `maxEntries`. */
export function readEntries(zip: ZipFile, zipPath: string, maxEntries: number): Promise<Entry[]> {
  if (zip.entryCount > maxEntries) return Promise.reject(tooManyEntries(zipPath, zip.entryCount, maxEntries));
  return new Promise<Entry[]>((resolve, reject) => {
    const entries: Entry[] = [];
    const cleanup = () => {
      zip.off('entry', onEntry);
      zip.off('end', onEnd);
      zip.off('error', onError);
    };
    const onEntry = (entry: Entry) => {
      entries.push(entry);
      if (entries.length > maxEntries) {
        cleanup();
        reject(tooManyEntries(zipPath, entries.length, maxEntries));
        return;
      }
      zip.readEntry();
    };
    const onEnd = () => {
      cleanup();
      resolve(entries);
    };
    const onError = (error: unknown) => {
      cleanup();
      reject(zipError(error, zipPath, undefined));
    };
    zip.on('entry', onEntry);
    zip.on('end', onEnd);
    zip.on('error', onError);
    zip.readEntry();
  });
}

function tooManyEntries(zipPath: string, count: number, max: number): ArchiveError {
  return new ArchiveError(
    'archive_too_large',
    `\`${zipPath}\` holds ${count} or more entries, more than the limit of ${max}; it is not a TikTok export as we know it. Check the file or raise the entry limit.`,
    { details: { zipPath, count, max } },
  );
}

/** The entry's name as written (UTF-8 flag, Info-ZIP unicode path, else CP437), backslashes kept. */
export function entryName(entry: Entry): string {
  return yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, true);
}

/**
 * Why a name could escape an extraction root (absolute, drive letter, `..` segment, NUL), or
 * `undefined` when it is safe. Backslashes count as separators, as Windows tools write them.
 */
export function unsafeNameReason(name: string): string | undefined {
  if (name.includes('\0')) return 'contains a NUL character';
  if (/^[A-Za-z]:/.test(name)) return 'starts with a drive letter';
  if (/^[/\\]/.test(name)) return 'is an absolute path';
  if (name.split(/[/\\]/).includes('..')) return 'has a `..` segment';
  return undefined;
}

/** The decompressed bytes of one entry. */
export function openEntryStream(
  zip: ZipFile,
  entry: Entry,
  zipPath: string,
  member: string,
): Promise<Readable> {
  return new Promise<Readable>((resolve, reject) => {
    zip.openReadStream(entry, (error, stream) => {
      if (error) reject(zipError(error, zipPath, member));
      else resolve(stream);
    });
  });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function hasFsCode(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code);
}

/**
 * A failure from yauzl or zlib while reading `member` (or the directory) → `ArchiveError`. File
 * system errors (`EIO`, `ENOENT`…) and anything unrecognized are returned unchanged.
 */
export function zipError(error: unknown, zipPath: string, member: string | undefined): unknown {
  if (error instanceof ArchiveError || hasFsCode(error)) return error;
  const message = messageOf(error);
  const where = member === undefined ? `\`${zipPath}\`` : `\`${member}\` in \`${zipPath}\``;
  const details = { zipPath, member };
  const zlibCode = (error as { code?: unknown } | null)?.code;
  if (/^too many bytes in the stream/.test(message)) {
    return new ArchiveError(
      'archive_too_large',
      `${where} inflates to more bytes than its header declares, the mark of a zip bomb; it was not read. ${AGAIN}`,
      { cause: error, details },
    );
  }
  if (
    /^not enough bytes in the stream|unexpected EOF|overflows file bounds/i.test(message) ||
    zlibCode === 'Z_BUF_ERROR'
  ) {
    return new ArchiveError(
      'archive_truncated',
      `${where} ends before its data does; the zip is truncated. ${AGAIN}`,
      {
        cause: error,
        details,
      },
    );
  }
  if (/encryption|encrypted/i.test(message)) {
    return new ArchiveError(
      'archive_encrypted',
      `${where} is encrypted, which TikTok exports never are. Check the file, or download the export again.`,
      { cause: error, details },
    );
  }
  if (/unsupported compression method/i.test(message)) {
    return new ArchiveError(
      'archive_unsupported',
      `${where} uses a compression method other than deflate, which TikTok exports never do. ${AGAIN}`,
      { cause: error, details },
    );
  }
  if (
    typeof zlibCode === 'string' ||
    /signature|size mismatch|extra field|zip64|multi-disk|too large|invalid|corrupt/i.test(message)
  ) {
    return new ArchiveError('archive_corrupt', `${where} is damaged (${message}). ${AGAIN}`, {
      cause: error,
      details,
    });
  }
  return error;
}
