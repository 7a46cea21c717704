import type pg from 'pg';
import { copyField } from '../db/copy.js';
import type { ParseEvent, TableName, WarningEvent } from '../parsers/records.js';
import { CopyChunks } from './copy-chunks.js';
import { KeyFilter } from './key-filter.js';
import { refusedValue } from './merge.js';
import { digestHex, RowHasher, writeDigestHex } from './record-hash.js';
import { loadStoredIndexes, type StoredIndex } from './stored-index.js';
import {
  ownColumns,
  stageDdl,
  stagedColumns,
  stageTable,
  TABLE_SPECS,
  type TableSpec,
  targetTable,
} from './tables.js';

/**
 * The import's first pass over an archive, while it is read: every record's key and row hash are
 * computed in Node (record-hash.ts) and compared with the account's stored records, read once at the
 * start (stored-index.ts). What follows from that comparison alone is settled here, so that Postgres
 * does work in proportion to what changed, not to the size of the export:
 *
 * - a stored record the export holds unchanged: nothing is sent;
 * - a record new to the account whose occurrence number is known (its key's first in this export, or
 *   a repeat of a stored key): COPY straight into the stored table;
 * - a changed record, one marked removed that is back, or a new key the export may repeat (see
 *   key-filter.ts): COPY into the table's staging table, for the merge (merge.ts);
 * - a stored current record the export did not hold: its key, into `stage_gone` for the reconcile.
 *
 * Rows are encoded into per-destination buffers (copy-chunks.ts); a full buffer is sent as one COPY
 * on the transaction's connection, so parsing and loading overlap.
 */

/** Keys of the stored records the export no longer holds, per table, for the reconcile. */
export const GONE_TABLE = 'pg_temp.stage_gone';

/** What the first pass learnt of one table of an archive. */
export interface TableIntake {
  /** Records of the table in the export (a conversation only messages named included). */
  records: number;
  /** Inserted into the stored table during the pass. */
  direct: number;
  /** Rows in the staging table. */
  staged: number;
  /** Staged rows whose occurrence number the merge works out. */
  unnumbered: number;
  /** Stored current records the export did not hold, in {@link GONE_TABLE}. */
  gone: number;
  /** Records per part. */
  partRecords: Map<string, number>;
  /** Per part, the earliest time (the spec's time column, ISO-8601) of its records, if any has one. */
  oldest: Map<string, string>;
}

/** The first profile record's counts, for the profile snapshots (merge.ts, snapshotProfile). */
export interface ProfileCounts {
  follower_count: string | null;
  following_count: string | null;
  likes_received: string | null;
}

/** Where this archive's records go: the account, the run that first sees them, and the stored tables. */
export interface StageTarget {
  accountId: string;
  runId: string;
  /** The stored table of a spec; reprocess replays into temporary shadows of them. */
  target?: (spec: TableSpec) => string;
}

interface TableState {
  readonly spec: TableSpec;
  readonly hasher: RowHasher;
  readonly index: StoredIndex;
  readonly filter: KeyFilter;
  /** Repeats of stored keys: key → occurrences seen so far (only once past the first). */
  readonly repeats: Map<string, number>;
  readonly timeField: string | undefined;
  readonly directDestination: Destination;
  readonly stageDestination: Destination;
  readonly intake: TableIntake;
}

/** Where encoded lines go: `direct:<table>`, `stage:<table>`, `raw`, `refused` or `gone`. */
type Destination = string;

/** The table a destination's rows are for, as an error names it. */
const tableOf = (destination: Destination): string =>
  destination === 'raw'
    ? 'raw_sections'
    : destination === 'refused'
      ? 'refused_records'
      : destination === 'gone'
        ? 'stage_gone'
        : destination.slice(destination.indexOf(':') + 1);

const TAB = 9;
export class Stager {
  readonly #client: pg.ClientBase;
  readonly #copies: CopyChunks<Destination>;
  #tables = new Map<TableName, TableState>();
  #target: StageTarget | undefined;
  #prefix = '';
  #suffix = '';
  /** Conversations named by a conversation record, and by a message (`part\0conversation`). */
  #conversations = new Set<string>();
  #messageConversations = new Set<string>();
  /** Raw sections and refused records staged. */
  readonly staged = new Map<'raw' | 'refused', number>();
  profile: ProfileCounts | undefined;

  constructor(client: pg.ClientBase) {
    this.#client = client;
    this.#copies = new CopyChunks(client, {
      target: (destination) => this.#copyTarget(destination),
      failure: (error, destination) => refusedValue(error, tableOf(destination)),
    });
  }

  /** Creates the staging tables; they disappear at the end of the transaction. */
  async createTables(): Promise<void> {
    const ddl = Object.values(TABLE_SPECS).map(stageDdl);
    ddl.push('create temp table stage_raw (path text, json text) on commit drop');
    ddl.push(
      'create temp table stage_refused (target_table text, path text, json text, reason text) on commit drop',
    );
    ddl.push(
      'create temp table stage_gone (table_name text, record_key uuid, occurrence integer) on commit drop',
    );
    await this.#client.query(ddl.join(';\n'));
  }

  /**
   * Starts an archive: reads the account's stored records of every table (one COPY; nothing for a
   * new account) that the archive's records are compared with.
   */
  async begin(target: StageTarget): Promise<void> {
    const tableOf = target.target ?? targetTable;
    const specs = Object.values(TABLE_SPECS);
    const indexes = await loadStoredIndexes(this.#client, specs.map(tableOf), target.accountId);
    this.#target = target;
    this.#prefix = `${target.accountId}\t`;
    this.#suffix = `\t${target.runId}\n`;
    this.#tables = new Map(
      specs.map((spec, i) => [
        spec.table,
        {
          spec,
          hasher: new RowHasher(spec),
          index: indexes[i]!,
          filter: new KeyFilter(),
          repeats: new Map(),
          timeField: spec.columns.find((c) => c.name === spec.timeColumn)?.field,
          directDestination: `direct:${spec.table}`,
          stageDestination: `stage:${spec.table}`,
          intake: {
            records: 0,
            direct: 0,
            staged: 0,
            unnumbered: 0,
            gone: 0,
            partRecords: new Map(),
            oldest: new Map(),
          },
        },
      ]),
    );
    this.#conversations.clear();
    this.#messageConversations.clear();
    this.staged.clear();
    this.profile = undefined;
  }

  /** What the pass learnt of a table (after {@link finish}). */
  intake(table: TableName): TableIntake {
    return this.#state(table).intake;
  }

  #state(table: TableName): TableState {
    const state = this.#tables.get(table);
    if (!state) throw new Error('Stager.begin() was not called');
    return state;
  }

  /** Empties the staging tables for the next archive read in the same transaction (reprocess). */
  async reset(): Promise<void> {
    await this.flush();
    const tables = [
      ...Object.values(TABLE_SPECS).map((spec) => stageTable(spec.table)),
      stageTable('raw'),
      stageTable('refused'),
      GONE_TABLE,
    ];
    await this.#client.query(`truncate ${tables.join(', ')}`);
    this.staged.clear();
  }

  /** Adds one record; call {@link drain} when it returns true. */
  add(spec: TableSpec, part: string, row: object): boolean {
    const values = row as Record<string, string | null | undefined>;
    const state = this.#state(spec.table);
    const { intake, index } = state;
    intake.records += 1;
    intake.partRecords.set(part, (intake.partRecords.get(part) ?? 0) + 1);
    if (state.timeField !== undefined) {
      const time = values[state.timeField];
      if (time !== null && time !== undefined) {
        const oldest = intake.oldest.get(part);
        if (oldest === undefined || isEarlier(time, oldest)) intake.oldest.set(part, time);
      }
    }
    if (spec.table === 'dm_conversations' || spec.table === 'dm_messages')
      this.#noteConversation(spec, part, values);
    if (spec.table === 'profile' && this.profile === undefined) {
      this.profile = {
        follower_count: values.follower_count ?? null,
        following_count: values.following_count ?? null,
        likes_received: values.likes_received ?? null,
      };
    }

    const key = state.hasher.key(part, values);
    const hash = state.hasher.row(values);
    const first = index.find(key, 1);
    if (first === -1) {
      // A key not stored: this export's first of it, unless the filter says it may have come before.
      if (state.filter.add(key)) return this.#stage(state, part, values, key, hash, null);
      return this.#direct(state, part, values, key, hash, 1);
    }
    let occurrence = 1;
    if (index.seen(first)) {
      occurrence = (state.repeats.get(key) ?? 1) + 1;
      state.repeats.set(key, occurrence);
    }
    const entry = occurrence === 1 ? first : index.find(key, occurrence);
    if (entry === -1) return this.#direct(state, part, values, key, hash, occurrence);
    index.markSeen(entry);
    if (!index.removed(entry) && index.sameHash(entry, hash)) return this.#copies.busy();
    return this.#stage(state, part, values, key, hash, occurrence);
  }

  #own(spec: TableSpec, part: string, values: Record<string, string | null | undefined>): string {
    let line = spec.partColumn ? copyField(part) : '';
    let first = !spec.partColumn;
    for (const column of spec.columns) {
      line += (first ? '' : '\t') + copyField(values[column.field]);
      first = false;
    }
    return line;
  }

  #direct(
    state: TableState,
    part: string,
    values: Record<string, string | null | undefined>,
    key: string,
    hash: string,
    occurrence: number,
  ): boolean {
    state.intake.direct += 1;
    const own = this.#own(state.spec, part, values);
    const prefix = this.#prefix;
    const suffix = this.#suffix;
    // account \t key \t occurrence \t hash \t own fields \t run \n
    const chunk = this.#copies.room(
      state.directDestination,
      prefix.length + own.length * 3 + suffix.length + 80,
    );
    const bytes = chunk.bytes;
    let at = chunk.used;
    at += bytes.write(prefix, at, 'latin1');
    at = writeDigestHex(bytes, at, key);
    bytes[at++] = TAB;
    at += bytes.write(String(occurrence), at, 'latin1');
    bytes[at++] = TAB;
    at = writeDigestHex(bytes, at, hash);
    bytes[at++] = TAB;
    at += bytes.write(own, at);
    at += bytes.write(suffix, at, 'latin1');
    chunk.used = at;
    return this.#copies.written(state.directDestination, chunk);
  }

  #stage(
    state: TableState,
    part: string,
    values: Record<string, string | null | undefined>,
    key: string,
    hash: string,
    occurrence: number | null,
  ): boolean {
    state.intake.staged += 1;
    if (occurrence === null) state.intake.unnumbered += 1;
    const own = this.#own(state.spec, part, values);
    return this.#copies.push(
      state.stageDestination,
      `${own}\t${digestHex(key)}\t${digestHex(hash)}\t${occurrence ?? '\\N'}\n`,
    );
  }

  #noteConversation(spec: TableSpec, part: string, values: Record<string, string | null | undefined>): void {
    const conversation = values.conversation;
    if (conversation === null || conversation === undefined) return;
    const id = `${part}\0${conversation}`;
    if (spec.table === 'dm_conversations') this.#conversations.add(id);
    else this.#messageConversations.add(id);
  }

  addRaw(path: string, json: string): boolean {
    this.staged.set('raw', (this.staged.get('raw') ?? 0) + 1);
    return this.#copies.push('raw', `${copyField(path)}\t${copyField(json)}\n`);
  }

  addRefused(table: string, path: string, json: string, reason: string): boolean {
    this.staged.set('refused', (this.staged.get('refused') ?? 0) + 1);
    return this.#copies.push(
      'refused',
      `${copyField(table)}\t${copyField(path)}\t${copyField(json)}\t${copyField(reason)}\n`,
    );
  }

  /** The COPY target of a destination, with the columns it loads. */
  #copyTarget(destination: Destination): string {
    if (destination === 'raw') return `${stageTable('raw')} (path, json)`;
    if (destination === 'refused') return `${stageTable('refused')} (target_table, path, json, reason)`;
    if (destination === 'gone') return `${GONE_TABLE} (table_name, record_key, occurrence)`;
    const [kind, table] = destination.split(':') as ['direct' | 'stage', TableName];
    const spec = TABLE_SPECS[table];
    if (kind === 'stage') {
      return `${stageTable(table)} (${[...stagedColumns(spec), 'record_key', 'row_hash', 'occurrence'].join(', ')})`;
    }
    const columns = [
      'account_id',
      'record_key',
      'occurrence',
      'row_hash',
      ...ownColumns(spec),
      'first_seen_run_id',
    ];
    return `${(this.#target?.target ?? targetTable)(spec)} (${columns.join(', ')})`;
  }

  /** Waits until the COPY queue is short again; rethrows a failed COPY. */
  drain(): Promise<void> {
    return this.#copies.drain();
  }

  /** Sends every buffered row and waits for all COPYs to finish. */
  flush(): Promise<void> {
    return this.#copies.flush();
  }

  /**
   * Ends an archive's pass: a conversation that only messages named is added as a record of its own
   * (dm_messages.conversation_id refers to it, migration 0014), the keys of stored current records
   * the export did not hold are sent for the tables it holds, and every buffer is flushed.
   */
  async finish(present: ReadonlyMap<TableName, ReadonlySet<string>>): Promise<void> {
    const conversations = TABLE_SPECS.dm_conversations;
    for (const id of this.#messageConversations) {
      if (this.#conversations.has(id)) continue;
      const [part, conversation] = id.split('\0') as [string, string];
      if (this.add(conversations, part, { conversation })) await this.drain();
    }
    let gone = 0;
    for (const [table, state] of this.#tables) {
      if (!present.has(table)) continue;
      state.index.forEachUnseen((key, occurrence) => {
        state.intake.gone += 1;
        this.#copies.push('gone', `${table}\t${digestHex(key)}\t${occurrence}\n`);
      });
      gone += state.intake.gone;
      await this.drain();
    }
    await this.flush();
    // Without statistics the planner takes the table for tiny and scans it once per stored row.
    if (gone > 0) await this.#client.query(`analyze ${GONE_TABLE}`);
  }
}

/**
 * Whether ISO-8601 UTC time `a` (as the parsers write times: `YYYY-MM-DDTHH:MM:SS[.fff]Z`) is
 * earlier than `b`: by the text up to the seconds, then by the fraction.
 */
export function isEarlier(a: string, b: string): boolean {
  for (let i = 0; i < 19; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return x < y;
  }
  return fraction(a) < fraction(b);
}

const fraction = (time: string): number =>
  time.charCodeAt(19) === 46 ? Number(`0${time.slice(19, -1)}`) : 0;

/** What one archive's events left: records read and the parts (sub-kinds) it contained. */
export interface StagedArchive {
  /** Records read. */
  records: number;
  /** Per table, the parts (sub-kinds) that the archive contained, even when empty. */
  present: Map<TableName, Set<string>>;
}

/** Runs every event of an archive through the stager; warnings go to `warnings`. */
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
  await stager.finish(present);
  return { records, present };
}
