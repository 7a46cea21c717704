/**
 * A small JSON value model that keeps numbers as their exact source text and object keys in order
 * (duplicates included), plus the writer that turns it back into JSON text. Used for single records,
 * never for whole documents.
 */

/** A JSON number kept as written, so that 19-digit ids survive. */
export class JsonNumber {
  constructor(readonly text: string) {}
}

/** A JSON object as parallel key/value lists (order and duplicate keys preserved). */
export class JsonObject {
  readonly keys: string[] = [];
  readonly values: JsonValue[] = [];

  get size(): number {
    return this.keys.length;
  }

  /** First value whose key matches exactly. */
  get(key: string): JsonValue | undefined {
    const i = this.keys.indexOf(key);
    return i < 0 ? undefined : this.values[i];
  }
}

export type JsonValue = string | JsonNumber | boolean | null | JsonObject | JsonValue[];

/** `a string`, `a list`… for messages. */
export function describeValue(value: JsonValue): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'boolean') return 'a boolean';
  if (value instanceof JsonNumber) return 'a number';
  if (Array.isArray(value)) return 'a list';
  return 'an object';
}

interface WellFormed {
  isWellFormed(): boolean;
  toWellFormed(): string;
}

/**
 * A string as JSON text that Postgres accepts as `json`: a lone surrogate (a `\ud800` escape in the
 * export) becomes U+FFFD, as it does in text columns, instead of failing the whole import.
 */
export function jsonString(s: string): string {
  const text = s as unknown as WellFormed;
  return JSON.stringify(text.isWellFormed() ? s : text.toWellFormed());
}

/**
 * JSON text of a value, numbers exact. `clean` is applied to every string and key (NUL removal).
 */
export function toJsonText(value: JsonValue, clean: (s: string) => string = identity): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return jsonString(clean(value));
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value instanceof JsonNumber) return value.text;
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      out += toJsonText(value[i]!, clean);
    }
    return `${out}]`;
  }
  let out = '{';
  for (let i = 0; i < value.keys.length; i++) {
    if (i > 0) out += ',';
    out += `${jsonString(clean(value.keys[i]!))}:${toJsonText(value.values[i]!, clean)}`;
  }
  return `${out}}`;
}

function identity(s: string): string {
  return s;
}

/** Tokens as produced by stream-json with packed keys, strings and numbers. */
export interface JsonToken {
  name: string;
  value?: unknown;
}

/**
 * Builds one value from tokens. `start` takes the first token; `push` takes the rest and returns
 * true once the value is complete, after which `result` holds it.
 */
export class TreeBuilder {
  result: JsonValue = null;
  private readonly stack: (JsonObject | JsonValue[])[] = [];
  private current: JsonObject | JsonValue[] | null = null;

  /** Returns true when the first token is already the whole value (a scalar). */
  start(token: JsonToken): boolean {
    if (this.stack.length > 0) this.stack.length = 0;
    this.current = null;
    return this.push(token);
  }

  /** Path inside the value being built, for messages (`Comments[2]/CommentTime`). */
  where(): string {
    let out = '';
    const nodes = this.current === null ? this.stack : [...this.stack, this.current];
    for (const node of nodes) {
      const s = step(node);
      if (s === '') continue;
      out += out === '' || s.startsWith('[') ? s : `/${s}`;
    }
    return out;
  }

  push(token: JsonToken): boolean {
    let value: JsonValue;
    switch (token.name) {
      case 'keyValue':
        (this.current as JsonObject).keys.push(token.value as string);
        return false;
      case 'stringValue':
        value = token.value as string;
        break;
      case 'startObject':
        return this.open(new JsonObject());
      case 'startArray':
        return this.open([]);
      case 'endObject':
      case 'endArray':
        return this.close();
      case 'numberValue':
        value = new JsonNumber(token.value as string);
        break;
      case 'nullValue':
        value = null;
        break;
      case 'trueValue':
        value = true;
        break;
      case 'falseValue':
        value = false;
        break;
      default:
        return false;
    }
    const cur = this.current;
    if (cur === null) {
      this.result = value;
      return true;
    }
    if (Array.isArray(cur)) cur.push(value);
    else cur.values.push(value);
    return false;
  }

  private open(node: JsonObject | JsonValue[]): boolean {
    const cur = this.current;
    if (cur !== null) {
      if (Array.isArray(cur)) cur.push(node);
      else cur.values.push(node);
      this.stack.push(cur);
    }
    this.current = node;
    return false;
  }

  private close(): boolean {
    const done = this.current!;
    const parent = this.stack.pop();
    if (parent === undefined) {
      this.current = null;
      this.result = done;
      return true;
    }
    this.current = parent;
    return false;
  }
}

function step(node: JsonObject | JsonValue[]): string {
  if (Array.isArray(node)) return `[${Math.max(0, node.length - 1)}]`;
  const key = node.keys[node.keys.length - 1];
  return key ?? '';
}
