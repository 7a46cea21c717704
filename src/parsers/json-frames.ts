/**
 * The JSON walker's stack frames and the constants that name their kinds and purposes
 * (src/parsers/json-walker.ts), with the small token helpers they share.
 */
import type { JsonToken } from './json-tree.js';
import type { RecordLoc } from './record-reader.js';
import type { TableName } from './records.js';
import type { ContainerNode, SectionDef, Target } from './sections.js';

/**
 * Deepest nesting of objects and lists accepted. Real exports nest a handful of levels; a document
 * nested thousands deep would overflow recursive code (and Postgres' jsonb parser) further on.
 */
export const MAX_NESTING = 256;

// Frame kinds.
export const DOC = 0;
export const ROUTE = 1;
export const LIST = 2;
export const MAP = 3;
export const BUILD = 4;
export const CAPTURE = 5;
export const EMPTY = 6;

// ROUTE levels.
export const ROOT = 0;
export const CATEGORY = 1;
export const SECTION = 2;
export const INNER = 3;

// What a BUILD frame's value becomes.
export const B_RECORD = 0;
export const B_MESSAGE = 1;
export const B_TAKO = 2;
export const B_WATCH = 3;
export const B_SETTINGS = 4;
/** One object that is one record (`ProfileMap`, `LocationData`). */
export const B_OBJECT = 5;
export const B_VALUES = 6;
export const B_ITEMS = 7;
/** A list item or map entry that is not a record, built to be kept whole. */
export const B_REFUSE = 8;

// What a CAPTURE frame's text becomes.
export const C_RAW = 0;
export const C_SKIP = 1;

/** One open container (or value being built) on the walker's stack. Doubles as a record location. */
export class Frame implements RecordLoc {
  key = '';
  index = -1;
  def: SectionDef | null = null;
  node: ReadonlyMap<string, ContainerNode> | null = null;
  target: Target | null = null;
  conversation = '';
  lenient = false;

  constructor(
    public kind: number,
    public level: number,
    public path: string,
    public section: string,
  ) {}

  where(): string {
    if (this.kind === LIST) return `${this.path}[${this.index}]`;
    return this.key === '' ? this.path : join(this.path, this.key);
  }
}

/** The table the items of a list frame go to. */
export function listTable(f: Frame): TableName {
  const target = f.target;
  if (f.level === B_MESSAGE || target === null) return 'dm_messages';
  if (target.kind === 'tako') return 'dm_conversations';
  return 'table' in target ? (target.table as TableName) : 'dm_messages';
}

export function join(path: string, key: string): string {
  return path === '' ? key : `${path}/${key}`;
}

export function tokenKind(t: JsonToken): string {
  switch (t.name) {
    case 'startObject':
      return 'an object';
    case 'startArray':
      return 'a list';
    case 'stringValue':
      return 'a string';
    case 'numberValue':
      return 'a number';
    case 'nullValue':
      return 'null';
    default:
      return 'a boolean';
  }
}

/** `null` and `""` are how the export writes an empty container. */
export function isNothing(t: JsonToken): boolean {
  return t.name === 'nullValue' || (t.name === 'stringValue' && (t.value as string).trim() === '');
}

export const OPEN_OBJECT: JsonToken = { name: 'startObject' };
export const OPEN_ARRAY: JsonToken = { name: 'startArray' };
