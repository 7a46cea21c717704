/**
 * Bytes of an export member → text. Exports are UTF-8, but a file re-saved by an editor may be
 * UTF-16 (Windows "Unicode") or Latin-1 (Windows-1252 without its extras); decoding those as UTF-8
 * would fill the text with NUL characters or silently turn every accented letter into U+FFFD. So:
 *
 * - the first bytes decide UTF-16: a byte-order mark (`FF FE` little-endian, `FE FF` big-endian), or
 *   without one the NUL pattern of ASCII text in UTF-16 (every other byte 0). The encoding is
 *   reported as an `encoding` warning; a file that is not valid UTF-16 after all fails, naming it;
 * - otherwise the bytes are checked as UTF-8 as they pass;
 * - a leading byte-order mark is dropped, whatever the encoding;
 * - invalid before any multi-byte character was seen: the member is read as Latin-1, with a warning
 *   (ASCII read so far is the same in both);
 * - invalid after real UTF-8 characters: mixed up, so the bad bytes become U+FFFD, with a warning.
 */
import { isUtf8 } from 'node:buffer';
import { StringDecoder } from 'node:string_decoder';
import { TextDecoder } from 'node:util';
import { ArchiveError } from '../errors.js';
import type { ParseContext } from './parse-context.js';

type Mode = 'sniff' | 'utf8' | 'latin1' | 'replace' | 'utf16';

/** Bytes looked at to tell UTF-16 without a byte-order mark. */
const SNIFF_BYTES = 64;

export class ExportTextDecoder {
  #mode: Mode = 'sniff';
  /** The first bytes, held until there are enough to tell the encoding. */
  #head: Buffer = Buffer.alloc(0);
  #utf16: TextDecoder | undefined;
  #utf16Name = '';
  /** The start of a UTF-8 sequence cut by the chunk boundary, kept for the next chunk. */
  #pending: Buffer = Buffer.alloc(0);
  #multibyte = false;
  #offset = 0;
  readonly #lenient = new StringDecoder('utf8');

  constructor(private readonly cx: ParseContext) {}

  /** The text of the next chunk (possibly empty while the first bytes are held). */
  write(chunk: Buffer): string {
    return this.#withoutBom(this.#write(chunk));
  }

  /** The rest of the text, once the last chunk was written. */
  end(): string {
    return this.#withoutBom(this.#end());
  }

  /**
   * How many bytes of the file `text` was decoded from, for text just returned by {@link write} or
   * {@link end} (before the next call: the encoding may change). Exact, but for bytes read as U+FFFD
   * after invalid UTF-8, which count as the three bytes of U+FFFD whatever they were.
   */
  bytesOf(text: string): number {
    if (this.#mode === 'utf16') return text.length * 2;
    if (this.#mode === 'latin1') return text.length;
    return Buffer.byteLength(text, 'utf8');
  }

  /** Bytes of the byte-order mark that was dropped from the start of the text (0 without one). */
  get bomBytes(): number {
    return this.#bomBytes;
  }

  #bomChecked = false;
  #bomBytes = 0;

  #withoutBom(text: string): string {
    if (this.#bomChecked || text.length === 0) return text;
    this.#bomChecked = true;
    if (text.charCodeAt(0) !== 0xfeff) return text;
    this.#bomBytes = this.bytesOf('\ufeff');
    return text.slice(1);
  }

  #write(chunk: Buffer): string {
    if (this.#mode === 'sniff') {
      this.#head = this.#head.length === 0 ? chunk : Buffer.concat([this.#head, chunk]);
      if (this.#head.length < SNIFF_BYTES) return '';
      return this.#decideThenWrite();
    }
    if (this.#mode === 'utf16') return this.#writeUtf16(chunk, true);
    if (this.#mode === 'latin1') return chunk.toString('latin1');
    if (this.#mode === 'replace') return this.#lenient.write(chunk);
    const bytes = this.#pending.length > 0 ? Buffer.concat([this.#pending, chunk]) : chunk;
    const cut = incompleteTail(bytes);
    const body = cut > 0 ? bytes.subarray(0, bytes.length - cut) : bytes;
    if (isUtf8(body)) {
      this.#pending = cut > 0 ? Buffer.from(bytes.subarray(bytes.length - cut)) : Buffer.alloc(0);
      const text = body.toString('utf8');
      if (!this.#multibyte && text.length !== body.length) this.#multibyte = true;
      this.#offset += body.length;
      return text;
    }
    this.#pending = Buffer.alloc(0);
    return this.#switch(bytes);
  }

  #end(): string {
    if (this.#mode === 'sniff') {
      if (this.#head.length === 0) return '';
      const text = this.#decideThenWrite();
      return text + this.#end();
    }
    if (this.#mode === 'utf16') return this.#writeUtf16(Buffer.alloc(0), false);
    if (this.#mode === 'replace') return this.#lenient.end();
    if (this.#pending.length === 0) return '';
    const rest = this.#pending;
    this.#pending = Buffer.alloc(0);
    // A sequence the file ends in the middle of.
    return this.#mode === 'latin1' ? rest.toString('latin1') : this.#switch(rest);
  }

  /** Picks the encoding from the bytes held so far, then decodes them. */
  #decideThenWrite(): string {
    const head = this.#head;
    this.#head = Buffer.alloc(0);
    const utf16 = utf16Of(head);
    if (utf16 === undefined) {
      this.#mode = 'utf8';
      return this.#write(head);
    }
    this.#mode = 'utf16';
    // TextDecoder drops the byte-order mark itself.
    if (utf16.bom) this.#bomBytes = 2;
    this.#utf16Name = utf16.label;
    this.#utf16 = new TextDecoder(utf16.encoding, { fatal: true });
    this.cx.warn(
      'encoding',
      `\`${this.cx.member}\` is ${utf16.label} (${utf16.by}), not UTF-8; it was decoded as ${utf16.label}.`,
      this.cx.member,
    );
    return this.#writeUtf16(head, true);
  }

  #writeUtf16(chunk: Buffer, stream: boolean): string {
    try {
      const text = this.#utf16!.decode(chunk, { stream });
      this.#offset += chunk.length;
      return text;
    } catch (error) {
      throw new ArchiveError(
        'archive_bad_encoding',
        `\`${this.cx.member}\` looks like ${this.#utf16Name} but is not valid ${this.#utf16Name} (near byte ${this.#offset}${stream ? '' : ', at its end'}). Save it again as UTF-8 or UTF-16, or download the export again.`,
        {
          cause: error,
          details: { member: this.cx.member, encoding: this.#utf16Name, offset: this.#offset },
        },
      );
    }
  }

  #switch(bytes: Buffer): string {
    const at = this.#offset + firstInvalid(bytes);
    if (!this.#multibyte) {
      this.#mode = 'latin1';
      this.cx.warn(
        'not_utf8',
        `\`${this.cx.member}\` is not UTF-8 (an invalid byte at offset ${at}, and no UTF-8 character before it); it was read as Latin-1. Check the accented letters of its records.`,
        this.cx.member,
      );
      return bytes.toString('latin1');
    }
    this.#mode = 'replace';
    this.cx.warn(
      'invalid_utf8',
      `\`${this.cx.member}\` has bytes that are not UTF-8 (from offset ${at}) after valid UTF-8 text; they were read as the replacement character U+FFFD.`,
      this.cx.member,
    );
    return this.#lenient.write(bytes);
  }
}

interface Utf16 {
  encoding: 'utf-16le' | 'utf-16be';
  label: string;
  by: string;
  /** Told by its byte-order mark (which the decoder then drops). */
  bom: boolean;
}

/**
 * UTF-16 by its byte-order mark, or by the NUL pattern of mostly-ASCII text: at least half of the
 * 16-bit units with a 0 high byte and (almost) no 0 low byte. UTF-8 text has no NUL bytes at all.
 */
function utf16Of(head: Buffer): Utf16 | undefined {
  if (head.length >= 2) {
    if (head[0] === 0xff && head[1] === 0xfe) {
      return { encoding: 'utf-16le', label: 'UTF-16 LE', by: 'by its byte-order mark', bom: true };
    }
    if (head[0] === 0xfe && head[1] === 0xff) {
      return { encoding: 'utf-16be', label: 'UTF-16 BE', by: 'by its byte-order mark', bom: true };
    }
  }
  const units = Math.min(head.length, SNIFF_BYTES) >> 1;
  if (units < 2) return undefined;
  let evenZero = 0;
  let oddZero = 0;
  for (let i = 0; i < units; i++) {
    if (head[2 * i] === 0) evenZero++;
    if (head[2 * i + 1] === 0) oddZero++;
  }
  const by = 'by the NUL bytes of its text; it has no byte-order mark';
  if (oddZero * 2 >= units && evenZero * 10 <= units)
    return { encoding: 'utf-16le', label: 'UTF-16 LE', by, bom: false };
  if (evenZero * 2 >= units && oddZero * 10 <= units)
    return { encoding: 'utf-16be', label: 'UTF-16 BE', by, bom: false };
  return undefined;
}

/** Bytes at the end that start a multi-byte sequence not yet complete (0 to 3). */
function incompleteTail(bytes: Buffer): number {
  const length = bytes.length;
  for (let back = 1; back <= 3 && back <= length; back++) {
    const byte = bytes[length - back]!;
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: look further back
    if (byte < 0xc0) return 0; // ASCII (or a stray continuation run): nothing pending
    const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : 2;
    return back < needed ? back : 0;
  }
  return 0;
}

/** Offset of the first byte that makes `bytes` invalid UTF-8 (for the warning only). */
function firstInvalid(bytes: Buffer): number {
  let low = 0;
  let high = bytes.length;
  // The longest valid prefix, by bisection (isUtf8 is native; a prefix may cut a sequence, so the
  // answer can be up to 3 bytes early, which is close enough to point at).
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (isUtf8(bytes.subarray(0, middle - incompleteTail(bytes.subarray(0, middle))))) low = middle;
    else high = middle - 1;
  }
  return low;
}
