/**
 * Writes a value back as JSON text while its tokens stream past, numbers exact; for sections we keep
 * raw. Text beyond `limit` characters is dropped (the caller reports it, with the whole size, still
 * counted) so that a huge unmodeled section cannot exhaust memory.
 */
import { type JsonToken, jsonString } from './json-tree.js';

export class JsonCapture {
  private parts: string[] = [];
  #length = 0;
  private depth = 0;
  /** Per open container: does the next member need a comma? */
  private readonly needComma: boolean[] = [];
  private afterKey = false;
  /** True once the text went past the limit; the text is then incomplete. */
  overflow = false;

  constructor(private clean: (s: string) => string = (s) => s) {}

  /** Starts a new value; `limit` is the largest text kept. */
  begin(limit: number, clean: (s: string) => string): void {
    this.parts = [];
    this.#length = 0;
    this.depth = 0;
    this.needComma.length = 0;
    this.afterKey = false;
    this.overflow = false;
    this.limit = limit;
    this.clean = clean;
  }

  private limit = Number.POSITIVE_INFINITY;

  /** Characters of the value's JSON text so far, also past the limit. */
  get length(): number {
    return this.#length;
  }

  /** The text so far (complete once {@link push} returned true). */
  text(): string {
    const text = this.parts.join('');
    this.parts = [];
    return text;
  }

  /** Takes one token; returns true when the value is complete. */
  push(token: JsonToken): boolean {
    switch (token.name) {
      case 'startObject':
        this.separate();
        this.emit('{');
        this.needComma.push(false);
        this.depth++;
        return false;
      case 'startArray':
        this.separate();
        this.emit('[');
        this.needComma.push(false);
        this.depth++;
        return false;
      case 'endObject':
        this.emit('}');
        this.needComma.pop();
        return --this.depth === 0;
      case 'endArray':
        this.emit(']');
        this.needComma.pop();
        return --this.depth === 0;
      case 'keyValue':
        this.separate();
        this.emit(`${jsonString(this.clean(token.value as string))}:`);
        this.afterKey = true;
        return false;
      case 'stringValue':
        this.separate();
        this.emit(jsonString(this.clean(token.value as string)));
        return this.depth === 0;
      case 'numberValue':
        this.separate();
        this.emit(token.value as string);
        return this.depth === 0;
      case 'nullValue':
        this.separate();
        this.emit('null');
        return this.depth === 0;
      case 'trueValue':
        this.separate();
        this.emit('true');
        return this.depth === 0;
      case 'falseValue':
        this.separate();
        this.emit('false');
        return this.depth === 0;
      default:
        return false;
    }
  }

  private separate(): void {
    if (this.afterKey) {
      this.afterKey = false;
      return;
    }
    const top = this.needComma.length - 1;
    if (top < 0) return;
    if (this.needComma[top]) this.emit(',');
    else this.needComma[top] = true;
  }

  private emit(s: string): void {
    this.#length += s.length;
    if (this.overflow) return;
    if (this.#length > this.limit) {
      this.overflow = true;
      this.parts = [];
      return;
    }
    this.parts.push(s);
  }
}
