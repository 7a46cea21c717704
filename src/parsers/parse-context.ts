/**
 * What both parsers share while reading one archive member: the options, the batch of events being
 * collected, de-duplication of section events and repeated warnings, and the error messages.
 */
import { ArchiveError } from '../errors.js';
import type { ParseEvent, TableName, TableRows } from './records.js';
import type { SectionDef } from './sections.js';

export interface ParseOptions {
  /** Stops the parser between chunks; the generator then throws `signal.reason`. */
  signal?: AbortSignal;
  /** Called with each top-level key of a JSON member as soon as it is read (era detection). */
  onTopLevelKey?: (key: string) => void;
  /** Largest unmodeled section kept as a `raw` event, in characters; larger ones are dropped with a warning. */
  maxRawChars?: number;
}

export const DEFAULT_MAX_RAW_CHARS = 64 * 1024 * 1024;

const DAMAGED = 'The export looks damaged: download it again.';

/** A value in a message: short, on one line. */
export function preview(value: string): string {
  const s = value.replace(/\s+/g, ' ');
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

export class ParseContext {
  /** Events collected since the last hand-off. */
  out: ParseEvent[] = [];
  readonly maxRawChars: number;
  private readonly announced = new Set<string>();
  private readonly warned = new Set<string>();
  /** Section id → the path it was first read at, in this member. */
  private readonly sectionPaths = new Map<string, string>();

  constructor(
    readonly member: string,
    readonly options: ParseOptions,
  ) {
    this.maxRawChars = options.maxRawChars ?? DEFAULT_MAX_RAW_CHARS;
  }

  /** Hands the collected events over and starts a new batch. */
  take(): ParseEvent[] {
    const batch = this.out;
    this.out = [];
    return batch;
  }

  /**
   * Announces a section found at `path`. Returns the path it was read at first when the member
   * already held the same section at another path (2026 writes Off TikTok Activity under two
   * categories): reading it twice would store every record twice, so the caller keeps the second
   * copy raw instead, and says so (`duplicate_section`).
   */
  section(def: SectionDef, path: string): string | undefined {
    const first = this.sectionPaths.get(def.id);
    if (first !== undefined && first !== path) return first;
    this.sectionPaths.set(def.id, path);
    this.announce(def, path);
    return undefined;
  }

  /** Announces every (table, part) of a section found at `path`, once per path. */
  private announce(def: SectionDef, path: string): void {
    for (const { table, part } of def.announces) {
      const key = `${table}\0${part}\0${path}`;
      if (this.announced.has(key)) continue;
      this.announced.add(key);
      this.out.push({ kind: 'section', table, part, path });
    }
  }

  /** A record that cannot be stored (nothing identifies it): kept whole, with the reason. */
  refuse(table: TableName, path: string, json: string, reason: string): void {
    this.out.push({ kind: 'refused', table, path, json, reason });
    this.warnField(
      'refused_record',
      `A record at \`${path}\` in \`${this.member}\` was not stored in \`${table}\`: ${reason}. It was kept whole in \`refused_records\`.`,
      sectionOf(path),
      '',
    );
  }

  record<T extends TableName>(table: T, part: string, row: TableRows[T]): void {
    this.out.push({ kind: 'record', table, part, row } as ParseEvent);
  }

  raw(path: string, json: string): void {
    this.out.push({ kind: 'raw', path, json });
  }

  /**
   * A value that would be kept raw but is larger than {@link maxRawChars}: not kept, and said once
   * per path, in one warning that names it (`subject`), its size and what to do.
   */
  rawTooLarge(path: string, subject: string, chars: number): void {
    this.warnOnce(
      `raw_too_large\0${path}`,
      'raw_too_large',
      `${subject} was not kept: it is ${chars} characters as JSON, more than the ${this.maxRawChars} a section without a table may keep raw, so none of it is in the database. The export still holds it: keep the file, so that a version that reads this section into a table can import it (\`tiktok-sync reprocess\` reads kept archives again).`,
      path,
    );
  }

  warn(code: string, message: string, path: string): void {
    this.out.push({ kind: 'warning', code, message, path });
  }

  /** A warning about one field of a section, counted per code, section and field. */
  warnField(code: string, message: string, section: string, field: string): void {
    this.out.push({ kind: 'warning', code, message, path: section, field });
  }

  /** A warning given once per `key` and member (unknown keys repeat on every record). */
  warnOnce(key: string, code: string, message: string, path: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.warn(code, message, path);
  }

  /** Text without NUL characters; each removal is reported. */
  clean(value: string, where: () => string): string {
    if (value.indexOf('\0') === -1) return value;
    const path = where();
    this.warn(
      'nul_stripped',
      `Removed NUL characters from a value at \`${path}\` in \`${this.member}\`.`,
      path,
    );
    return value.replace(/\0/g, '');
  }

  tooDeep(where: string, limit: number): ArchiveError {
    // The path itself is as deep as the document: only its start says where.
    const path = where.length > 120 ? `${where.slice(0, 117)}...` : where;
    return new ArchiveError(
      'archive_too_deep',
      `\`${this.member}\` nests objects and lists more than ${limit} levels deep near \`${path}\`; exports nest a few levels. ${DAMAGED}`,
      { details: { member: this.member, path, limit } },
    );
  }

  invalidJson(path: string, detail: string, cause?: unknown): ArchiveError {
    const where = path === '' ? 'near its start' : path === '(end)' ? 'after its end' : `near \`${path}\``;
    return new ArchiveError(
      'archive_invalid_json',
      `\`${this.member}\` is not valid JSON ${where} (${detail}). ${DAMAGED}`,
      {
        cause,
        details: { member: this.member, path },
      },
    );
  }
}

/** `Your Activity/Watch History/VideoList[12]` → `Your Activity/Watch History/VideoList`. */
function sectionOf(path: string): string {
  return path.replace(/\[\d+\]$/, '').replace(/:\d+$/, '');
}
