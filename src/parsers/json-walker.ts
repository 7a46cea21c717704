/**
 * The state machine behind the JSON parser: takes stream-json tokens (packed keys, strings and
 * numbers) and routes them by key path through the section table — categories, sections and
 * containers are walked, list items and map entries are built one at a time and mapped to rows,
 * unmodeled values are written back to JSON text. Events go to the {@link ParseContext}.
 */
import { records } from './catalog/define.js';
import { JsonCapture } from './json-capture.js';
import {
  B_ITEMS,
  B_MESSAGE,
  B_OBJECT,
  B_RECORD,
  B_REFUSE,
  B_SETTINGS,
  B_TAKO,
  B_VALUES,
  B_WATCH,
  BUILD,
  C_RAW,
  C_SKIP,
  CAPTURE,
  CATEGORY,
  DOC,
  EMPTY,
  Frame,
  INNER,
  isNothing,
  join,
  LIST,
  listTable,
  MAP,
  MAX_NESTING,
  OPEN_ARRAY,
  OPEN_OBJECT,
  ROOT,
  ROUTE,
  SECTION,
  tokenKind,
} from './json-frames.js';
import { JsonObject, type JsonToken, type JsonValue, TreeBuilder } from './json-tree.js';
import type { ParseContext } from './parse-context.js';
import { RecordReader } from './record-reader.js';
import type { TableName } from './records.js';
import {
  emitRecord,
  mapMessage,
  mapTako,
  mapValues,
  mapWatchLive,
  refuseValue,
  splitItems,
} from './row-mappers.js';
import {
  type ContainerNode,
  findCategory,
  findContainer,
  findFavoriteOther,
  findSection,
  isIgnoredSectionKey,
  type SectionDef,
  soleTarget,
  type Target,
} from './sections.js';
import { peerFromChatKey } from './values.js';

/**
 * Why a value is kept raw, said once its size is known: the warning (`unknown_section`,
 * `unexpected_shape`…) when it was kept, else one `raw_too_large` warning that names it by `subject`
 * and says it was not kept. Said before, the first would claim "kept raw" of a value then dropped.
 */
interface KeptNote {
  code: string;
  /** The warning when the value was kept. */
  message: string;
  /** What the value is, as the start of a sentence: ``Unknown section `a/b` in `user_data.json` ``. */
  subject: string;
  /** Given once per member for this key (unknown keys repeat on every record). */
  onceKey?: string;
}

/** The token-driven router; one per member. */
export class JsonWalker {
  private readonly stack: Frame[] = [];
  private top: Frame;
  private readonly builder = new TreeBuilder();
  private readonly buildFrame = new Frame(BUILD, 0, '', '');
  private readonly capture = new JsonCapture();
  private readonly captureFrame = new Frame(CAPTURE, 0, '', '');
  /** Why the value being captured is kept raw (undefined: a section kept raw by design). */
  private captureNote: KeptNote | undefined;
  private readonly reader: RecordReader;
  private readonly onTopLevelKey: ((key: string) => void) | undefined;
  private started = false;
  /** Containers open in the document (objects and lists at any level). */
  private nesting = 0;

  constructor(private readonly cx: ParseContext) {
    this.top = new Frame(DOC, 0, '', '');
    this.stack.push(this.top);
    this.reader = new RecordReader(cx);
    this.onTopLevelKey = cx.options.onTopLevelKey;
  }

  /** Open containers left at the end (1 = the document is complete). */
  get depth(): number {
    return this.stack.length;
  }

  /** Where the walker is, for messages (`''` before the document, `(end)` after it). */
  where(): string {
    const f = this.top;
    if (f.kind === DOC) return this.started ? '(end)' : '';
    if (f.kind === BUILD) {
      const owner = this.stack[this.stack.length - 2]!;
      const inner = this.builder.where();
      const base = f.level >= B_SETTINGS ? f.path : owner.where();
      return inner === '' ? base : `${base}/${inner}`;
    }
    if (f.kind === CAPTURE || f.kind === EMPTY) return f.path;
    return f.where();
  }

  feed(tokens: readonly JsonToken[]): void {
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!;
      const name = t.name;
      if (name === 'startObject' || name === 'startArray') {
        // Bounded before anything recursive (values written back as JSON, Postgres' jsonb) sees it.
        if (++this.nesting > MAX_NESTING) throw this.cx.tooDeep(this.where(), MAX_NESTING);
      } else if (name === 'endObject' || name === 'endArray') this.nesting--;
      const f = this.top;
      switch (f.kind) {
        case BUILD:
          if (this.builder.push(t)) this.built();
          break;
        case CAPTURE:
          if (this.capture.push(t)) this.captured();
          break;
        case LIST:
          this.inList(f, t);
          break;
        case ROUTE:
        case MAP:
          this.inObject(f, t);
          break;
        case EMPTY:
          this.inEmpty(f, t);
          break;
        default:
          this.inDoc(t);
      }
    }
  }

  private push(f: Frame): void {
    this.stack.push(f);
    this.top = f;
  }

  private pop(): void {
    this.stack.pop();
    this.top = this.stack[this.stack.length - 1]!;
  }

  private inDoc(t: JsonToken): void {
    this.started = true;
    if (t.name !== 'startObject') {
      // Valid JSON, but not an export (whose top level is an object of categories): kept raw.
      this.keepUnexpected(t, '(top level)', 'an object');
      return;
    }
    this.push(new Frame(ROUTE, ROOT, '', ''));
  }

  private inObject(f: Frame, t: JsonToken): void {
    if (t.name === 'keyValue') {
      const key = t.value as string;
      f.key = key.indexOf('\0') === -1 ? key : this.cx.clean(key, () => join(f.path, key));
      return;
    }
    if (t.name === 'endObject') {
      f.key = '';
      this.pop();
      return;
    }
    if (f.kind === MAP) this.mapValue(f, t);
    else this.routeValue(f, t);
  }

  private routeValue(f: Frame, t: JsonToken): void {
    const key = f.key;
    const path = join(f.path, key);
    switch (f.level) {
      case ROOT: {
        this.onTopLevelKey?.(key);
        if (findCategory(key) !== undefined) {
          this.beginCategory(t, path);
          return;
        }
        const def = findSection(key);
        if (def !== undefined) {
          this.beginSection(def, t, path);
          return;
        }
        if (t.name === 'startObject') {
          this.cx.warn(
            'unknown_section',
            `Unknown top-level key \`${key}\` in \`${this.cx.member}\`; its known sections were read by name, and each other one has a warning of its own.`,
            path,
          );
          this.push(new Frame(ROUTE, CATEGORY, path, path));
          return;
        }
        this.beginCapture(t, path, C_RAW, {
          code: 'unknown_section',
          message: `Unknown top-level key \`${key}\` in \`${this.cx.member}\`; it was kept raw.`,
          subject: `Unknown top-level key \`${key}\` in \`${this.cx.member}\``,
        });
        return;
      }
      case CATEGORY: {
        const def = findSection(key) ?? findFavoriteOther(key);
        if (def !== undefined) {
          if (def.id.startsWith('favorite_other_')) {
            this.cx.warn(
              'unknown_section',
              `Unknown section \`${path}\` in \`${this.cx.member}\` was read as favorites of kind \`other\`.`,
              path,
            );
          }
          this.beginSection(def, t, path);
          return;
        }
        this.beginCapture(t, path, C_RAW, {
          code: 'unknown_section',
          message: `Unknown section \`${path}\` in \`${this.cx.member}\`; it was kept raw.`,
          subject: `Unknown section \`${path}\` in \`${this.cx.member}\``,
        });
        return;
      }
      default: {
        const def = f.def!;
        const node = findContainer(f.node!, key);
        if (node !== undefined) {
          if (node.target !== undefined) {
            this.beginTarget(node.target, t, path);
            return;
          }
          this.beginInner(def, node, t, path);
          return;
        }
        if (f.level === SECTION) {
          if (isIgnoredSectionKey(key)) {
            this.beginCapture(t, path, C_SKIP);
            return;
          }
          const any = def.content.kind === 'containers' ? def.content.anyList : undefined;
          if (any !== undefined && t.name === 'startArray') {
            this.beginTarget(any, t, path);
            return;
          }
        }
        this.beginCapture(t, path, C_RAW, {
          code: 'unknown_key',
          message: `Unknown key \`${key}\` in section \`${f.path}\` of \`${this.cx.member}\`; it was kept raw.`,
          subject: `Unknown key \`${key}\` in section \`${f.path}\` of \`${this.cx.member}\``,
          onceKey: `key\0${path}`,
        });
        return;
      }
    }
  }

  private beginCategory(t: JsonToken, path: string): void {
    if (t.name === 'startObject') {
      this.push(new Frame(ROUTE, CATEGORY, path, path));
      return;
    }
    if (isNothing(t)) return;
    if (t.name === 'startArray') {
      this.beginEmpty(t, path, 'an object', true);
      return;
    }
    this.keepUnexpected(t, path, 'an object');
  }

  private beginSection(def: SectionDef, t: JsonToken, path: string): void {
    const first = this.cx.section(def, path);
    if (first !== undefined) {
      this.beginCapture(t, path, C_RAW, {
        code: 'duplicate_section',
        message: `\`${path}\` in \`${this.cx.member}\` is the section already read at \`${first}\`; it was kept raw instead of being read twice.`,
        subject: `\`${path}\` in \`${this.cx.member}\` (the section already read at \`${first}\`)`,
      });
      return;
    }
    const content = def.content;
    if (content.kind === 'raw') {
      this.beginCapture(t, path, C_RAW);
      return;
    }
    if (t.name === 'startObject') {
      if (content.kind === 'settings') {
        this.beginBuild(t, B_SETTINGS, path);
        return;
      }
      const f = new Frame(ROUTE, SECTION, path, path);
      f.def = def;
      f.node = content.containers;
      this.push(f);
      return;
    }
    if (isNothing(t)) return;
    if (t.name === 'startArray' && content.kind === 'containers') {
      // A section written directly as its list (no container key).
      const sole = soleTarget({ children: content.containers }) ?? content.anyList;
      if (sole !== undefined) {
        this.beginTarget(sole, t, path);
        return;
      }
    }
    if (t.name === 'startArray') {
      this.beginEmpty(t, path, 'an object', true);
      return;
    }
    if (content.kind === 'containers') {
      // A section written as its only value (`"AdInterestCategories"` text, an object target).
      const sole = soleTarget({ children: content.containers });
      if (sole !== undefined && (sole.kind === 'items' || sole.kind === 'values')) {
        this.beginTarget(sole, t, path);
        return;
      }
    }
    this.keepUnexpected(t, path, 'an object');
  }

  private beginInner(def: SectionDef, node: ContainerNode, t: JsonToken, path: string): void {
    if (t.name === 'startObject') {
      const f = new Frame(ROUTE, INNER, path, path);
      f.def = def;
      f.node = node.children!;
      this.push(f);
      return;
    }
    if (isNothing(t)) return;
    const sole = soleTarget(node);
    if (t.name === 'startArray' && sole !== undefined) {
      this.beginTarget(sole, t, path);
      return;
    }
    if (t.name === 'startArray') {
      this.beginEmpty(t, path, 'an object', true);
      return;
    }
    this.keepUnexpected(t, path, 'an object');
  }

  private beginTarget(target: Target, t: JsonToken, path: string): void {
    switch (target.kind) {
      case 'records':
      case 'tako': {
        if (t.name === 'startArray') {
          const f = new Frame(LIST, target.kind === 'tako' ? B_TAKO : B_RECORD, path, path);
          f.target = target;
          this.push(f);
          return;
        }
        if (isNothing(t)) return;
        if (t.name === 'startObject') {
          this.beginEmpty(t, path, 'a list', true);
          return;
        }
        this.keepUnexpected(t, path, 'a list');
        return;
      }
      case 'chats':
      case 'watch_live': {
        if (t.name === 'startObject') {
          const f = new Frame(MAP, 0, path, path);
          f.target = target;
          this.push(f);
          return;
        }
        if (isNothing(t)) return;
        if (t.name === 'startArray') {
          this.beginEmpty(t, path, 'an object', true);
          return;
        }
        this.keepUnexpected(t, path, 'an object');
        return;
      }
      case 'record':
      case 'values': {
        if (t.name === 'startObject') {
          this.beginBuild(t, target.kind === 'record' ? B_OBJECT : B_VALUES, path, target);
          return;
        }
        if (isNothing(t)) return;
        if (t.name === 'startArray' && target.kind === 'record') {
          // A list of such objects (a location history rather than the latest location).
          const f = new Frame(LIST, B_RECORD, path, path);
          f.target = { kind: 'records', table: target.table, part: target.part, lenient: true };
          this.push(f);
          return;
        }
        if (t.name === 'startArray') {
          this.beginEmpty(t, path, 'an object', true);
          return;
        }
        this.keepUnexpected(t, path, 'an object');
        return;
      }
      case 'items': {
        if (t.name === 'stringValue') {
          this.items(target, t.value as string, path);
          return;
        }
        if (isNothing(t)) return;
        if (t.name === 'startArray') {
          this.beginBuild(t, B_ITEMS, path, target);
          return;
        }
        this.keepUnexpected(t, path, 'a text of items');
        return;
      }
    }
  }

  private items(target: Extract<Target, { kind: 'items' }>, value: JsonValue, path: string): void {
    for (const item of splitItems(this.cx, value, path)) {
      this.cx.record(target.table as TableName, target.part, { [target.column]: item } as never);
    }
  }

  /** A container that must be empty (`{}` where a list belongs, `[]` where an object belongs). */
  private beginEmpty(t: JsonToken, path: string, expected: string, lenient: boolean): void {
    const f = new Frame(EMPTY, t.name === 'startObject' ? 0 : 1, path, path);
    f.lenient = lenient;
    f.key = expected;
    this.push(f);
  }

  private inEmpty(f: Frame, t: JsonToken): void {
    const isObject = f.level === 0;
    if (t.name === (isObject ? 'endObject' : 'endArray')) {
      this.pop();
      return;
    }
    // Not the empty container expected here: keep the value raw instead of failing the import.
    this.pop();
    this.keepUnexpected(isObject ? OPEN_OBJECT : OPEN_ARRAY, f.path, f.key);
    if (this.capture.push(t)) this.captured();
  }

  private keepUnexpected(t: JsonToken, path: string, expected: string): void {
    this.beginCapture(t, path, C_RAW, {
      code: 'unexpected_shape',
      message: `Expected ${expected} at \`${path}\` in \`${this.cx.member}\`, found ${tokenKind(t)}; it was kept raw.`,
      subject: `The value at \`${path}\` in \`${this.cx.member}\` (${tokenKind(t)} where ${expected} was expected)`,
    });
  }

  private mapValue(f: Frame, t: JsonToken): void {
    const key = f.key;
    const target = f.target!;
    if (target.kind === 'watch_live') {
      if (t.name === 'startObject') {
        this.buildFrame.level = B_WATCH;
        this.buildFrame.path = f.path;
        this.push(this.buildFrame);
        this.builder.start(t);
        return;
      }
      if (isNothing(t)) {
        mapWatchLive(this.cx, this.reader, key, new JsonObject(), f);
        return;
      }
      this.beginRefuse(t, 'live_sessions', join(f.path, key));
      return;
    }
    // Chats: one conversation per key.
    const part = target.kind === 'chats' ? target.part : 'direct';
    const conversation = peerFromChatKey(key);
    this.cx.record('dm_conversations', part, { conversation, extra: null });
    const path = join(f.path, key);
    if (t.name === 'startArray') {
      const list = new Frame(LIST, B_MESSAGE, path, f.path);
      list.target = target;
      list.conversation = conversation;
      this.push(list);
      return;
    }
    if (isNothing(t)) return;
    if (t.name === 'startObject') {
      this.beginEmpty(t, path, 'a list', true);
      return;
    }
    this.keepUnexpected(t, path, 'a list');
  }

  private inList(f: Frame, t: JsonToken): void {
    switch (t.name) {
      case 'startObject':
        f.index++;
        this.buildFrame.level = f.level;
        this.buildFrame.path = f.path;
        this.push(this.buildFrame);
        this.builder.start(t);
        return;
      case 'endArray':
        this.pop();
        return;
      case 'nullValue':
        f.index++;
        return;
      default: {
        // An item that is not a record: kept whole as a refused record.
        f.index++;
        this.beginRefuse(t, listTable(f), f.where());
      }
    }
  }

  private beginRefuse(t: JsonToken, table: TableName, path: string): void {
    this.beginBuild(t, B_REFUSE, path, records(table));
  }

  private beginBuild(t: JsonToken, purpose: number, path: string, target?: Target): void {
    this.buildFrame.level = purpose;
    this.buildFrame.path = path;
    this.buildFrame.target = target ?? null;
    this.push(this.buildFrame);
    if (this.builder.start(t)) this.built();
  }

  private built(): void {
    const purpose = this.top.level;
    const path = this.top.path;
    this.pop();
    const owner = this.top;
    const target = this.buildFrame.target;
    const value = this.builder.result as JsonObject;
    const cx = this.cx;
    switch (purpose) {
      case B_RECORD: {
        const t = owner.target as Extract<Target, { kind: 'records' }>;
        emitRecord(cx, t.table as TableName, t.part, this.reader, value, owner);
        return;
      }
      case B_MESSAGE: {
        const part = owner.target?.kind === 'chats' ? owner.target.part : 'direct';
        mapMessage(cx, this.reader, part, owner.conversation, value, owner);
        return;
      }
      case B_TAKO:
        mapTako(cx, this.reader, value, owner);
        return;
      case B_WATCH:
        mapWatchLive(cx, this.reader, owner.key, value, owner);
        return;
      case B_SETTINGS:
        for (const row of mapValues(cx, value, path)) cx.record('settings', '', row);
        return;
      case B_OBJECT: {
        const t = target as Extract<Target, { kind: 'record' }>;
        emitRecord(cx, t.table as TableName, t.part, this.reader, value, {
          section: path,
          where: () => path,
        });
        return;
      }
      case B_VALUES: {
        const t = target as Extract<Target, { kind: 'values' }>;
        for (const row of mapValues(cx, value, path, false))
          cx.record(t.table as TableName, t.part, row as never);
        return;
      }
      case B_ITEMS:
        this.items(target as Extract<Target, { kind: 'items' }>, value, path);
        return;
      case B_REFUSE:
        refuseValue(
          cx,
          (target as Extract<Target, { kind: 'records' }>).table as TableName,
          path,
          this.builder.result,
        );
        return;
    }
  }

  private beginCapture(t: JsonToken, path: string, purpose: number, note?: KeptNote): void {
    const f = this.captureFrame;
    f.level = purpose;
    f.path = path;
    this.captureNote = note;
    const cx = this.cx;
    this.capture.begin(
      purpose === C_SKIP ? 0 : cx.maxRawChars,
      purpose === C_SKIP ? (s) => s : (s) => (s.indexOf('\0') === -1 ? s : cx.clean(s, () => path)),
    );
    this.push(f);
    if (this.capture.push(t)) this.captured();
  }

  private captured(): void {
    const f = this.top;
    this.pop();
    if (f.level === C_SKIP) return;
    const note = this.captureNote;
    this.captureNote = undefined;
    if (this.capture.overflow) {
      const subject =
        note?.subject ?? `Section \`${f.path}\` in \`${this.cx.member}\` (kept raw: no table reads it)`;
      this.cx.rawTooLarge(f.path, subject, this.capture.length);
      return;
    }
    if (note !== undefined) {
      if (note.onceKey === undefined) this.cx.warn(note.code, note.message, f.path);
      else this.cx.warnOnce(note.onceKey, note.code, note.message, f.path);
    }
    this.cx.raw(f.path, this.capture.text());
  }
}
