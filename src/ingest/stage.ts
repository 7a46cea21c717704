import type pg from 'pg';
import { copyChunk, copyField } from '../db/copy.js';
import type { ParseEvent, TableName, WarningEvent } from '../parsers/records.js';
import { stageDdl, stageTable, TABLE_SPECS, type TableSpec } from './tables.js';

/** What is staged: a table's rows, unmodeled sections, refused records. */
type Staged = TableName | 'raw' | 'refused';

/** Bytes of encoded rows buffered per table before they are sent as one COPY. */
const CHUNK_BYTES = 1 << 20;
/** COPY chunks allowed in flight before the parser waits (backpressure). */
const MAX_QUEUED = 2;

/**
 * Streams parsed rows into per-table temporary staging tables with COPY, while parsing goes on: rows
 * are encoded into per-table buffers, and a full buffer is sent as one COPY on the transaction's
 * connection. The database works in its own process, so parsing and loading overlap.
 */
export class Stager {
  readonly #client: pg.ClientBase;
  readonly #buffers = new Map<string, { lines: string[]; bytes: number }>();
  #queue: Promise<void> = Promise.resolve();
  #queued = 0;
  #failed: unknown;
  readonly staged = new Map<string, number>();

  constructor(client: pg.ClientBase) {
    this.#client = client;
  }

  /** Creates the staging tables; they disappear at the end of the transaction. */
  async createTables(): Promise<void> {
    const ddl = Object.values(TABLE_SPECS).map(stageDdl);
    ddl.push('create temp table stage_raw (path text, json text) on commit drop');
    ddl.push(
      'create temp table stage_refused (target_table text, path text, json text, reason text) on commit drop',
    );
    await this.#client.query(ddl.join(';\n'));
  }

  /**
   * A message belongs to a conversation the export held (dm_messages.conversation_id refers to it,
   * migration 0014): one that no conversation record named (a reader that saw only the messages) is
   * staged as a conversation of its own, so the link never dangles.
   */
  async stageImpliedConversations(): Promise<void> {
    if ((this.staged.get('dm_messages') ?? 0) === 0) return;
    const { rowCount } = await this.#client.query(
      `insert into ${stageTable('dm_conversations')} (part, conversation)
       select distinct m.part, m.conversation from ${stageTable('dm_messages')} m
       where m.conversation is not null and not exists (
         select 1 from ${stageTable('dm_conversations')} c
         where c.part is not distinct from m.part and c.conversation = m.conversation
       )`,
    );
    if (rowCount) this.staged.set('dm_conversations', (this.staged.get('dm_conversations') ?? 0) + rowCount);
  }

  /** Empties the staging tables for the next archive read in the same transaction (reprocess). */
  async reset(): Promise<void> {
    await this.flush();
    const tables = [
      ...Object.values(TABLE_SPECS).map((spec) => stageTable(spec.table)),
      stageTable('raw'),
      stageTable('refused'),
    ];
    await this.#client.query(`truncate ${tables.join(', ')}`);
    this.staged.clear();
  }

  /** Adds one row; call {@link drain} when it returns true. */
  add(spec: TableSpec, part: string, row: object): boolean {
    const values = row as Record<string, string | null>;
    let line = spec.partColumn ? copyField(part) : '';
    let first = !spec.partColumn;
    for (const column of spec.columns) {
      line += (first ? '' : '\t') + copyField(values[column.field]);
      first = false;
    }
    return this.#push(spec.table, `${line}\n`);
  }

  addRaw(path: string, json: string): boolean {
    return this.#push('raw', `${copyField(path)}\t${copyField(json)}\n`);
  }

  addRefused(table: string, path: string, json: string, reason: string): boolean {
    return this.#push(
      'refused',
      `${copyField(table)}\t${copyField(path)}\t${copyField(json)}\t${copyField(reason)}\n`,
    );
  }

  #push(table: Staged, line: string): boolean {
    let buffer = this.#buffers.get(table);
    if (!buffer) {
      buffer = { lines: [], bytes: 0 };
      this.#buffers.set(table, buffer);
    }
    buffer.lines.push(line);
    buffer.bytes += line.length;
    this.staged.set(table, (this.staged.get(table) ?? 0) + 1);
    if (buffer.bytes >= CHUNK_BYTES) this.#send(table);
    return this.#queued >= MAX_QUEUED || this.#failed !== undefined;
  }

  /** COPY names the loaded columns, so the generated ones are left to Postgres. */
  #target(table: Staged): string {
    if (table === 'raw') return `${stageTable('raw')} (path, json)`;
    if (table === 'refused') return `${stageTable('refused')} (target_table, path, json, reason)`;
    const spec = TABLE_SPECS[table];
    const columns = [...(spec.partColumn ? ['part'] : []), ...spec.columns.map((c) => c.name)];
    return `${stageTable(table)} (${columns.join(', ')})`;
  }

  #send(table: Staged): void {
    const buffer = this.#buffers.get(table);
    if (!buffer || buffer.lines.length === 0) return;
    const chunk = buffer.lines.join('');
    buffer.lines = [];
    buffer.bytes = 0;
    this.#queued += 1;
    this.#queue = this.#queue
      .then(() =>
        this.#failed === undefined ? copyChunk(this.#client, this.#target(table), chunk) : undefined,
      )
      .catch((error) => {
        this.#failed ??= error;
      })
      .finally(() => {
        this.#queued -= 1;
      });
  }

  /** Waits until the COPY queue is short again; rethrows a failed COPY. */
  async drain(): Promise<void> {
    while (this.#queued >= MAX_QUEUED) await this.#queue;
    if (this.#failed !== undefined) throw this.#failed;
  }

  /** Sends every buffered row and waits for all COPYs to finish. */
  async flush(): Promise<void> {
    for (const table of this.#buffers.keys()) this.#send(table as Staged);
    await this.#queue;
    if (this.#failed !== undefined) throw this.#failed;
  }
}

/** What one archive's events left in the staging tables. */
export interface StagedArchive {
  /** Records staged. */
  records: number;
  /** Per table, the parts (sub-kinds) that the archive contained, even when empty. */
  present: Map<TableName, Set<string>>;
}

/** Stages every event of an archive; warnings go to `warnings`. */
export async function stageEvents(
  stager: Stager,
  events: AsyncIterable<ParseEvent>,
  warnings: { add(event: WarningEvent): void },
): Promise<StagedArchive> {
  let records = 0;
  const present = new Map<TableName, Set<string>>();
  for await (const event of events) {
    switch (event.kind) {
      case 'record':
        records += 1;
        if (stager.add(TABLE_SPECS[event.table], event.part, event.row)) await stager.drain();
        break;
      case 'section': {
        const parts = present.get(event.table) ?? new Set<string>();
        parts.add(event.part);
        present.set(event.table, parts);
        break;
      }
      case 'raw':
        if (stager.addRaw(event.path, event.json)) await stager.drain();
        break;
      case 'warning':
        warnings.add(event);
        break;
      case 'refused':
        if (stager.addRefused(event.table, event.path, event.json, event.reason)) await stager.drain();
        break;
    }
  }
  await stager.flush();
  await stager.stageImpliedConversations();
  return { records, present };
}
