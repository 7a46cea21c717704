/**
 * What the archive readers (zip, folder, single file) share: which members are export files, the
 * order they are read in, and the one loop that turns members into parse events. Each reader only
 * says how a member's bytes are opened and how its failures read.
 */
import type { Readable } from 'node:stream';
import { parseJsonExportBatches } from '../parsers/json-export.js';
import type { ParseOptions } from '../parsers/parse-context.js';
import type { ArchiveInfo, ParseEvent, WarningEvent } from '../parsers/records.js';
import { detectEra, detectTxtEra } from '../parsers/sections.js';
import { parseTxtExportBatches } from '../parsers/txt-export.js';
import { txtPart } from '../parsers/txt-parts.js';
import type { ExportArchive, ReadArchiveOptions } from './archive.js';
import { type ExportRoot, selectExport } from './export-roots.js';

export type MemberKind = 'json' | 'txt' | 'other';

/** Files that zip tools and file managers add and that are never part of an export. */
export function isJunk(name: string): boolean {
  const base = name.split('/').pop() ?? name;
  return (
    name.startsWith('__MACOSX/') ||
    name.includes('/__MACOSX/') ||
    base.startsWith('._') ||
    base === '.DS_Store' ||
    base === 'Thumbs.db'
  );
}

export function kindOf(name: string): MemberKind {
  if (isJunk(name)) return 'other';
  const lower = name.toLowerCase();
  if (lower.endsWith('.json')) return 'json';
  if (lower.endsWith('.txt')) return 'txt';
  return 'other';
}

/**
 * Members in the order they are read: as listed, except that the numbered parts of one TXT section
 * (`Following_1.txt`, `Following_2.txt` … `Following_10.txt`) are read one after the other in part
 * order (numeric: 2 before 10), where the first of them was listed. Records then come in the order
 * TikTok wrote them, whatever order a zip tool or file system lists the parts in; that order decides
 * which of two identical records is the first occurrence.
 */
export function inReadingOrder<T>(members: readonly T[], nameOf: (member: T) => string): T[] {
  const groups = new Map<string, { part: number; member: T }[]>();
  const slots: { part: number; member: T }[][] = [];
  for (const member of members) {
    const name = nameOf(member);
    if (kindOf(name) !== 'txt') {
      slots.push([{ part: 0, member }]);
      continue;
    }
    const numbered = txtPart(name);
    const key = numbered?.section ?? name;
    let group = groups.get(key);
    if (group === undefined) {
      group = [];
      groups.set(key, group);
      slots.push(group);
    }
    group.push({ part: numbered?.part ?? 0, member });
  }
  // Array.prototype.sort is stable: members with the same part number keep their listed order.
  return slots.flatMap((group) => group.sort((a, b) => a.part - b.part).map((g) => g.member));
}

/** One file of an archive, as a reader hands it to {@link MemberArchive}. */
export interface ArchiveMember {
  /** Path inside the archive, `/`-separated. */
  readonly name: string;
  readonly kind: MemberKind;
  /** Bytes it holds once read (inflated), for progress within it. */
  readonly size: number;
  /** Its share of the progress total: its compressed size in a zip, its size in a folder. */
  readonly progressBytes: number;
  /** When the file was last written, as the archive says (zip entries); not known for folders. */
  readonly modified?: Date | undefined;
  /**
   * Its bytes. `readBefore` is what earlier members gave (for the limit on the total); `onBytes`
   * is told the bytes of this member read so far.
   */
  open(readBefore: number, onBytes: (bytes: number) => void): Promise<Readable>;
  /** A failure while opening or reading it, as the error to throw. */
  failure(error: unknown): unknown;
}

const PROGRESS_STEP = 256 * 1024;

/** An {@link ExportArchive} over members that some reader opens one at a time. */
export class MemberArchive implements ExportArchive {
  readonly members: readonly string[];
  /** The export read when the archive held several and one was picked (`member`). */
  readonly root: ExportRoot | undefined;
  /** The newest time the members carry, when the archive records one (zip entries). */
  readonly newestMemberTime: Date | undefined;
  private readonly entries: readonly ArchiveMember[];
  private readonly format: 'json' | 'txt';
  private era: string;
  private readonly topLevelKeys = new Set<string>();
  private readonly progressTotal: number;
  private closed = false;

  constructor(
    all: readonly ArchiveMember[],
    private readonly warnings: readonly WarningEvent[],
    private readonly options: ReadArchiveOptions,
    private readonly release: () => void = () => {},
    archivePath = 'the archive',
  ) {
    // One export per archive (export-roots.ts): several are refused unless one is picked.
    // (A reader that throws here closes what it opened: see openZipArchive.)
    const selected = selectExport(all, archivePath, options.member);
    const entries = selected.members;
    this.entries = entries;
    this.root = selected.root;
    const times = entries.flatMap((m) => (m.kind !== 'other' && m.modified ? [m.modified.getTime()] : []));
    this.newestMemberTime = times.length > 0 ? new Date(Math.max(...times)) : undefined;
    this.members = entries.map((m) => m.name);
    // A JSON export is one (or a few) `.json` files; a TXT export is a tree of `.txt` files. A stray
    // file of the other kind does not change which one this is.
    const json = entries.filter((m) => m.kind === 'json').length;
    const txt = entries.filter((m) => m.kind === 'txt').length;
    this.format = json > 0 && json >= txt ? 'json' : 'txt';
    this.era =
      this.format === 'txt'
        ? detectTxtEra(this.members.map((name) => txtPart(name)?.section ?? name))
        : 'unknown';
    this.progressTotal = entries.reduce((sum, m) => sum + m.progressBytes, 0);
  }

  get info(): ArchiveInfo {
    return { format: this.format, era: this.era };
  }

  async *events(): AsyncGenerator<ParseEvent> {
    if (this.closed) throw new Error('The archive is closed.');
    const { signal, onProgress } = this.options;
    const total = this.progressTotal;
    for (const warning of this.warnings) yield warning;
    let done = 0;
    let readTotal = 0;
    const parseOptions: ParseOptions = {
      ...(signal ? { signal } : {}),
      onTopLevelKey: (key) => {
        if (this.topLevelKeys.has(key)) return;
        this.topLevelKeys.add(key);
        this.era = detectEra(this.topLevelKeys);
      },
    };
    for (const member of this.entries) {
      signal?.throwIfAborted();
      const { name } = member;
      if (member.kind === 'other') {
        yield {
          kind: 'warning',
          code: 'unknown_member',
          message: `Skipped \`${name}\`: only \`.json\` and \`.txt\` files of an export are read.`,
          path: name,
        };
        done += member.progressBytes;
        onProgress?.(done, total);
        continue;
      }
      let read = 0;
      let reported = done;
      const onBytes = (bytes: number) => {
        read = bytes;
        if (onProgress === undefined || member.size === 0) return;
        const part = Math.min(member.progressBytes, (bytes * member.progressBytes) / member.size);
        // Every 256 KiB of archive is plenty for a progress bar.
        if (done + part - reported < PROGRESS_STEP) return;
        reported = done + Math.floor(part);
        onProgress(reported, total);
      };
      let stream: Readable | undefined;
      const parse = member.kind === 'json' ? parseJsonExportBatches : parseTxtExportBatches;
      try {
        stream = await member.open(readTotal, onBytes);
        for await (const batch of parse(stream, name, parseOptions)) {
          for (let i = 0; i < batch.length; i++) yield batch[i]!;
        }
      } catch (error) {
        if (signal?.aborted) throw error;
        throw member.failure(error);
      } finally {
        if (stream !== undefined && !stream.destroyed) stream.destroy();
      }
      readTotal += read;
      done += member.progressBytes;
      onProgress?.(done, total);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.release();
  }
}
