/**
 * An export archive opened in place and read as one stream of parse events, whatever form it came
 * in (see archive-source.ts): the zip TikTok hands out, the folder it unzips to, or one `.json` or
 * `.txt` file of it. Nothing is extracted: members are read one at a time straight into the parsers.
 *
 * This file holds the interface and the zip reader. Before any zip member is parsed the whole central
 * directory is checked: entry names that could escape a directory, entry counts, declared sizes and
 * compression ratios (zip bombs). While streaming, the inflated bytes are counted again, since
 * headers can lie.
 */
import { pipeline, Transform, type TransformCallback } from 'node:stream';
import { crc32 } from 'node:zlib';
import type { Entry, ZipFile } from 'yauzl';
import { ArchiveError } from '../errors.js';
import type { ArchiveInfo, ParseEvent, WarningEvent } from '../parsers/records.js';
import { openFileArchive } from './archive-file.js';
import { openFolderArchive } from './archive-folder.js';
import {
  type ArchiveMember,
  inReadingOrder,
  kindOf,
  MemberArchive,
  type MemberKind,
} from './archive-members.js';
import { archiveSource } from './archive-source.js';
import {
  entryName,
  openEntryStream,
  openZip,
  readEntries,
  unsafeNameReason,
  zipError,
} from './archive-zip.js';
import type { ExportRoot } from './export-roots.js';

export interface ArchiveLimits {
  /** Sum of the members' uncompressed sizes (a folder's: of its files read), declared and actual. */
  maxUncompressedBytes: number;
  /** Largest uncompressed/compressed ratio of one member (checked for members of 1 MiB or more). */
  maxCompressionRatio: number;
  /** Entries in the zip (or the folder), directories included. */
  maxEntries: number;
}

const GIB = 1024 * 1024 * 1024;

export const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = Object.freeze({
  maxUncompressedBytes: 8 * GIB,
  maxCompressionRatio: 200,
  maxEntries: 10_000,
});

/**
 * Members smaller than this are not held to the ratio limit: a small file of repeated text can
 * compress far better than 200:1 and can do no harm.
 */
const RATIO_MIN_BYTES = 1024 * 1024;

export interface ReadArchiveOptions {
  limits?: Partial<ArchiveLimits>;
  signal?: AbortSignal;
  /** Bytes processed so far (a zip's compressed bytes, a folder's file bytes), out of the total. */
  onProgress?: (doneBytes: number, totalBytes: number) => void;
  /** Which export to read when the archive holds several (see export-roots.ts). */
  member?: string | undefined;
}

export interface ExportArchive {
  /** `format` is known when the archive is opened; `era` once parsing has seen the top-level keys. */
  readonly info: ArchiveInfo;
  /**
   * File members in reading order: zip order (a folder's sorted by path), except that the numbered
   * parts of a TXT section (`Following_1.txt`, `Following_2.txt` …) are read together in part order.
   */
  readonly members: readonly string[];
  /** The export read when the archive held several and one was picked. */
  readonly root?: ExportRoot | undefined;
  /** The newest time the members carry, when the archive records one (zip entries). */
  readonly newestMemberTime?: Date | undefined;
  /** Every member's parse events, member by member in reading order, records in file order. */
  events(): AsyncGenerator<ParseEvent>;
  close(): Promise<void>;
}

interface ZipMember {
  readonly name: string;
  readonly entry: Entry;
  readonly kind: MemberKind;
}

/**
 * Opens the export at `inputPath` (a zip, an unzipped export folder, or a `.json` or `.txt` file;
 * see archive-source.ts) and validates it; the returned archive must be closed. Throws
 * `ArchiveError` (`archive_missing`, `archive_not_regular`, `archive_not_zip`, `archive_truncated`,
 * `archive_corrupt`, `archive_unsafe_path`, `archive_too_large`, `archive_encrypted`,
 * `archive_unsupported`, `archive_duplicate_member`, `archive_no_export`, `archive_unreadable`)
 * when it cannot be an export we can read.
 */
export async function openArchive(
  inputPath: string,
  options: ReadArchiveOptions = {},
): Promise<ExportArchive> {
  options.signal?.throwIfAborted();
  const limits: ArchiveLimits = { ...DEFAULT_ARCHIVE_LIMITS, ...options.limits };
  const source = await archiveSource(inputPath);
  switch (source.kind) {
    case 'folder':
      return openFolderArchive(source.path, limits, options);
    case 'json':
    case 'txt':
      return openFileArchive(source.path, source.kind, limits, options);
    case 'zip':
      return openZipArchive(source.path, limits, options);
  }
}

async function openZipArchive(
  zipPath: string,
  limits: ArchiveLimits,
  options: ReadArchiveOptions,
): Promise<ExportArchive> {
  const zip = await openZip(zipPath);
  try {
    const entries = await readEntries(zip, zipPath, limits.maxEntries);
    const { members, warnings } = validate(entries, zipPath, limits);
    return new MemberArchive(
      zipMembers(zip, zipPath, members, limits),
      warnings,
      options,
      () => zip.close(),
      zipPath,
    );
  } catch (error) {
    zip.close();
    throw error;
  }
}

function validate(
  entries: readonly Entry[],
  zipPath: string,
  limits: ArchiveLimits,
): { members: ZipMember[]; warnings: WarningEvent[] } {
  const members: ZipMember[] = [];
  const warnings: WarningEvent[] = [];
  const seen = new Map<string, Entry>();
  let declared = 0;
  for (const entry of entries) {
    const raw = entryName(entry);
    const reason = unsafeNameReason(raw);
    if (reason !== undefined) {
      throw new ArchiveError(
        'archive_unsafe_path',
        `\`${zipPath}\` holds an entry named \`${raw.replace(/\0/g, '\\0')}\`, which ${reason}; such a zip is unsafe and was not read. Check where the file came from.`,
        { details: { zipPath, entry: raw } },
      );
    }
    const name = raw.replace(/\\/g, '/');
    if (name.endsWith('/')) continue;
    const first = seen.get(name);
    if (first !== undefined) {
      // Reading both copies would store every record twice; which of two different copies is the
      // export cannot be told (zip tools disagree on it), so only identical copies are let through.
      if (first.crc32 !== entry.crc32 || first.uncompressedSize !== entry.uncompressedSize) {
        throw new ArchiveError(
          'archive_duplicate_member',
          `\`${zipPath}\` holds \`${name}\` more than once, with different contents; which one is the export cannot be told, so it was not read. Download the export again.`,
          { details: { zipPath, member: name } },
        );
      }
      warnings.push({
        kind: 'warning',
        code: 'duplicate_member',
        message: `\`${zipPath}\` holds \`${name}\` more than once, with the same content; it was read once.`,
        path: name,
      });
      continue;
    }
    seen.set(name, entry);
    declared += entry.uncompressedSize;
    if (declared > limits.maxUncompressedBytes) {
      throw new ArchiveError(
        'archive_too_large',
        `\`${zipPath}\` declares more than ${limits.maxUncompressedBytes} bytes once uncompressed, above the limit; it was not read. Raise the limit if the export is genuine.`,
        { details: { zipPath, declared, max: limits.maxUncompressedBytes } },
      );
    }
    checkRatio(zipPath, name, entry.uncompressedSize, entry.compressedSize, limits.maxCompressionRatio);
    const kind = kindOf(name);
    if (kind !== 'other' && entry.isEncrypted()) {
      throw new ArchiveError(
        'archive_encrypted',
        `\`${name}\` in \`${zipPath}\` is encrypted, which TikTok exports never are. Check the file, or download the export again.`,
        { details: { zipPath, member: name } },
      );
    }
    if (kind !== 'other' && entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
      throw new ArchiveError(
        'archive_unsupported',
        `\`${name}\` in \`${zipPath}\` uses compression method ${entry.compressionMethod}, not deflate; it cannot be read. Download the export again.`,
        { details: { zipPath, member: name, method: entry.compressionMethod } },
      );
    }
    members.push({ name, entry, kind });
  }
  if (!members.some((m) => m.kind !== 'other')) {
    throw new ArchiveError(
      'archive_no_export',
      `\`${zipPath}\` holds no \`.json\` or \`.txt\` file, so it is not a TikTok export. Check that the right file was given.`,
      { details: { zipPath } },
    );
  }
  return { members: inReadingOrder(members, (m) => m.name), warnings };
}

function checkRatio(
  zipPath: string,
  member: string,
  inflated: number,
  compressed: number,
  max: number,
): void {
  if (inflated < RATIO_MIN_BYTES) return;
  if (compressed > 0 && inflated / compressed <= max) return;
  throw new ArchiveError(
    'archive_too_large',
    `\`${member}\` in \`${zipPath}\` inflates ${compressed > 0 ? `${Math.round(inflated / compressed)} times` : 'from nothing'} (${inflated} bytes), above the ratio limit of ${max}; it looks like a zip bomb and was not read.`,
    { details: { zipPath, member, inflated, compressed, max } },
  );
}

/** The zip's members as {@link MemberArchive} reads them: inflated, counted and checked on the way. */
function zipMembers(
  zip: ZipFile,
  zipPath: string,
  members: readonly ZipMember[],
  limits: ArchiveLimits,
): ArchiveMember[] {
  return members.map(({ name, entry, kind }) => ({
    name,
    kind,
    size: entry.uncompressedSize,
    progressBytes: entry.compressedSize,
    modified: entry.getLastModDate(),
    open: async (readBefore, onBytes) => {
      const source = await openEntryStream(zip, entry, zipPath, name);
      const counter = new InflateCounter(zipPath, name, entry, limits, readBefore, onBytes);
      return pipeline(source, counter, () => {});
    },
    failure: (error) => zipError(error, zipPath, name),
  }));
}

/**
 * Counts inflated bytes and stops the stream as soon as a member breaks a limit; at the end, checks
 * the bytes against the CRC-32 the zip declares (yauzl does not), so a damaged member is never read
 * as if it were whole.
 */
class InflateCounter extends Transform {
  bytes = 0;
  #crc = 0;

  constructor(
    private readonly zipPath: string,
    private readonly member: string,
    private readonly entry: Entry,
    private readonly limits: ArchiveLimits,
    private readonly before: number,
    private readonly progress: (bytes: number) => void,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    const { entry, limits } = this;
    if (this.bytes > entry.uncompressedSize) {
      callback(
        new ArchiveError(
          'archive_too_large',
          `\`${this.member}\` in \`${this.zipPath}\` inflates to more than the ${entry.uncompressedSize} bytes its header declares, the mark of a zip bomb; it was not read. Download the export again.`,
          { details: { zipPath: this.zipPath, member: this.member } },
        ),
      );
      return;
    }
    if (this.before + this.bytes > limits.maxUncompressedBytes) {
      callback(
        new ArchiveError(
          'archive_too_large',
          `\`${this.zipPath}\` inflates to more than ${limits.maxUncompressedBytes} bytes, above the limit; reading stopped at \`${this.member}\`.`,
          { details: { zipPath: this.zipPath, member: this.member, max: limits.maxUncompressedBytes } },
        ),
      );
      return;
    }
    try {
      checkRatio(this.zipPath, this.member, this.bytes, entry.compressedSize, limits.maxCompressionRatio);
    } catch (error) {
      callback(error as Error);
      return;
    }
    this.#crc = crc32(chunk, this.#crc);
    this.progress(this.bytes);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    const { entry } = this;
    if (this.bytes === entry.uncompressedSize && this.#crc >>> 0 !== entry.crc32 >>> 0) {
      callback(
        new ArchiveError(
          'archive_corrupt',
          `\`${this.member}\` in \`${this.zipPath}\` fails its CRC-32 check (the zip says ${hex(entry.crc32)}, the data gives ${hex(this.#crc)}): it is damaged. Download the export again.`,
          { details: { zipPath: this.zipPath, member: this.member } },
        ),
      );
      return;
    }
    callback();
  }
}

function hex(crc: number): string {
  return (crc >>> 0).toString(16).padStart(8, '0');
}
