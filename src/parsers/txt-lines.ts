/**
 * The line layer of TXT exports: splitting text into lines, `Key: value` records separated by blank
 * lines (a line that is not `Key: value` continues the previous value; `HashTag Link::` has a
 * double colon), and the `Direct Messages.txt` layout (`>>> Chat History with <user>::` headers,
 * one `YYYY-MM-DD HH:MM:SS[ UTC] <sender>: <text>` line per message, continuation lines allowed).
 */
import { JsonObject } from './json-tree.js';
import { type ParseContext, preview } from './parse-context.js';
import type { TableRows } from './records.js';
import {
  isEmptyText,
  isUnknownDate,
  normalizeTimestamp,
  normKey,
  peerFromChatKey,
  videoIdFromMessage,
} from './values.js';

/** Receives lines one at a time; `end` after the last. */
export interface LineSink {
  line(text: string, lineNo: number): void;
  end(): void;
}

/**
 * Splits text into lines without rescanning a long line (a 50 MB line is read once). A line ends at
 * `\n`, `\r\n` or a lone `\r` (old Mac line ends, and files whose lines were edited on two
 * systems mix them); a `\r` at the end of one chunk and a `\n` at the start of the next are one end.
 */
export class LineSplitter {
  private carry = '';
  private lineNo = 0;
  /** The last chunk ended in `\r`: a `\n` starting the next one belongs to that line end. */
  private afterCr = false;
  private readonly ends = /\r\n?|\n/g;

  constructor(private readonly sink: LineSink) {}

  write(text: string): void {
    let start = 0;
    if (this.afterCr && text.length > 0) {
      this.afterCr = false;
      if (text.charCodeAt(0) === 10) start = 1;
    }
    const ends = this.ends;
    ends.lastIndex = start;
    let first = true;
    for (let m = ends.exec(text); m !== null; m = ends.exec(text)) {
      const line = text.slice(start, m.index);
      this.emit(first ? this.carry + line : line);
      first = false;
      start = ends.lastIndex;
      if (start === text.length && m[0] === '\r') this.afterCr = true;
    }
    const rest = text.slice(start);
    this.carry = first ? this.carry + rest : rest;
  }

  end(): void {
    if (this.carry !== '') this.emit(this.carry);
    this.carry = '';
    this.sink.end();
  }

  private emit(line: string): void {
    this.lineNo++;
    this.sink.line(line, this.lineNo);
  }
}

const KEY_SEPARATOR = ': ';
const NO_KEYS: ReadonlySet<string> = new Set();

/** Records of `Key: value` lines, handed to `onRecord` with the line each starts on. */
export class RecordLines implements LineSink {
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
export class MessageLines implements LineSink {
  private conversation: string | null = null;
  private pending: TableRows['dm_messages'] | null = null;
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
    // The line pattern only matches date-shaped text; a date TikTok did not know is kept and counted.
    let sent_at: string | null = normalizeTimestamp(date) ?? null;
    let extra: string | null = null;
    if (sent_at === null || isUnknownDate(sent_at)) {
      this.cx.warnField(
        sent_at === null ? 'bad_date' : 'unknown_date',
        `The message at \`${where}\` in \`${this.cx.member}\` is dated \`${date}\`, which is not a date TikTok knew; the date was left empty and the original kept in \`extra\`.`,
        this.path,
        'Date',
      );
      sent_at = null;
      extra = JSON.stringify({ Date: date });
    }
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
      extra,
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
