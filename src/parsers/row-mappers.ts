/**
 * Flat export records → table rows, shared by the JSON and TXT parsers. Each table's mapping is
 * compiled once from its catalog declaration (catalog/*.ts): the keys every era uses for each column,
 * the column types, the derived columns and the natural key. A few shapes need more than one flat
 * record (a LIVE room with its comments, a Tako chat with its messages, settings maps); those are
 * here too, on top of the same compiled mappings.
 */
import {
  CATALOG,
  type TableDef,
  type TableName,
  type TableRows,
  unkeyable,
  type Value,
} from './catalog/index.js';
import { describeValue, JsonNumber, JsonObject, type JsonValue, toJsonText } from './json-tree.js';
import { type ParseContext, preview } from './parse-context.js';
import { FieldIndex, type RecordLoc, RecordReader } from './record-reader.js';
import { isIgnoredSectionKey } from './sections.js';
import { isEmptyText, isIntegerText, normKey } from './values.js';

interface CompiledColumn {
  readonly name: string;
  readonly type: TableDef['columns'][string]['type'];
  /** Slot in the table's FieldIndex, or -1 for a derived or given column. */
  readonly slot: number;
  readonly derive: TableDef['columns'][string]['derive'];
}

interface Mapping {
  readonly def: TableDef;
  readonly fields: FieldIndex<string>;
  readonly columns: readonly CompiledColumn[];
  /** The columns computed from the others, in declaration order. */
  readonly derived: readonly CompiledColumn[];
}

const mappings = new Map<string, Mapping>();

function mappingOf(table: TableName): Mapping {
  let m = mappings.get(table);
  if (m !== undefined) return m;
  const def: TableDef = CATALOG[table];
  const aliases: Record<string, readonly string[]> = {};
  for (const [name, column] of Object.entries(def.columns)) {
    if (column.from.length > 0) aliases[name] = column.from;
  }
  const fields = new FieldIndex(aliases, def.knownExtra ?? []);
  const slots = fields.slot as Record<string, number>;
  const columns = Object.entries(def.columns).map(([name, column]) => ({
    name,
    type: column.type,
    slot: slots[name] ?? -1,
    derive: column.derive,
  }));
  m = { def, fields, columns, derived: columns.filter((c) => c.derive !== undefined) };
  mappings.set(table, m);
  return m;
}

/**
 * The row of `table` from one flat record, or `null` when the record was refused (nothing identifies
 * it; it is kept whole as a `refused` event). `given` fills columns from outside the record (a
 * message's conversation, a LIVE room's map key): a given value wins, and a different value the
 * record holds for the same column stays in `extra`.
 */
export function mapRecord<T extends TableName>(
  table: T,
  part: string,
  r: RecordReader,
  rec: JsonObject,
  loc: RecordLoc,
  given?: Readonly<Record<string, Value>>,
  /** False when the caller fills the key itself (a Tako chat without a title is still a chat). */
  refuseUnkeyed = true,
): TableRows[T] | null {
  const { def, fields, columns, derived } = mappingOf(table);
  r.load(rec, fields, loc);
  const row: Record<string, Value> = {};
  for (let i = 0; i < columns.length; i++) {
    const c = columns[i]!;
    const fixed = given?.[c.name];
    if (fixed !== undefined && fixed !== null && c.slot >= 0) {
      if (r.text(c.slot) !== fixed) r.keepInExtra(c.slot);
      row[c.name] = fixed;
      continue;
    }
    if (c.slot < 0) {
      row[c.name] = fixed ?? null;
      continue;
    }
    switch (c.type) {
      case 'timestamptz':
        row[c.name] = r.timestamp(c.slot);
        break;
      case 'bigint':
        row[c.name] = r.int(c.slot);
        break;
      case 'date':
        row[c.name] = r.date(c.slot);
        break;
      default:
        row[c.name] = r.text(c.slot);
    }
  }
  for (let i = 0; i < derived.length; i++) {
    const c = derived[i]!;
    row[c.name] = c.derive!(row, part);
  }
  if (def.extra !== false) row.extra = r.extra();
  if (refuseUnkeyed && unkeyable(def, row)) {
    r.cx.refuse(table, loc.where(), toJsonText(rec), refusal(def));
    return null;
  }
  return row as TableRows[T];
}

function refusal(def: TableDef): string {
  const names = def.key.map((k) => (typeof k === 'string' ? k : k.join(' or ')));
  return `none of ${names.map((n) => `\`${n}\``).join(', ')} could be read, so nothing tells it apart from other records`;
}

/** Maps one record and hands the row to the context. */
export function emitRecord(
  cx: ParseContext,
  table: TableName,
  part: string,
  r: RecordReader,
  rec: JsonObject,
  loc: RecordLoc,
): void {
  const row = mapRecord(table, part, r, rec, loc);
  if (row !== null) cx.record(table, part, row);
}

/** A copy of a record without the keys a caller reads itself (a room's `Comments`). */
function without(rec: JsonObject, key: string): { rest: JsonObject; value: JsonValue | undefined } {
  const rest = new JsonObject();
  let value: JsonValue | undefined;
  for (let i = 0; i < rec.size; i++) {
    if (value === undefined && normKey(rec.keys[i]!) === key) {
      value = rec.values[i]!;
      continue;
    }
    rest.keys.push(rec.keys[i]!);
    rest.values.push(rec.values[i]!);
  }
  return { rest, value };
}

/** Whether a nested list can be read as records; otherwise it stays in `extra`, with a warning. */
function readableList(cx: ParseContext, value: JsonValue | undefined, where: string, key: string): boolean {
  if (value === undefined || value === null) return false;
  if (Array.isArray(value)) return true;
  cx.warnField(
    'wrong_type',
    `\`${key}\` at \`${where}\` in \`${cx.member}\` holds ${describeValue(value)} where a list belongs; it was kept in \`extra\`.`,
    where,
    key,
  );
  return false;
}

/**
 * A `WatchLiveMap` entry (keyed by room id) → one session row and its comment rows. A key that is
 * not a room id leaves `room_id` empty and stays in `extra` as `RoomKey`.
 */
export function mapWatchLive(
  cx: ParseContext,
  r: RecordReader,
  roomKey: string,
  entry: JsonObject,
  loc: RecordLoc,
): void {
  const { rest, value: comments } = without(entry, 'comments');
  const listed = readableList(cx, comments, loc.where(), 'Comments');
  if (!listed && comments !== undefined) {
    rest.keys.push('Comments');
    rest.values.push(comments);
  }
  const roomId = isIntegerText(roomKey) ? roomKey : null;
  if (roomId === null) {
    rest.keys.push('RoomKey');
    rest.values.push(roomKey);
    cx.warnField(
      'bad_value',
      `The LIVE room at \`${loc.where()}\` in \`${cx.member}\` is keyed \`${preview(roomKey)}\`, not a room id; \`room_id\` was left empty and the key kept in \`extra\`.`,
      loc.section,
      'RoomId',
    );
  }
  // The map key is the room.
  const row = mapRecord('live_sessions', 'watch_live', r, rest, loc, { room_id: roomId });
  if (row !== null) cx.record('live_sessions', 'watch_live', row);
  if (!listed) return;
  const inner = new RecordReader(cx);
  const list = comments as JsonValue[];
  for (let i = 0; i < list.length; i++) {
    const c = list[i]!;
    const where = () => `${loc.where()}/Comments[${i}]`;
    if (c === null) continue;
    if (!(c instanceof JsonObject)) {
      refuseValue(cx, 'live_comments', where(), c);
      continue;
    }
    const comment = mapRecord(
      'live_comments',
      '',
      inner,
      c,
      { section: `${loc.section}/Comments`, where },
      // The session it was written in, when that session is stored (migration 0014: session_id).
      { room_id: roomId, session_started_at: row?.started_at ?? null },
    );
    if (comment !== null) cx.record('live_comments', '', comment);
  }
}

/** A list item that is not a record (a string where an object belongs): kept whole, refused. */
export function refuseValue(cx: ParseContext, table: TableName, where: string, value: JsonValue): void {
  cx.refuse(table, where, toJsonText(value), `it is ${describeValue(value)}, not a record`);
}

/** A DM message (`{Date, From, Content}`) of a conversation. */
export function mapMessage(
  cx: ParseContext,
  r: RecordReader,
  part: string,
  conversation: string,
  rec: JsonObject,
  loc: RecordLoc,
): void {
  const row = mapRecord('dm_messages', part, r, rec, loc, { conversation });
  if (row !== null) cx.record('dm_messages', part, row);
}

/** A `TakoChatHistoryList` entry → a conversation row and its message rows. */
export function mapTako(cx: ParseContext, r: RecordReader, entry: JsonObject, loc: RecordLoc): void {
  const { rest, value: messages } = without(entry, 'messages');
  const listed = readableList(cx, messages, loc.where(), 'Messages');
  if (!listed && messages !== undefined) {
    rest.keys.push('Messages');
    rest.values.push(messages);
  }
  const row = mapRecord('dm_conversations', 'tako', r, rest, loc, {}, false);
  const title = row?.conversation ?? '';
  cx.record('dm_conversations', 'tako', { conversation: title, extra: row?.extra ?? null });
  if (!listed) return;
  const inner = new RecordReader(cx);
  const list = messages as JsonValue[];
  for (let i = 0; i < list.length; i++) {
    const m = list[i]!;
    const where = () => `${loc.where()}/Messages[${i}]`;
    if (m === null) continue;
    if (!(m instanceof JsonObject)) {
      refuseValue(cx, 'dm_messages', where(), m);
      continue;
    }
    mapMessage(cx, inner, 'tako', title, m, { section: `${loc.section}/Messages`, where });
  }
}

/**
 * A map of named values → one `{ key, value }` row per leaf. Nested objects join their keys with
 * ` / `; lists (and objects inside lists) become JSON text; a `SettingsMap` wrapper adds nothing to
 * the key. Used for the settings and for every other map section.
 */
export function mapValues(
  cx: ParseContext,
  value: JsonValue,
  path: string,
  /** True when `value` is a whole section, whose `App`-like sibling keys carry no values. */
  section = true,
): TableRows['settings'][] {
  const rows: TableRows['settings'][] = [];
  const clean = (s: string) => cx.clean(s, () => path);
  const walk = (v: JsonValue, key: string, top: boolean): void => {
    if (v instanceof JsonObject) {
      if (v.size === 0 && key !== '') {
        rows.push({ key, value: '{}' });
        return;
      }
      for (let i = 0; i < v.keys.length; i++) {
        const k = clean(v.keys[i]!);
        if (top && section && isIgnoredSectionKey(k)) continue;
        const transparent = top && normKey(k) === 'settingsmap';
        walk(v.values[i]!, transparent ? key : key === '' ? k : `${key} / ${k}`, transparent);
      }
      return;
    }
    if (key === '') {
      // A scalar where the map belongs: one row under the section's own name, nothing lost.
      if (v !== null && !(Array.isArray(v) && v.length === 0))
        rows.push({ key: '(value)', value: leaf(v, clean) });
      return;
    }
    rows.push({ key, value: leaf(v, clean) });
  };
  walk(value, '', true);
  return rows;
}

function leaf(v: JsonValue, clean: (s: string) => string): string | null {
  if (v === null) return null;
  if (typeof v === 'string') {
    const s = clean(v);
    return isEmptyText(s) ? null : s;
  }
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v instanceof JsonNumber) return v.text;
  return toJsonText(v, clean);
}

/**
 * A string of `|`-separated items (`AdInterestCategories`), or a list of strings, → one value per
 * item, trimmed, empties and repeats dropped.
 */
export function splitItems(cx: ParseContext, value: JsonValue, path: string): string[] {
  const out: string[] = [];
  const add = (s: string) => {
    for (const part of cx.clean(s, () => path).split('|')) {
      const item = part.trim();
      if (!isEmptyText(item) && !out.includes(item)) out.push(item);
    }
  };
  if (typeof value === 'string') add(value);
  else if (Array.isArray(value)) {
    for (const v of value) {
      if (typeof v === 'string') add(v);
      else if (v instanceof JsonNumber) add(v.text);
    }
  } else if (value instanceof JsonObject) {
    for (const v of value.values) if (typeof v === 'string') add(v);
  }
  return out;
}

/** Which purchase kind a TXT record is (TXT `Purchases.txt` mixes them): gifts name a recipient. */
export function purchasePartOf(rec: JsonObject): 'send_gift' | 'buy_gift' {
  for (const key of rec.keys) {
    const n = normKey(key);
    if (n === 'giftamount' || n === 'username' || n === 'recipient') return 'send_gift';
  }
  return 'buy_gift';
}
