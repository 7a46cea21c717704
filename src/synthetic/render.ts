import { createWriteStream } from 'node:fs';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ZipFile } from 'yazl';
import type { TableName } from '../parsers/records.js';
import { dosDate } from './clock.js';
import { RenderContext, type RenderOptions } from './context.js';
import { jsonDocument, jsonMemberName } from './json-layout.js';
import { jsonText } from './json-stream.js';
import { txtFiles } from './txt-layout.js';
import type { SyntheticUser } from './user.js';

export interface ExportStats {
  /** Size of the zip. */
  bytes: number;
  /** Sum of the members' sizes. */
  uncompressedBytes: number;
  /** Rows the export yields in all tables (the sum of `expected`). */
  records: number;
  /**
   * Rows each table holds after importing this export into an empty database: every record counts,
   * identical duplicates included; `profile` is 1, `dm_conversations` the number of chats, `settings`
   * the number of leaves of the settings map. Tables whose sections the export does not contain are
   * absent; tables whose sections are present but empty are 0.
   */
  expected: Partial<Record<TableName, number>>;
}

export interface ZipOptions {
  /** Deflate level, 1–9 (default 6). */
  compressionLevel?: number;
}

/** One member of an export zip, produced lazily. */
export interface ExportMember {
  path: string;
  chunks: () => Iterable<string>;
}

/** The members of an export (one JSON file, or the TXT tree) and the context that counts their rows. */
export function exportMembers(
  user: SyntheticUser,
  options: RenderOptions,
): {
  members: ExportMember[];
  ctx: RenderContext;
} {
  const ctx = new RenderContext(user, options);
  if (options.format === 'json') {
    const doc = jsonDocument(ctx);
    return { members: [{ path: jsonMemberName(options.era), chunks: () => jsonText(doc) }], ctx };
  }
  return { members: txtFiles(ctx), ctx };
}

function total(counts: Partial<Record<TableName, number>>): number {
  let n = 0;
  for (const v of Object.values(counts)) n += v ?? 0;
  return n;
}

/**
 * The export as a zip byte stream (for the sandbox to serve without a temporary file). Members are
 * generated while the zip is read, with backpressure; memory stays flat whatever the size. `stats`
 * resolves once the stream has been read to the end.
 */
export function createExportStream(
  user: SyntheticUser,
  options: RenderOptions,
  zipOptions: ZipOptions = {},
): { stream: Readable; stats: Promise<ExportStats> } {
  const { members, ctx } = exportMembers(user, options);
  const zip = new ZipFile();
  const entry = {
    mtime: dosDate(user.now),
    forceDosTimestamp: true,
    mode: 0o100644,
    compressionLevel: zipOptions.compressionLevel ?? 6,
  };
  let uncompressed = 0;
  let bytes = 0;
  const out = new PassThrough();

  for (const member of members) {
    zip.addReadStreamLazy(member.path, entry, (cb) => {
      const source = Readable.from(
        (function* () {
          for (const chunk of member.chunks()) {
            const buf = Buffer.from(chunk, 'utf8');
            uncompressed += buf.length;
            yield buf;
          }
        })(),
        { objectMode: false },
      );
      source.on('error', (err) => zip.emit('error', err));
      cb(null, source);
    });
  }
  zip.end();

  const stats = new Promise<ExportStats>((resolve, reject) => {
    zip.on('error', (err: Error) => {
      out.destroy(err);
      reject(err);
    });
    out.on('error', reject);
    out.on('end', () =>
      resolve({
        bytes,
        uncompressedBytes: uncompressed,
        records: total(ctx.counts),
        expected: { ...ctx.counts },
      }),
    );
  });
  // A consumer that gives up early must not leave an unhandled rejection behind.
  stats.catch(() => {});
  zip.outputStream.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
  });
  zip.outputStream.pipe(out);
  return { stream: out, stats };
}

/**
 * Writes the user's export as TikTok would produce it for `options` (era, format, categories) to
 * `outZipPath`, streaming: a 16-million-record export needs no more memory than a small one.
 */
export async function writeExport(
  user: SyntheticUser,
  options: RenderOptions,
  outZipPath: string,
  zipOptions: ZipOptions = {},
): Promise<ExportStats> {
  const { stream, stats } = createExportStream(user, options, zipOptions);
  await pipeline(stream, createWriteStream(outZipPath));
  return stats;
}

/**
 * The JSON member as one string, for tests on small users (e.g. to parse it, or corrupt it and zip it
 * by hand). `format` is ignored.
 */
export function renderJson(
  user: SyntheticUser,
  options: Omit<RenderOptions, 'format'>,
): { name: string; text: string; records: number; expected: Partial<Record<TableName, number>> } {
  const { members, ctx } = exportMembers(user, { ...options, format: 'json' });
  const member = members[0]!;
  let text = '';
  for (const chunk of member.chunks()) text += chunk;
  return { name: member.path, text, records: total(ctx.counts), expected: { ...ctx.counts } };
}

/** The TXT members as strings keyed by path, for tests on small users. `format` is ignored. */
export function renderTxt(
  user: SyntheticUser,
  options: Omit<RenderOptions, 'format'>,
): { files: Map<string, string>; records: number; expected: Partial<Record<TableName, number>> } {
  const { members, ctx } = exportMembers(user, { ...options, format: 'txt' });
  const files = new Map<string, string>();
  for (const m of members) {
    let text = '';
    for (const chunk of m.chunks()) text += chunk;
    files.set(m.path, text);
  }
  return { files, records: total(ctx.counts), expected: { ...ctx.counts } };
}
