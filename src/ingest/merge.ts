import type pg from 'pg';
import type { TableCounts } from '../db/schema.js';
import type { TableName } from '../parsers/records.js';
import { stageTable } from './stage.js';
import { TABLE_SPECS, type TableSpec } from './tables.js';

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

const keyedTable = (table: string) => `pg_temp.keyed_${table}`;

interface MergeStatements {
  keyed: string;
  restore: string;
  update: string;
  insert: string;
  remove: string;
}

const statementCache = new Map<TableName, MergeStatements>();

/**
 * Builds the set-based merge of one table from its spec. Only rows that are new, changed, removed or
 * back are written: an unchanged re-import reads but writes no tuple (no "last seen" bumps).
 *
 * 1. keyed: staged rows get their record key (hash of the natural key) and occurrence number (the
 *    n-th identical key in this export), and are cast to the table's types.
 * 2. restore: rows marked removed that the export contains again.
 * 3. update: rows whose compared columns differ.
 * 4. insert: rows not yet stored.
 * 5. remove: stored rows of the parts present in this export that it no longer contains.
 */
export function mergeStatements(spec: TableSpec): MergeStatements {
  const cached = statementCache.get(spec.table);
  if (cached) return cached;

  const target = `tiktok.${spec.table}`;
  const part = spec.partColumn;
  const columns = spec.columns.map((c) => c.name);
  const compared = columns.filter((c) => !spec.volatile.includes(c));
  const keyExpr = `md5(row(${[...(part ? ['part'] : []), ...spec.key].join(', ')})::text)::uuid`;
  const casts = spec.columns.map((c) => `${c.name}::${c.type} as ${c.name}`);
  const match = 't.account_id = $1 and t.record_key = k.record_key and t.occurrence = k.occurrence';
  const assign = [...columns.map((c) => `${c} = k.${c}`)];
  const changed =
    compared.length === 0
      ? 'false'
      : `(${compared.map((c) => `t.${c}`).join(', ')}) is distinct from (${compared.map((c) => `k.${c}`).join(', ')})`;
  const ownColumns = [...(part ? [part] : []), ...columns];

  const statements: MergeStatements = {
    keyed: `
      create temp table keyed_${spec.table} on commit drop as
      select record_key,
        (row_number() over (partition by record_key order by ${columns.join(', ')}))::integer as occurrence,
        ${part ? `part as ${part},` : ''}
        ${casts.join(',\n        ')}
      from (select ${keyExpr} as record_key, * from ${stageTable(spec.table)}) s`,
    restore: `
      update ${target} t set ${assign.join(', ')},
        removed_at = null, removed_run_id = null, updated_at = now(), updated_run_id = $2
      from ${keyedTable(spec.table)} k
      where ${match} and t.removed_at is not null`,
    update: `
      update ${target} t set ${assign.join(', ')}, updated_at = now(), updated_run_id = $2
      from ${keyedTable(spec.table)} k
      where ${match} and t.removed_at is null and ${changed}`,
    insert: `
      insert into ${target} (account_id, record_key, occurrence, ${ownColumns.join(', ')}, first_seen_run_id)
      select $1, k.record_key, k.occurrence, ${ownColumns.map((c) => `k.${c}`).join(', ')}, $2
      from ${keyedTable(spec.table)} k
      where not exists (select 1 from ${target} t where ${match})`,
    remove: `
      update ${target} t set removed_at = now(), removed_run_id = $2
      where t.account_id = $1 and t.removed_at is null
        ${part ? `and t.${part} = any($3::text[])` : ''}
        and not exists (
          select 1 from ${keyedTable(spec.table)} k
          where k.record_key = t.record_key and k.occurrence = t.occurrence
        )`,
  };
  statementCache.set(spec.table, statements);
  return statements;
}

/** Merges one staged table into its target; returns what changed. */
export async function mergeTable(
  client: pg.ClientBase,
  spec: TableSpec,
  staged: number,
  context: MergeContext,
): Promise<TableCounts> {
  const counts = emptyCounts();
  const parts = context.present.get(spec.table);
  if (staged === 0 && !parts) return counts;

  const sql = mergeStatements(spec);
  const params = [context.accountId, context.runId];
  await client.query(sql.keyed);
  if (staged > 0) {
    counts.restored = (await client.query(sql.restore, params)).rowCount ?? 0;
    counts.updated = (await client.query(sql.update, params)).rowCount ?? 0;
    counts.inserted = (await client.query(sql.insert, params)).rowCount ?? 0;
  }
  if (parts) {
    const removeParams = spec.partColumn ? [...params, [...parts]] : params;
    counts.removed = (await client.query(sql.remove, removeParams)).rowCount ?? 0;
  }
  counts.unchanged = staged - counts.inserted - counts.updated - counts.restored;
  return counts;
}

/** Records follower/following/likes counts when they differ from the last snapshot. */
export async function snapshotProfile(client: pg.ClientBase, context: MergeContext): Promise<number> {
  const result = await client.query(
    `insert into tiktok.profile_snapshots (account_id, archive_id, run_id, follower_count, following_count, likes_received)
     select $1, $3, $2, k.follower_count, k.following_count, k.likes_received
     from (select * from ${keyedTable('profile')} order by occurrence limit 1) k
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
        `update tiktok.raw_sections r set superseded_at = null, superseded_run_id = null
       from pg_temp.keyed_raw k
       where r.account_id = $1 and r.path = k.path and r.content_hash = k.content_hash
         and r.superseded_at is not null`,
        [context.accountId],
      )
    ).rowCount ?? 0;
  counts.inserted =
    (
      await client.query(
        `insert into tiktok.raw_sections (account_id, path, content_hash, content, first_seen_run_id, first_seen_archive_id)
       select $1, k.path, k.content_hash, k.content, $2, $3 from pg_temp.keyed_raw k
       where not exists (
         select 1 from tiktok.raw_sections r
         where r.account_id = $1 and r.path = k.path and r.content_hash = k.content_hash
       )`,
        [...params, context.archiveId],
      )
    ).rowCount ?? 0;
  counts.removed =
    (
      await client.query(
        `update tiktok.raw_sections r set superseded_at = now(), superseded_run_id = $2
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

/** Merges every table in a fixed order (conversations before messages, profile before snapshots). */
export async function mergeAll(
  client: pg.ClientBase,
  staged: ReadonlyMap<string, number>,
  context: MergeContext,
): Promise<Record<string, TableCounts>> {
  const counts: Record<string, TableCounts> = {};
  for (const spec of Object.values(TABLE_SPECS)) {
    counts[spec.table] = await mergeTable(client, spec, staged.get(spec.table) ?? 0, context);
  }
  const snapshots = (staged.get('profile') ?? 0) > 0 ? await snapshotProfile(client, context) : 0;
  counts.profile_snapshots = { ...emptyCounts(), inserted: snapshots };
  counts.raw_sections = await mergeRawSections(client, staged.get('raw') ?? 0, context);
  return counts;
}
