/**
 * Where the top-level JSON value of a member ends. Files that were copied, synced or edited may carry
 * bytes after the export's closing brace (NUL padding, a second copy, a line of text); the tokenizer
 * would refuse the whole file for them. Knowing where the value ends lets the parser stop there and
 * report what follows instead (docs/data-model.md, "Damage to the container").
 *
 * Only strings, escapes and brackets are tracked; everything else is left to the tokenizer, which
 * still rejects a value that is broken before its end.
 */
export class JsonValueEnd {
  #depth = 0;
  #inString = false;
  /** The last chunk ended inside a string on an unpaired backslash. */
  #escape = false;
  #state: 'before' | 'inside' | 'after' | 'off' = 'before';

  /** True once the top-level value has ended. */
  get ended(): boolean {
    return this.#state === 'after';
  }

  /**
   * Scans the next chunk of text; returns the index just past the end of the top-level value when it
   * ends in this chunk, else -1. A top-level value that is not an object or a list is not tracked
   * (always -1): the tokenizer judges it.
   */
  scan(text: string): number {
    const n = text.length;
    let i = 0;
    if (this.#state === 'before') {
      while (i < n && isSpace(text.charCodeAt(i))) i++;
      if (i === n) return -1;
      const c = text.charCodeAt(i);
      this.#state = c === 123 || c === 91 ? 'inside' : 'off';
    }
    if (this.#state !== 'inside') return -1;
    while (i < n) {
      if (this.#inString) {
        if (this.#escape) {
          this.#escape = false;
          i++;
          continue;
        }
        const quote = text.indexOf('"', i);
        if (quote === -1) {
          this.#escape = trailingBackslashes(text, i, n) % 2 === 1;
          return -1;
        }
        if (trailingBackslashes(text, i, quote) % 2 === 0) this.#inString = false;
        i = quote + 1;
        continue;
      }
      const c = text.charCodeAt(i++);
      if (c === 34) this.#inString = true;
      else if (c === 123 || c === 91) this.#depth++;
      else if ((c === 125 || c === 93) && --this.#depth === 0) {
        this.#state = 'after';
        return i;
      }
    }
    return -1;
  }
}

/** Backslashes just before `end`, counting back no further than `from`. */
function trailingBackslashes(text: string, from: number, end: number): number {
  let k = 0;
  while (end - k - 1 >= from && text.charCodeAt(end - k - 1) === 92) k++;
  return k;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}
