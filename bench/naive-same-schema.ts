/**
 * What a user of our schema would write: the naive importer's reading (naive-import.ts: the JSON
 * member read whole, `JSON.parse`, the 2025 layout walked for the same sections), but into the
 * project's own tables (`tiktok.*`, as the migrations create them), 1,000 rows at a time through
 * kysely with `INSERT … ON CONFLICT (account_id, record_key, occurrence) DO UPDATE SET` the data
 * columns.
 *
 * `record_key` and `row_hash` are computed in SQL over the inserted text values, with the SQL form
 * of the import's own hashes (src/ingest/tables.ts: `recordKeyExpression`, `rowHashExpression`). `occurrence` is 1; a key repeated within one batch keeps the
 * batch's last row (DO UPDATE cannot touch a row twice in one statement). No staging, no removals,
 * no change detection: every row that arrives is written.
 */
import { Kysely, PostgresDialect, type RawBuilder, sql } from 'kysely';
import type pg from 'pg';
import { ensureAccount } from '../src/db/accounts.js';
import type { Database } from '../src/db/schema.js';
import {
  recordKeyExpression,
  rowHashExpression,
  TABLE_SPECS,
  type TableSpec,
  targetTable,
} from '../src/ingest/tables.js';
import type { TableName } from '../src/parsers/records.js';
import { BATCH_ROWS, type Json, type Row, readJsonMember, sections } from './naive-import.js';

/** The account the rows belong to, and the run recorded as having stored them first. */
export interface Owner {
  accountId: string;
  runId: string;
}

/** Rows for one of our tables, by staged column name: `part` fills the part column (favorite or DM kind). */
interface Batch {
  table: TableName;
  rows: Row[];
}

/** The staged (text) columns of a spec, as `stageDdl` names them: `part`, then the table's columns. */
const stagedColumns = (spec: TableSpec): string[] => [
  ...(spec.partColumn ? ['part'] : []),
  ...spec.columns.map((c) => c.name),
];

/** `Chat History with ana_23:` → `ana_23`: the column holds the peer's username. */
const peerOf = (chatKey: string) => chatKey.replace(/^Chat History with\s*/i, '').replace(/:+$/, '');

/**
 * The naive walk's rows as rows of our tables. Favorite videos are `favorites` of kind `video`; DMs
 * are direct-chat messages, after their conversations (`dm_messages` refers to `dm_conversations`).
 */
function* ourRows(doc: Json): Generator<Batch> {
  for (const [table, rows] of sections(doc)) {
    if (table === 'favorite_videos') {
      yield { table: 'favorites', rows: rows.map((r) => ({ ...r, part: 'video' })) };
    } else if (table === 'dm_messages') {
      const messages = rows.map((r) => ({
        ...r,
        part: 'direct',
        conversation: peerOf(r.conversation ?? ''),
      }));
      const peers = [...new Set(messages.map((m) => m.conversation))];
      yield {
        table: 'dm_conversations',
        rows: peers.map((conversation) => ({ part: 'direct', conversation })),
      };
      yield { table: 'dm_messages', rows: messages };
    } else yield { table: table as TableName, rows };
  }
}

/**
 * One batch as one statement: the rows as text in a VALUES list, their key and row hashes computed
 * over that text as the staging table computes them, the last row of each key kept, each value cast
 * to its column's type.
 */
function upsert(spec: TableSpec, rows: Row[], owner: Owner): RawBuilder<unknown> {
  const staged = stagedColumns(spec);
  const targets = [...(spec.partColumn ? [spec.partColumn] : []), ...spec.columns.map((c) => c.name)];
  const typed = [...(spec.partColumn ? ['part'] : []), ...spec.columns.map((c) => `${c.name}::${c.type}`)];
  const recordKey = recordKeyExpression(spec);
  const rowHash = rowHashExpression(spec);
  const values = sql.join(
    rows.map((row, n) => sql`(${sql.lit(n)}, ${sql.join(staged.map((c) => row[c] ?? null))})`),
  );
  const updates = [...spec.columns.map((c) => c.name), 'row_hash'].map((c) => `${c} = excluded.${c}`);
  return sql`
    insert into ${sql.raw(targetTable(spec))}
      (account_id, record_key, occurrence, row_hash, first_seen_run_id, ${sql.raw(targets.join(', '))})
    select distinct on (record_key)
      ${owner.accountId}::bigint, record_key, 1, row_hash, ${owner.runId}::bigint, ${sql.raw(typed.join(', '))}
    from (
      select v.*, ${sql.raw(recordKey)} as record_key, ${sql.raw(rowHash)} as row_hash
      from (values ${values}) v (n, ${sql.raw(staged.join(', '))})
    ) hashed
    order by record_key, n desc
    on conflict (account_id, record_key, occurrence) do update set ${sql.raw(updates.join(', '))}`;
}

/**
 * The account, created as the import creates it (`ensureAccount`), and a run to name in
 * `first_seen_run_id`, which every data row needs (not timed).
 */
export async function createOwner(pool: pg.Pool, zipPath: string): Promise<Owner> {
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const accountId = await ensureAccount(db, 'bench');
  const { rows } = await pool.query<{ run_id: string }>(
    `insert into tiktok_sync.sync_runs (account_id, kind, source, status, finished_at)
     values ($1, 'import', $2, 'succeeded', now()) returning run_id`,
    [accountId, zipPath],
  );
  return { accountId, runId: rows[0]!.run_id };
}

/**
 * The same-schema naive import of one archive; returns rows sent per table. The kysely instance is
 * not destroyed: that would end the caller's pool.
 */
export async function naiveSameSchemaImport(
  pool: pg.Pool,
  zipPath: string,
  owner: Owner,
): Promise<Record<string, number>> {
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
  const doc = JSON.parse((await readJsonMember(zipPath)).toString('utf8')) as Json;
  const sent: Record<string, number> = {};
  for (const { table, rows } of ourRows(doc)) {
    const spec = TABLE_SPECS[table];
    sent[table] = rows.length;
    for (let i = 0; i < rows.length; i += BATCH_ROWS) {
      await upsert(spec, rows.slice(i, i + BATCH_ROWS), owner).execute(db);
    }
  }
  return sent;
}
