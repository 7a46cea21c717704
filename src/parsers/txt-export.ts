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
import { StringDecoder } from 'node:string_decoder';
import { JsonObject, toJsonText } from './json-tree.js';
import { ParseContext, type ParseOptions, preview } from './parse-context.js';
import type { DmMessageRow, LiveSessionRow, ParseEvent } from './records.js';
import {
  mapListRecord,
  mapProfile,
  mapSettings,
  mapWatchLive,
  purchasePartOf,
  type RecordLoc,
  RecordReader,
} from './row-mappers.js';
import { findFavoriteOther, findSection, type SectionDef, sectionTargets, type Target } from './sections.js';
import { isEmptyText, normalizeTimestamp, normKey, peerFromChatKey, videoIdFromMessage } from './values.js';

export type { ParseOptions } from './parse-context.js';

/** `TikTok_Data_1/Tiktok/Activity/Browsing History.txt` → `Activity/Browsing History.txt`. */
export function txtSectionPath(memberPath: string): string {
  const parts = memberPath.split('/').filter((p) => p !== '');
  return parts.slice(-2).join('/');
}

/** Receives lines one at a time; `end` after the last. */
interface LineSink {
  line(text: string, lineNo: number): void;
  end(): void;
}

/** Splits text into lines without rescanning a long line (a 50 MB line is read once). */
class LineSplitter {
  private carry = '';
  private lineNo = 0;

  constructor(private readonly sink: LineSink) {}

  write(text: string): void {
    let start = 0;
    let nl = text.indexOf('\n');
    if (nl === -1) {
      this.carry += text;
      return;
    }
    this.emit(this.carry + text.slice(0, nl));
    this.carry = '';
    start = nl + 1;
    for (;;) {
      nl = text.indexOf('\n', start);
      if (nl === -1) break;
      this.emit(text.slice(start, nl));
      start = nl + 1;
    }
    this.carry = text.slice(start);
  }

  end(): void {
    if (this.carry !== '') this.emit(this.carry);
    this.carry = '';
    this.sink.end();
  }

  private emit(line: string): void {
    this.lineNo++;
    this.sink.line(line.endsWith('\r') ? line.slice(0, -1) : line, this.lineNo);
  }
}

const KEY_SEPARATOR = ': ';
const NO_KEYS: ReadonlySet<string> = new Set();

/** Records of `Key: value` lines, handed to `onRecord` with the line each starts on. */
class RecordLines implements LineSink {
  private rec: JsonObject | null = null;
  private startLine = 0;
  private readonly seen = new Set<string>();

  constructor(
    private readonly cx: ParseContext,
    private readonly path: string,
    private readonly keepKeys: boolean,
    private readonly onRecord: (rec: JsonObject, line: number) => void,
    /** Normalized keys that may repeat inside one record (a LIVE room's comment lines). */
    private readonly repeatable: ReadonlySet<string> = NO_KEYS,
  ) {}

  line(text: string, lineNo: number): void {
    if (text.trim() === '') {
      this.flush();
      return;
    }
    let sep = text.indexOf(KEY_SEPARATOR);
    let valueStart = sep + KEY_SEPARATOR.length;
    if (sep <= 0 && text.endsWith(':')) {
      sep = text.length - 1;
      valueStart = text.length;
    }
    if (sep <= 0) {
      this.continuation(text, lineNo);
      return;
    }
    let key = text.slice(0, sep).trim();
    // `HashTag Link:: …` — the extra colon is not part of the key (settings keys are kept as written).
    if (!this.keepKeys) key = key.replace(/:+$/, '');
    const value = text.slice(valueStart).trim();
    const norm = normKey(key);
    // A repeated key starts the next record even without a blank line between them.
    if (this.rec !== null && this.seen.has(norm) && !this.repeatable.has(norm)) this.flush();
    if (this.rec === null) {
      this.rec = new JsonObject();
      this.startLine = lineNo;
    }
    this.seen.add(norm);
    this.rec.keys.push(key);
    this.rec.values.push(value);
  }

  private continuation(text: string, lineNo: number): void {
    const rec = this.rec;
    if (rec === null || rec.size === 0) {
      const where = `${this.path}:${lineNo}`;
      this.cx.warnOnce(
        `line\0${this.path}`,
        'bad_value',
        `Skipped a line that is not \`Key: value\` at \`${where}\` in \`${this.cx.member}\`: \`${preview(text)}\`.`,
        where,
      );
      return;
    }
    const last = rec.size - 1;
    rec.values[last] = `${rec.values[last] as string}\n${text}`;
  }

  private flush(): void {
    const rec = this.rec;
    if (rec === null) return;
    this.rec = null;
    this.seen.clear();
    this.onRecord(rec, this.startLine);
  }

  end(): void {
    this.flush();
  }
}

const HEADER = /^>>>\s*(.*?)\s*$/;
const MESSAGE_LINE = /^(\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2})(?:\s*UTC)?(?:\s+(.*))?$/;

/** `Direct Messages.txt`: conversations with one line per message (continuation lines allowed). */
class MessageLines implements LineSink {
  private conversation: string | null = null;
  private pending: DmMessageRow | null = null;
  private blankLines = 0;

  constructor(
    private readonly cx: ParseContext,
    private readonly path: string,
    private readonly part: string,
  ) {}

  line(text: string, lineNo: number): void {
    if (text.trim() === '') {
      if (this.pending !== null) this.blankLines++;
      return;
    }
    const header = HEADER.exec(text);
    if (header !== null) {
      this.flush();
      this.startConversation(header[1]!, lineNo);
      return;
    }
    const m = MESSAGE_LINE.exec(text);
    if (m !== null) {
      this.flush();
      this.startMessage(m[1]!, m[2] ?? '', lineNo);
      return;
    }
    if (this.pending !== null) {
      // A multi-line message: blank lines inside it are part of the text.
      const gap = '\n'.repeat(this.blankLines + 1);
      this.blankLines = 0;
      const clean = this.cx.clean(text, () => `${this.path}:${lineNo}`);
      this.pending.content = this.pending.content === null ? clean : `${this.pending.content}${gap}${clean}`;
      return;
    }
    this.skipLine(text, lineNo);
  }

  private startConversation(title: string, lineNo: number): void {
    const clean = this.cx.clean(title, () => `${this.path}:${lineNo}`);
    if (!/^chat\s+history\s+with\b/i.test(clean)) {
      const where = `${this.path}:${lineNo}`;
      this.cx.warn(
        'bad_value',
        `Conversation header \`${preview(clean)}\` at \`${where}\` in \`${this.cx.member}\` is not \`Chat History with <user>:\`; its title was used as the conversation.`,
        where,
      );
    }
    this.conversation = peerFromChatKey(clean);
    this.cx.record('dm_conversations', this.part, { conversation: this.conversation, extra: null });
  }

  private startMessage(date: string, rest: string, lineNo: number): void {
    const where = `${this.path}:${lineNo}`;
    const sent_at = normalizeTimestamp(date);
    if (sent_at === undefined) throw this.cx.badDate(date, where);
    if (this.conversation === null) {
      this.cx.warnOnce(
        `orphan\0${this.path}`,
        'bad_value',
        `Skipped messages before the first \`>>> Chat History with …\` header at \`${where}\` in \`${this.cx.member}\`.`,
        where,
      );
      return;
    }
    const clean = this.cx.clean(rest, () => where);
    let sender: string | null = null;
    let content: string | null = clean;
    const sep = clean.indexOf(KEY_SEPARATOR);
    if (sep >= 0) {
      sender = clean.slice(0, sep);
      content = clean.slice(sep + KEY_SEPARATOR.length);
    } else if (clean.endsWith(':')) {
      sender = clean.slice(0, -1);
      content = null;
    }
    this.pending = {
      conversation: this.conversation,
      sent_at,
      sender: sender === null || isEmptyText(sender) ? null : sender.trim(),
      content,
      video_id: null,
      extra: null,
    };
    this.blankLines = 0;
  }

  private skipLine(text: string, lineNo: number): void {
    const where = `${this.path}:${lineNo}`;
    this.cx.warnOnce(
      `line\0${this.path}`,
      'bad_value',
      `Skipped a line that is neither a header nor a message at \`${where}\` in \`${this.cx.member}\`: \`${preview(text)}\`.`,
      where,
    );
  }

  private flush(): void {
    const row = this.pending;
    if (row === null) return;
    this.pending = null;
    this.blankLines = 0;
    if (row.content !== null && isEmptyText(row.content)) row.content = null;
    row.video_id = videoIdFromMessage(row.content);
    this.cx.record('dm_messages', this.part, row);
  }

  end(): void {
    this.flush();
  }
}

/** Reads the records of a section file into its table. */
function recordHandler(cx: ParseContext, def: SectionDef, path: string): LineSink {
  const reader = new RecordReader(cx);
  let line = 0;
  const loc: RecordLoc = { section: path, where: () => `${path}:${line}` };
  const content = def.content;

  if (content.kind === 'settings') {
    return new RecordLines(cx, path, true, (rec) => {
      for (const row of mapSettings(cx, rec, path)) cx.record('settings', '', row);
    });
  }
  const targets = sectionTargets(def);
  const first: Target | undefined = targets[0];
  if (first?.kind === 'chats') return new MessageLines(cx, path, first.part);
  if (first?.kind === 'tako') return new MessageLines(cx, path, 'tako');
  if (first?.kind === 'profile') {
    // One profile, whatever blank lines split it into.
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
        if (merged.size > 0) cx.record('profile', '', mapProfile(cx, reader, merged, loc));
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
        const row = mapListRecord('live_sessions', 'watch_live', reader, entry, loc) as LiveSessionRow | null;
        if (row !== null) cx.record('live_sessions', 'watch_live', row);
        if (entry.get('Comments') !== undefined) {
          const where = `${path}:${at}`;
          cx.warn(
            'bad_value',
            `Dropped the comments of a LIVE room without a \`Room ID\` at \`${where}\` in \`${cx.member}\`.`,
            where,
          );
        }
      },
      LIVE_COMMENT_KEYS,
    );
  }
  const lists = targets.filter((t): t is Extract<Target, { kind: 'records' }> => t.kind === 'records');
  return new RecordLines(cx, path, false, (rec, at) => {
    line = at;
    let target = lists[0]!;
    if (lists.length > 1) {
      const part = purchasePartOf(rec);
      target = lists.find((t) => t.part === part) ?? target;
    }
    const row = mapListRecord(target.table, target.part, reader, rec, loc);
    if (row !== null) cx.record(target.table, target.part, row);
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

/** Keeps the records of an unmodeled file as one JSON array (the `raw` event). */
function rawHandler(cx: ParseContext, path: string): LineSink {
  const parts: string[] = ['['];
  let length = 1;
  let count = 0;
  let overflow = false;
  const clean = (s: string) => cx.clean(s, () => path);
  const sink = new RecordLines(cx, path, false, (rec) => {
    if (overflow) return;
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
        cx.warn(
          'raw_too_large',
          `Section \`${path}\` in \`${cx.member}\` is larger than ${cx.maxRawChars} characters; it was not kept.`,
          path,
        );
        return;
      }
      parts.push(']');
      cx.raw(path, parts.join(''));
    },
  };
}

function handlerFor(cx: ParseContext, memberPath: string): LineSink {
  const path = txtSectionPath(memberPath);
  const base = (memberPath.split('/').pop() ?? memberPath).replace(/\.txt$/i, '');
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
    cx.warn('unknown_section', `Unknown file \`${path}\` in the export; it was kept raw.`, path);
    return rawHandler(cx, path);
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
    const decoder = new StringDecoder('utf8');
    let atStart = true;
    for await (const chunk of stream) {
      if (signal?.aborted) throw signal.reason;
      let text = typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer);
      if (atStart && text.length > 0) {
        atStart = false;
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      }
      lines.write(text);
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
