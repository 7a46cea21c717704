import { once } from 'node:events';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/**
 * Encodes one field for `COPY … FROM STDIN` in Postgres' text format: `\N` for null, and backslash,
 * newline, carriage return and tab escaped (the four characters that format reserves).
 *
 * Hand-written on purpose: it runs once per field of every record on the import's hot path, and the
 * format is four escapes defined in the Postgres manual (COPY, "Text Format").
 */
export function copyField(value: string | null | undefined): string {
  if (value === null || value === undefined) return '\\N';
  return NEEDS_ESCAPE.test(value) ? value.replace(ESCAPABLE, escapeChar) : value;
}

const NEEDS_ESCAPE = /[\\\n\r\t]/;
const ESCAPABLE = /[\\\n\r\t]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
const escapeChar = (char: string) => ESCAPES[char]!;

/** Runs one `COPY <target> FROM STDIN` with an already encoded chunk of lines (text, or its UTF-8 bytes). */
export async function copyChunk(
  client: pg.ClientBase,
  target: string,
  chunk: string | Buffer,
): Promise<void> {
  const stream = client.query(copyFrom(`copy ${target} from stdin`));
  const finished = once(stream, 'finish');
  stream.end(chunk);
  await finished;
}
