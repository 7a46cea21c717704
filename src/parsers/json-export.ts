/**
 * `user_data.json` / `user_data_tiktok.json` → parse events, streamed.
 *
 * The document is never parsed whole: stream-json's tokenizer is called directly on each decoded
 * chunk (packed keys, strings and numbers, so a number arrives as its exact text) and its tokens go
 * to the {@link JsonWalker}, which routes them by key path. Only one record at a time is built as a
 * value; unmodeled sections are written back to JSON text as their tokens pass.
 */
import type { Readable } from 'node:stream';
import { isMany, none } from 'stream-chain/defs.js';
import { jsonParser } from 'stream-json/parser.js';
import { JsonValueEnd } from './json-end.js';
import type { JsonToken } from './json-tree.js';
import { JsonWalker } from './json-walker.js';
import { ParseContext, type ParseOptions, preview } from './parse-context.js';
import type { ParseEvent } from './records.js';
import { ExportTextDecoder } from './text-decoder.js';

export type { ParseOptions } from './parse-context.js';

type Tokenizer = (chunk: string | typeof none) => unknown;

/** Characters handed to the tokenizer per call. */
const SLICE = 16_384;

function tokensOf(result: unknown): readonly JsonToken[] {
  if (result === none || result === undefined) return [];
  if (isMany(result)) return result.values as JsonToken[];
  return [result as JsonToken];
}

function tokenizerMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^Parser (?:cannot parse input|has expected)[: ]*/i, '').trim() || message;
}

/**
 * Parses one JSON member, yielding events in batches (one batch per input chunk). This is the fast
 * path; {@link parseJsonExport} yields the same events one by one.
 */
export async function* parseJsonExportBatches(
  stream: Readable,
  memberPath: string,
  options: ParseOptions = {},
): AsyncGenerator<ParseEvent[]> {
  const cx = new ParseContext(memberPath, options);
  const walker = new JsonWalker(cx);
  const tokenize = jsonParser({ packValues: true, streamValues: false }) as Tokenizer;
  const decoder = new ExportTextDecoder(cx);
  const signal = options.signal;
  signal?.throwIfAborted();
  const onAbort = () => stream.destroy(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  const tokenizeSlice = (text: string | typeof none): void => {
    let tokens: readonly JsonToken[];
    try {
      tokens = tokensOf(tokenize(text));
    } catch (error) {
      if (text === none) {
        throw cx.invalidJson(walker.where(), 'the file ends before the JSON is complete', error);
      }
      throw cx.invalidJson(walker.where(), tokenizerMessage(error), error);
    }
    walker.feed(tokens);
  };
  // The tokenizer loses a call's tokens when it throws, so it gets small slices: the walker's
  // position before the failing slice then names the key path of a syntax error closely.
  const run = (text: string): void => {
    if (text.length <= SLICE) {
      tokenizeSlice(text);
      return;
    }
    for (let i = 0; i < text.length; i += SLICE) tokenizeSlice(text.slice(i, i + SLICE));
  };
  // Text after the top-level value is not handed to the tokenizer (it would refuse the whole file);
  // it is reported once the member is read, by byte offset in the file (what a hex editor, `tail -c`
  // or `dd` take): text positions would count neither bytes (é is two) nor characters (an emoji is
  // two UTF-16 units), and miss the byte-order mark the decoder drops.
  const valueEnd = new JsonValueEnd();
  let read = 0;
  /** Bytes of the file behind the text fed so far. */
  let readBytes = 0;
  let trailing: { offset: number; bytes: number; start: string } | undefined;
  /** Bytes of the file behind `text`, which the decoder just returned. */
  const bytesOf = (text: string) => decoder.bytesOf(text);
  const feed = (text: string): void => {
    if (read === 0) readBytes = decoder.bomBytes;
    let rest = '';
    if (valueEnd.ended) {
      rest = text;
    } else {
      const stop = valueEnd.scan(text);
      if (stop === -1) {
        run(text);
      } else {
        run(text.slice(0, stop));
        rest = text.slice(stop);
      }
    }
    if (rest !== '') {
      if (trailing !== undefined) {
        trailing.bytes += bytesOf(rest);
        if (trailing.start.length < 80) trailing.start = (trailing.start + rest).slice(0, 80);
      } else {
        const garbage = rest.trimStart();
        if (garbage !== '') {
          const bytes = bytesOf(garbage);
          trailing = {
            offset: readBytes + bytesOf(text) - bytes,
            bytes,
            start: garbage.slice(0, 80),
          };
        }
      }
    }
    read += text.length;
    readBytes += bytesOf(text);
  };
  try {
    for await (const chunk of stream) {
      if (signal?.aborted) throw signal.reason;
      const text = typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer);
      if (text.length > 0) feed(text);
      if (cx.out.length > 0) yield cx.take();
    }
    const tail = decoder.end();
    if (tail.length > 0) feed(tail);
    if (read === 0) throw cx.invalidJson('', 'the file is empty');
    tokenizeSlice(none);
    if (trailing !== undefined) {
      cx.warn(
        'trailing_data',
        `\`${memberPath}\` has ${trailing.bytes} bytes after its JSON ends (from byte ${trailing.offset}: "${preview(trailing.start)}"); they were ignored. The records before them were read.`,
        memberPath,
      );
    }
    if (walker.depth > 1) {
      throw cx.invalidJson(walker.where(), 'the file ends before the JSON is complete');
    }
    if (cx.out.length > 0) yield cx.take();
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (!stream.destroyed) stream.destroy();
  }
}

/**
 * Parses one JSON member of an export (`user_data_tiktok.json` or any other `.json`) into parse
 * events, in file order. Memory stays flat whatever the file size (apart from one record at a time).
 */
export async function* parseJsonExport(
  stream: Readable,
  memberPath: string,
  options: ParseOptions = {},
): AsyncGenerator<ParseEvent> {
  for await (const batch of parseJsonExportBatches(stream, memberPath, options)) {
    for (let i = 0; i < batch.length; i++) yield batch[i]!;
  }
}
