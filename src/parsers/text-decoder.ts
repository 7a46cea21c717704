/**
 * Bytes of an export member → text. Exports are UTF-8, but a TXT file re-saved by an editor may be
 * Latin-1 (Windows-1252 without its extras), and decoding that as UTF-8 would silently turn every
 * accented letter into U+FFFD. So the bytes are checked as they pass:
 *
 * - valid UTF-8: decoded as such (a leading BOM is dropped by the parsers);
 * - invalid before any multi-byte character was seen: the member is read as Latin-1, with a warning
 *   (ASCII read so far is the same in both);
 * - invalid after real UTF-8 characters: mixed up, so the bad bytes become U+FFFD, with a warning.
 */
import { isUtf8 } from 'node:buffer';
import { StringDecoder } from 'node:string_decoder';
import type { ParseContext } from './parse-context.js';

type Mode = 'utf8' | 'latin1' | 'replace';

export class ExportTextDecoder {
  #mode: Mode = 'utf8';
  /** The start of a UTF-8 sequence cut by the chunk boundary, kept for the next chunk. */
  #pending: Buffer = Buffer.alloc(0);
  #multibyte = false;
  #offset = 0;
  readonly #lenient = new StringDecoder('utf8');

  constructor(private readonly cx: ParseContext) {}

  write(chunk: Buffer): string {
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

  end(): string {
    if (this.#mode === 'replace') return this.#lenient.end();
    if (this.#pending.length === 0) return '';
    const rest = this.#pending;
    this.#pending = Buffer.alloc(0);
    // A sequence the file ends in the middle of.
    return this.#mode === 'latin1' ? rest.toString('latin1') : this.#switch(rest);
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
