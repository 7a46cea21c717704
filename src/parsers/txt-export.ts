/**
 * TXT exports (one `.txt` per section) → parse events, line by line.
 *
 * Section files hold records of `Key: value` lines separated by blank lines (`HashTag Link::` has a
 * double colon; a line that is not `Key: value` continues the previous value). `Direct Messages.txt`
 * has its own layout: `>>> Chat History with <user>::`, then one line per message
 * `YYYY-MM-DD HH:MM:SS[ UTC] <sender>: <text>`, where a line that does not start with a date
 * continues the previous message.
 */
import type { Readable } from 'node:stream';
import { JsonObject, toJsonText } from './json-tree.js';
import { ParseContext, type ParseOptions } from './parse-context.js';
import { type RecordLoc, RecordReader } from './record-reader.js';
import type { ParseEvent, TableName } from './records.js';
import { emitRecord, mapValues, mapWatchLive, purchasePartOf, splitItems } from './row-mappers.js';
import { findFavoriteOther, findSection, type SectionDef, sectionTargets, type Target } from './sections.js';
import { ExportTextDecoder } from './text-decoder.js';
import { type LineSink, LineSplitter, MessageLines, RecordLines } from './txt-lines.js';
import { txtPart } from './txt-parts.js';
import { normKey } from './values.js';

export type { ParseOptions } from './parse-context.js';

/** `TikTok_Data_1/Tiktok/Activity/Browsing History.txt` → `Activity/Browsing History.txt`. */
export function txtSectionPath(memberPath: string): string {
  const parts = memberPath.split('/').filter((p) => p !== '');
  return parts.slice(-2).join('/');
}

/** Reads the records of a section file into its table. */
function recordHandler(cx: ParseContext, def: SectionDef, path: string): LineSink {
  const reader = new RecordReader(cx);
  let line = 0;
  const loc: RecordLoc = { section: path, where: () => `${path}:${line}` };
  const content = def.content;

  if (content.kind === 'settings') {
    return new RecordLines(cx, path, true, (rec) => {
      for (const row of mapValues(cx, rec, path)) cx.record('settings', '', row);
    });
  }
  const targets = sectionTargets(def);
  const first: Target | undefined = (content.kind === 'containers' ? content.txt : undefined) ?? targets[0];
  if (first?.kind === 'chats') return new MessageLines(cx, path, first.part);
  if (first?.kind === 'tako') return new MessageLines(cx, path, 'tako');
  if (first?.kind === 'values') {
    const table = first.table as TableName;
    return new RecordLines(cx, path, true, (rec) => {
      for (const row of mapValues(cx, rec, path)) cx.record(table, first.part, row as never);
    });
  }
  if (first?.kind === 'items') {
    const table = first.table as TableName;
    return new RecordLines(cx, path, false, (rec) => {
      for (const value of rec.values) {
        for (const item of splitItems(cx, value, path)) {
          cx.record(table, first.part, { [first.column]: item } as never);
        }
      }
    });
  }
  if (first?.kind === 'record') {
    // One record, whatever blank lines split it into.
    const table = first.table as TableName;
    const merged = new JsonObject();
    const sink = new RecordLines(cx, path, false, (rec, at) => {
      if (merged.size === 0) line = at;
      merged.keys.push(...rec.keys);
      merged.values.push(...rec.values);
    });
    return {
      line: (text, n) => sink.line(text, n),
      end: () => {
        sink.end();
        if (merged.size > 0) emitRecord(cx, table, first.part, reader, merged, loc);
      },
    };
  }
  if (first?.kind === 'watch_live') {
    return new RecordLines(
      cx,
      path,
      false,
      (rec, at) => {
        line = at;
        const { roomId, entry } = watchLiveEntry(rec);
        if (roomId !== null) {
          mapWatchLive(cx, reader, roomId, entry, loc);
          return;
        }
        emitRecord(cx, 'live_sessions', 'watch_live', reader, entry, loc);
        if (entry.get('Comments') !== undefined) {
          const where = `${path}:${at}`;
          cx.warn(
            'bad_value',
            `A LIVE room without a \`Room ID\` at \`${where}\` in \`${cx.member}\` has comments; they were kept in \`extra\`.`,
            where,
          );
        }
      },
      LIVE_COMMENT_KEYS,
    );
  }
  const lists =
    first?.kind === 'records' && first !== targets[0]
      ? [first]
      : targets.filter((t): t is Extract<Target, { kind: 'records' }> => t.kind === 'records');
  if (lists.length === 0) return rawHandler(cx, path);
  return new RecordLines(cx, path, false, (rec, at) => {
    line = at;
    let target = lists[0]!;
    if (lists.length > 1) {
      const part = purchasePartOf(rec);
      target = lists.find((t) => t.part === part) ?? target;
    }
    emitRecord(cx, target.table as TableName, target.part, reader, rec, loc);
  });
}

const LIVE_COMMENT_KEYS: ReadonlySet<string> = new Set(['commenttime', 'commentcontent', 'rawtime']);

/**
 * A `Watch Live History.txt` record → its room id and the entry as the JSON map would hold it: the
 * room's own lines, plus `Comments` built from its repeated `Comment Time` / `Comment Content` lines.
 */
function watchLiveEntry(rec: JsonObject): { roomId: string | null; entry: JsonObject } {
  const entry = new JsonObject();
  const comments: JsonObject[] = [];
  let roomId: string | null = null;
  let comment: JsonObject | null = null;
  for (let i = 0; i < rec.size; i++) {
    const key = rec.keys[i]!;
    const value = rec.values[i]!;
    const norm = normKey(key);
    if (norm === 'roomid' && roomId === null && typeof value === 'string' && /^\d+$/.test(value.trim())) {
      roomId = value.trim();
      continue;
    }
    if (!LIVE_COMMENT_KEYS.has(norm)) {
      entry.keys.push(key);
      entry.values.push(value);
      continue;
    }
    // Each `Comment Time` opens a comment; a repeated key inside one also does.
    if (comment === null || norm === 'commenttime' || comment.keys.some((k) => normKey(k) === norm)) {
      comment = new JsonObject();
      comments.push(comment);
    }
    comment.keys.push(key);
    comment.values.push(value);
  }
  if (comments.length > 0) {
    entry.keys.push('Comments');
    entry.values.push(comments);
  }
  return { roomId, entry };
}

/**
 * Keeps the records of an unmodeled file as one JSON array (the `raw` event). `unknown` is the
 * warning for a file no section names, given at the end with the outcome: "kept raw", or one
 * `raw_too_large` warning when it was too large to keep.
 */
function rawHandler(
  cx: ParseContext,
  path: string,
  unknown?: { message: string; subject: string },
): LineSink {
  const parts: string[] = ['['];
  let length = 1;
  let count = 0;
  let overflow = false;
  const clean = (s: string) => cx.clean(s, () => path);
  const sink = new RecordLines(cx, path, false, (rec) => {
    if (overflow) {
      // Only counted, for the warning (NULs are not removed from what is not kept).
      length += (count++ > 0 ? 1 : 0) + toJsonText(rec).length;
      return;
    }
    const text = (count++ > 0 ? ',' : '') + toJsonText(rec, clean);
    length += text.length;
    if (length > cx.maxRawChars) {
      overflow = true;
      parts.length = 0;
      return;
    }
    parts.push(text);
  });
  return {
    line: (text, n) => sink.line(text, n),
    end: () => {
      sink.end();
      if (overflow) {
        cx.rawTooLarge(
          path,
          unknown?.subject ?? `Section \`${path}\` in \`${cx.member}\` (kept raw: no table reads it)`,
          length + 1,
        );
        return;
      }
      if (unknown !== undefined) cx.warn('unknown_section', unknown.message, path);
      parts.push(']');
      cx.raw(path, parts.join(''));
    },
  };
}

function handlerFor(cx: ParseContext, memberPath: string): LineSink {
  const path = txtSectionPath(memberPath);
  const file = (memberPath.split('/').pop() ?? memberPath).replace(/\.txt$/i, '');
  // A numbered part (`Following_2`) is read as its section; the part number is only tried when the
  // whole name is no section, so a section whose own name ends in digits would still be found.
  const part = txtPart(file);
  const base = findSection(file) === undefined && part !== undefined ? part.section : file;
  let def = findSection(base);
  if (def === undefined) {
    def = findFavoriteOther(base);
    if (def !== undefined) {
      cx.warn(
        'unknown_section',
        `Unknown file \`${path}\` in the export was read as favorites of kind \`other\`.`,
        path,
      );
    }
  }
  if (def === undefined) {
    return rawHandler(cx, path, {
      message: `Unknown file \`${path}\` in the export; it was kept raw.`,
      subject: `Unknown file \`${path}\` in the export`,
    });
  }
  cx.section(def, path);
  if (def.content.kind === 'raw') return rawHandler(cx, path);
  return recordHandler(cx, def, path);
}

/**
 * Parses one `.txt` member, yielding events in batches (one batch per input chunk). This is the fast
 * path; {@link parseTxtExport} yields the same events one by one.
 */
export async function* parseTxtExportBatches(
  stream: Readable,
  memberPath: string,
  options: ParseOptions = {},
): AsyncGenerator<ParseEvent[]> {
  const cx = new ParseContext(memberPath, options);
  const signal = options.signal;
  signal?.throwIfAborted();
  const onAbort = () => stream.destroy(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const lines = new LineSplitter(handlerFor(cx, memberPath));
    const decoder = new ExportTextDecoder(cx);
    for await (const chunk of stream) {
      if (signal?.aborted) throw signal.reason;
      lines.write(typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer));
      if (cx.out.length > 0) yield cx.take();
    }
    lines.write(decoder.end());
    lines.end();
    if (cx.out.length > 0) yield cx.take();
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (!stream.destroyed) stream.destroy();
  }
}

/** Parses one `.txt` member of a TXT export into parse events, in file order. */
export async function* parseTxtExport(
  stream: Readable,
  memberPath: string,
  options: ParseOptions = {},
): AsyncGenerator<ParseEvent> {
  for await (const batch of parseTxtExportBatches(stream, memberPath, options)) {
    for (let i = 0; i < batch.length; i++) yield batch[i]!;
  }
}
