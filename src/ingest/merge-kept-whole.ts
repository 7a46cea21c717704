/**
 * The merge of what an export holds that is kept whole rather than as rows of a table: sections
 * without a table (`tiktok_private.raw_sections`) and records nothing identifies
 * (`tiktok_private.refused_records`). Part of the merge of src/ingest/merge.ts.
 */
import type pg from 'pg';
import { emptyCounts, type TableCounts } from '../db/schema.js';
import { settledParts } from './export-order.js';
import type { MergeContext } from './merge.js';
import { stageTable } from './tables.js';

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
  // Paths a newer stored export holds: their current content is that export's (see MergeContext.settled).
  const settled = settledParts(context, 'raw_sections');
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
         and r.superseded_at is not null and not (r.path = any($2::text[]))`,
        [context.accountId, settled],
      )
    ).rowCount ?? 0;
  counts.inserted =
    (
      await client.query(
        `insert into tiktok_private.raw_sections (account_id, path, content_hash, content, first_seen_run_id, first_seen_archive_id, superseded_at, superseded_run_id)
       select $1, k.path, k.content_hash, k.content, $2, $3,
         case when k.path = any($4::text[]) then now() end, case when k.path = any($4::text[]) then $2::bigint end
       from pg_temp.keyed_raw k
       where not exists (
         select 1 from tiktok_private.raw_sections r
         where r.account_id = $1 and r.path = k.path and r.content_hash = k.content_hash
       )`,
        [...params, context.archiveId, settled],
      )
    ).rowCount ?? 0;
  counts.removed =
    (
      await client.query(
        `update tiktok_private.raw_sections r set superseded_at = now(), superseded_run_id = $2
       where r.account_id = $1 and r.superseded_at is null
         and r.path in (select path from pg_temp.keyed_raw) and not (r.path = any($3::text[]))
         and not exists (
           select 1 from pg_temp.keyed_raw k where k.path = r.path and k.content_hash = r.content_hash
         )`,
        [...params, settled],
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
