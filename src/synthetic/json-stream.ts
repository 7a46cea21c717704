/**
 * A JSON document whose large lists and maps are produced lazily, written as text chunks in the
 * layout of `JSON.stringify(value, null, 2)` (the way TikTok's files are indented) without ever holding
 * the whole document.
 */

/** A JSON token written verbatim, e.g. an integer above 2^53 that must not pass through a double. */
export class RawJson {
  constructor(readonly text: string) {}
}

export type JsonValue =
  | string
  | number
  | boolean
  | null
  | RawJson
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

/** An object whose entries are written in the given order. */
export class JsonObject {
  constructor(readonly entries: readonly (readonly [string, JsonNode])[]) {}
}

/** A list produced on demand; `empty` is how TikTok encodes it when it has no items. */
export class LazyList {
  constructor(
    readonly items: () => Iterable<JsonValue>,
    readonly empty: 'null' | '[]',
  ) {}
}

/** A map produced on demand (chat histories, live rooms); values may themselves be lazy. */
export class LazyMap {
  constructor(
    readonly entries: () => Iterable<readonly [string, JsonNode]>,
    readonly empty: 'null' | '{}',
  ) {}
}

export type JsonNode = JsonValue | JsonObject | LazyList | LazyMap;

const keyCache = new Map<string, string>();
function quoteKey(key: string): string {
  let q = keyCache.get(key);
  if (q === undefined) {
    q = `${JSON.stringify(key)}: `;
    if (keyCache.size < 10_000) keyCache.set(key, q);
  }
  return q;
}

/** Appends `value` pretty-printed at indentation `ind` (the indentation of the line it starts on). */
export function valueText(value: JsonValue, ind: string): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
  }
  if (value instanceof RawJson) return value.text;
  const inner = `${ind}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    let s = '[';
    for (let i = 0; i < value.length; i++)
      s += `${i === 0 ? '\n' : ',\n'}${inner}${valueText(value[i], inner)}`;
    return `${s}\n${ind}]`;
  }
  const obj = value as { readonly [key: string]: JsonValue };
  let s = '{';
  let first = true;
  for (const key in obj) {
    s += `${first ? '\n' : ',\n'}${inner}${quoteKey(key)}${valueText(obj[key]!, inner)}`;
    first = false;
  }
  return first ? '{}' : `${s}\n${ind}}`;
}

interface Sink {
  s: string;
}

function* nodeText(node: JsonNode, ind: string, sink: Sink, chunk: number): Generator<string> {
  if (node instanceof JsonObject) {
    if (node.entries.length === 0) {
      sink.s += '{}';
      return;
    }
    const inner = `${ind}  `;
    sink.s += '{';
    let first = true;
    for (const [key, child] of node.entries) {
      sink.s += `${first ? '\n' : ',\n'}${inner}${quoteKey(key)}`;
      first = false;
      yield* nodeText(child, inner, sink, chunk);
    }
    sink.s += `\n${ind}}`;
    return;
  }
  if (node instanceof LazyList) {
    const inner = `${ind}  `;
    let any = false;
    for (const item of node.items()) {
      sink.s += `${any ? ',\n' : '[\n'}${inner}${valueText(item, inner)}`;
      any = true;
      if (sink.s.length >= chunk) {
        yield sink.s;
        sink.s = '';
      }
    }
    sink.s += any ? `\n${ind}]` : node.empty;
    return;
  }
  if (node instanceof LazyMap) {
    const inner = `${ind}  `;
    let any = false;
    for (const [key, child] of node.entries()) {
      sink.s += `${any ? ',\n' : '{\n'}${inner}${quoteKey(key)}`;
      any = true;
      yield* nodeText(child, inner, sink, chunk);
      if (sink.s.length >= chunk) {
        yield sink.s;
        sink.s = '';
      }
    }
    sink.s += any ? `\n${ind}}` : node.empty;
    return;
  }
  sink.s += valueText(node, ind);
}

/** The document as text chunks of about `chunkChars` characters. */
export function* jsonText(root: JsonNode, chunkChars = 1 << 16): Generator<string> {
  const sink: Sink = { s: '' };
  yield* nodeText(root, '', sink, chunkChars);
  if (sink.s.length > 0) yield sink.s;
}
