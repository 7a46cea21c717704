import type pg from 'pg';
import type { TableCounts } from '../db/schema.js';
import { ArchiveError } from '../errors.js';
import type { TableName } from '../parsers/records.js';
import { type ColumnSpec, stageTable, TABLE_SPECS, type TableSpec, targetTable } from './tables.js';

/** What the merge of one archive needs to know. */
export interface MergeContext {
  accountId: string;
  runId: string;
  archiveId: string;
  /** Per table, the parts (sub-kinds) that the archive contained, even when empty. */
  present: ReadonlyMap<TableName, ReadonlySet<string>>;
}

export const emptyCounts = (): TableCounts => ({
  inserted: 0,
  updated: 0,
  unchanged: 0,
  removed: 0,
  restored: 0,
});

/** Rows inserted into a table above which its statistics are refreshed before the next statement. */
const ANALYZE_AFTER_INSERTS = 1000;

interface MergeStatements {
  occurrences: string;
  analyze: string;
  restore: string;
  update: string;
  insert: string;
  remove: string;
}

const statementCache = new Map<string, MergeStatements>();

/**
 * Builds the set-based merge of one table from its spec, over its staging table (whose record key
 * and row hash Postgres computed during COPY). Only rows that are new, changed, removed or back are
 * written: an unchanged re-import reads but writes no tuple (no "last seen" bumps).
 *
 * 1. occurrences: the rare keys staged more than once get occurrence numbers 2, 3… in file order.
 * 2. restore: rows marked removed that the export contains again.
 * 3. update: rows whose row hash differs (volatile columns are stored but not hashed).
 * 4. insert: rows not yet stored.
 * 5. remove: stored rows of the parts present in this export that it no longer contains.
 */
export function mergeStatements(spec: TableSpec, target = targetTable(spec)): MergeStatements {
  const cached = statementCache.get(target);
  if (cached) return cached;

  const stage = stageTable(spec.table);
  const part = spec.partColumn;
  const typed = (c: ColumnSpec) => (c.type === 'text' ? `k.${c.name}` : `k.${c.name}::${c.type}`);
  const match = 't.account_id = $1 and t.record_key = k.record_key and t.occurrence = k.occurrence';
  const assign = [...spec.columns.map((c) => `${c.name} = ${typed(c)}`), 'row_hash = k.row_hash'].join(', ');
  const ownColumns = [...(part ? [part] : []), ...spec.columns.map((c) => c.name)];
  const ownValues = [...(part ? ['k.part'] : []), ...spec.columns.map(typed)];

  const statements: MergeStatements = {
    occurrences: `
      update ${stage} s set occurrence = d.n
      from (
        select ctid as id, row_number() over (partition by record_key order by ctid)::integer as n
        from ${stage}
        where record_key in (select record_key from ${stage} group by record_key having count(*) > 1)
      ) d
      where s.ctid = d.id and d.n > 1`,
    analyze: `analyze ${stage}`,
    restore: `
      update ${target} t set ${assign},
        removed_at = null, removed_run_id = null, updated_at = now(), updated_run_id = $2
      from ${stage} k
      where ${match} and t.removed_at is not null`,
    update: `
      update ${target} t set ${assign}, updated_at = now(), updated_run_id = $2
      from ${stage} k
      where ${match} and t.removed_at is null and t.row_hash <> k.row_hash`,
    insert: `
      insert into ${target} (account_id, record_key, occurrence, row_hash, ${ownColumns.join(', ')}, first_seen_run_id)
      select $1, k.record_key, k.occurrence, k.row_hash, ${ownValues.join(', ')}, $2
      from ${stage} k
      where not exists (select 1 from ${target} t where ${match})`,
    remove: `
      update ${target} t set removed_at = now(), removed_run_id = $2
      where t.account_id = $1 and t.removed_at is null
        ${part ? `and t.${part} = any($3::text[])` : ''}
        and not exists (
          select 1 from ${stage} k
          where k.record_key = t.record_key and k.occurrence = t.occurrence
        )`,
  };
  statementCache.set(target, statements);
  return statements;
}

/**
 * Merges one staged table into its target (the stored table, or a shadow copy of it that reprocess
 * replays archives into): restores, updates and inserts; removals are {@link reconcileTable}'s.
 */
export async function mergeTable(
  client: pg.ClientBase,
  spec: TableSpec,
  staged: number,
  context: MergeContext,
  target = targetTable(spec),
): Promise<TableCounts> {
  const counts = emptyCounts();
  if (staged === 0) return counts;
  const sql = mergeStatements(spec, target);
  const params = [context.accountId, context.runId];
  await client.query(sql.occurrences);
  // Temporary tables have no statistics until analyzed; without them the planner picks nested loops.
  await client.query(sql.analyze);
  counts.restored = (await client.query(sql.restore, params)).rowCount ?? 0;
  counts.updated = (await client.query(sql.update, params)).rowCount ?? 0;
  counts.inserted = (await client.query(sql.insert, params)).rowCount ?? 0;
  // The table just grew inside this transaction: refresh its statistics, or the removal that follows
  // is planned for the old, small table (a nested loop that is quadratic in the rows of the export).
  if (counts.inserted >= ANALYZE_AFTER_INSERTS) await client.query(`analyze ${target}`);
  counts.unchanged = staged - counts.inserted - counts.updated - counts.restored;
  return counts;
}

/**
 * Marks removed the stored rows of the parts (sub-kinds) the export contains that it no longer
 * holds; returns how many. A part the export does not contain at all is left alone: a missing
 * section says nothing about its records.
 */
export async function reconcileTable(
  client: pg.ClientBase,
  spec: TableSpec,
  context: MergeContext,
  target = targetTable(spec),
): Promise<number> {
  const parts = context.present.get(spec.table);
  if (!parts) return 0;
  const params = [context.accountId, context.runId, ...(spec.partColumn ? [[...parts]] : [])];
  return (await client.query(mergeStatements(spec, target).remove, params)).rowCount ?? 0;
}

/** Records follower/following/likes counts when they differ from the last snapshot. */
export async function snapshotProfile(client: pg.ClientBase, context: MergeContext): Promise<number> {
  const result = await client.query(
    `insert into tiktok.profile_snapshots (account_id, archive_id, run_id, follower_count, following_count, likes_received)
     select $1, $3, $2, k.follower_count, k.following_count, k.likes_received
     from (select follower_count::bigint, following_count::bigint, likes_received::bigint from ${stageTable('profile')} order by occurrence limit 1) k
     where not exists (
       select 1 from (
         select * from tiktok.profile_snapshots s where s.account_id = $1
         order by s.captured_at desc, s.archive_id desc limit 1
       ) last
       where (last.follower_count, last.following_count, last.likes_received)
         is not distinct from (k.follower_count, k.following_count, k.likes_received)
     )
     on conflict do nothing`,
    [context.accountId, context.runId, context.archiveId],
  );
  return result.rowCount ?? 0;
}

/**
 * Keeps each distinct content of an unmodeled section once; the latest export's content of a section
 * is the current one, older contents of that section are marked superseded.
 */
export async function mergeRawSections(
  client: pg.ClientBase,
  staged: number,
  context: MergeContext,
): Promise<TableCounts> {
  const counts = emptyCounts();
  if (staged === 0) return counts;
  const params = [context.accountId, context.runId];
  await client.query(`
    create temp table keyed_raw on commit drop as
    select distinct on (path, content_hash) path, content_hash, json::jsonb as content
    from (select path, md5(json)::uuid as content_hash, json from ${stageTable('raw')}) s`);
  counts.restored =
    (
      await client.query(
        `update tiktok_private.raw_sections r set superseded_at = null, superseded_run_id = null
       from pg_temp.keyed_raw k
       where r.account_id = $1 and r.path = k.path and r.content_hash = k.content_hash
         and r.superseded_at is not null`,
        [context.accountId],
      )
    ).rowCount ?? 0;
  counts.inserted =
    (
      await client.query(
        `insert into tiktok_private.raw_sections (account_id, path, content_hash, content, first_seen_run_id, first_seen_archive_id)
       select $1, k.path, k.content_hash, k.content, $2, $3 from pg_temp.keyed_raw k
       where not exists (
         select 1 from tiktok_private.raw_sections r
         where r.account_id = $1 and r.path = k.path and r.content_hash = k.content_hash
       )`,
        [...params, context.archiveId],
      )
    ).rowCount ?? 0;
  counts.removed =
    (
      await client.query(
        `update tiktok_private.raw_sections r set superseded_at = now(), superseded_run_id = $2
       where r.account_id = $1 and r.superseded_at is null
         and r.path in (select path from pg_temp.keyed_raw)
         and not exists (
           select 1 from pg_temp.keyed_raw k where k.path = r.path and k.content_hash = r.content_hash
         )`,
        params,
      )
    ).rowCount ?? 0;
  counts.unchanged = staged - counts.inserted - counts.restored;
  return counts;
}

/**
 * Keeps each refused record once per account (by table, path and content), so a re-import of the
 * same export writes nothing; a parser that learns to read them later fills their table on reprocess.
 */
export async function mergeRefused(
  client: pg.ClientBase,
  staged: number,
  context: MergeContext,
): Promise<TableCounts> {
  const counts = emptyCounts();
  if (staged === 0) return counts;
  const inserted = await client.query(
    `insert into tiktok_private.refused_records
       (account_id, content_hash, target_table, path, content, reason, first_seen_run_id, first_seen_archive_id)
     select distinct on (h) $1, h, target_table, path, json::jsonb, reason, $2, $3
     from (select *, md5(target_table || E'\\n' || path || E'\\n' || json)::uuid as h from ${stageTable('refused')}) s
     on conflict (account_id, content_hash) do nothing`,
    [context.accountId, context.runId, context.archiveId],
  );
  counts.inserted = inserted.rowCount ?? 0;
  counts.unchanged = staged - counts.inserted;
  return counts;
}

/**
 * Merges every table in a fixed order (conversations before messages, profile before snapshots);
 * {@link reconcileAll} then marks what left the export.
 */
export async function mergeAll(
  client: pg.ClientBase,
  staged: ReadonlyMap<string, number>,
  context: MergeContext,
): Promise<Record<string, TableCounts>> {
  const counts: Record<string, TableCounts> = {};
  // The merge analyzes staging tables (and grown targets) to get sane plans; a small sample is enough.
  // JIT compilation costs more than it saves on these short, many statements.
  await client.query('set local default_statistics_target = 20; set local jit = off');
  let table = '';
  try {
    for (const spec of Object.values(TABLE_SPECS)) {
      table = spec.table;
      counts[spec.table] = await mergeTable(client, spec, staged.get(spec.table) ?? 0, context);
    }
    table = 'profile_snapshots';
    const snapshots = (staged.get('profile') ?? 0) > 0 ? await snapshotProfile(client, context) : 0;
    counts.profile_snapshots = { ...emptyCounts(), inserted: snapshots };
    table = 'raw_sections';
    counts.raw_sections = await mergeRawSections(client, staged.get('raw') ?? 0, context);
    table = 'refused_records';
    counts.refused_records = await mergeRefused(client, staged.get('refused') ?? 0, context);
  } catch (error) {
    throw refusedValue(error, table);
  }
  return counts;
}

/** Marks removed, in every table, the stored records of the export's sections that it no longer holds. */
export async function reconcileAll(
  client: pg.ClientBase,
  context: MergeContext,
  counts: Record<string, TableCounts>,
): Promise<void> {
  for (const spec of Object.values(TABLE_SPECS)) {
    const removed = await reconcileTable(client, spec, context);
    if (removed > 0) counts[spec.table] = { ...(counts[spec.table] ?? emptyCounts()), removed };
  }
}

/**
 * A value of the export that Postgres refuses (a data exception, SQLSTATE class 22, or a value too big
 * for an index or too deep to parse, 54000/54001) fails the same way on every retry: it is the
 * archive's fault, so it becomes a terminal {@link ArchiveError} instead of an unexpected error that
 * would be retried forever.
 */
export function refusedValue(error: unknown, table: string): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !(code.startsWith('22') || code === '54000' || code === '54001')) {
    return error;
  }
  return new ArchiveError(
    'archive_rejected_value',
    `Postgres refused a value of the export while merging \`${table}\` (${(error as Error).message}; SQLSTATE ${code}); nothing of the archive was stored. The export looks damaged: download it again.`,
    { cause: error, details: { table, sqlstate: code } },
  );
}
