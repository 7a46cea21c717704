import type pg from 'pg';
import { emptyCounts, type TableCounts } from '../db/schema.js';
import { ArchiveError } from '../errors.js';
import type { TableName } from '../parsers/records.js';
import { settledParts } from './export-order.js';
import { mergeRawSections, mergeRefused } from './merge-kept-whole.js';
import { GONE_TABLE, type ProfileCounts, type Stager, type TableIntake } from './stage.js';
import {
  type ColumnSpec,
  ownColumns,
  stageTable,
  TABLE_SPECS,
  type TableSpec,
  targetTable,
} from './tables.js';

export { emptyCounts } from '../db/schema.js';
export { mergeRawSections, mergeRefused } from './merge-kept-whole.js';

/** What the merge of one archive needs to know. */
export interface MergeContext {
  accountId: string;
  runId: string;
  archiveId: string;
  /** Per table, the parts (sub-kinds) that the archive contained, even when empty. */
  present: ReadonlyMap<TableName, ReadonlySet<string>>;
  /**
   * Per table (and `raw_sections`: paths), the parts this archive holds that an export made later
   * by TikTok, already stored, holds too (export-order.ts): there the stored rows are the newer
   * export's, so this one only adds records never seen, as removed (the newer export did not hold
   * them), and changes nothing else. Empty or absent: this is the newest export of every part.
   */
  settled?: ReadonlyMap<string, ReadonlySet<string>> | undefined;
  /**
   * When TikTok made this export (export-order.ts): the time of the removals it finds (the first
   * export without a record), and the order of the profile snapshots. Absent: the time of the merge.
   */
  exportedAt?: Date | undefined;
  /**
   * When TikTok made the earliest stored export newer than this one, if any: the removal time of the
   * records this older export adds as already removed (that newer export was the first without them).
   */
  nextExportedAt?: Date | undefined;
}

/** What the removal guard (removal-guard.ts) needs of one table's merge, beyond its counts. */
export interface MergeFacts {
  /** Records the export holds of the parts it is the newest of: the table's current records after it. */
  current: number;
  /** Records inserted as current (not as already removed, see {@link MergeContext.settled}). */
  insertedCurrent: number;
  /** Stored records that the update emptied: half or more of their set fields became null. */
  emptied: number;
}

interface MergeStatements {
  /** Numbers the staged rows whose occurrence the first pass left open (stage.ts). */
  number: string;
  analyze: string;
  /** Per settled part, the oldest current record: what a newer export's removal judged against. */
  settledHorizons: string | undefined;
  /** Marks removed the records of settled parts that the first pass inserted as current. */
  settleDirect: string;
  restore: string;
  update: string;
  refresh: string;
  insert: string;
  remove: string;
}

const statementCache = new Map<string, MergeStatements>();

/**
 * Builds the set-based merge of one table from its spec, over its staging table, which holds only
 * what the first pass (stage.ts) could not settle alone: changed rows, removed rows that are back,
 * and new keys this export may repeat. Records new to the account were inserted by that pass, and
 * unchanged ones were never sent: an unchanged re-import writes no tuple.
 *
 * 1. number: staged rows of a new key the export repeats get occurrence numbers in file order, after
 *    the one the first pass inserted, if it did.
 * 2. restore: rows marked removed that the export contains again.
 * 3. update: rows whose row hash differs (volatile columns are stored but not hashed); it counts
 *    the rows it empties, for the removal guard.
 * 4. insert: rows not yet stored.
 * 5. remove: the stored rows of the parts present in this export that it no longer contains (their
 *    keys, from the first pass, in `stage_gone`).
 *
 * `$3` is the parts settled by a newer export (see {@link MergeContext.settled}): restore and update
 * leave them alone (refresh brings newer values to their removed rows), insert adds their new rows
 * as removed (settleDirect marks so the ones the first pass inserted), and remove is not run for them.
 */
export function mergeStatements(spec: TableSpec, target = targetTable(spec)): MergeStatements {
  const cached = statementCache.get(target);
  if (cached) return cached;

  const stage = stageTable(spec.table);
  const part = spec.partColumn;
  const typed = (c: ColumnSpec) => (c.type === 'text' ? `k.${c.name}` : `k.${c.name}::${c.type}`);
  const match = 't.account_id = $1 and t.record_key = k.record_key and t.occurrence = k.occurrence';
  const assign = [...spec.columns.map((c) => `${c.name} = ${typed(c)}`), 'row_hash = k.row_hash'].join(', ');
  const ownValues = [...(part ? ['k.part'] : []), ...spec.columns.map(typed)];
  const storedPart = part ? `t.${part}` : "''";
  const time = spec.timeColumn;
  const stagedPart = part ? 'k.part' : "''";
  // Why a record is removed: withdrawn, or aged out of TikTok's retention, as judged against the
  // oldest record its part holds ($5 parts, $6 times). For a removal, the oldest of this export (from
  // the first pass); for a record only an older export held, the oldest the part still holds, i.e.
  // the newer export's (as its own removal would have judged it), read once per table
  // ({@link settledHorizons}). Null for a table without a time, or a record without one.
  const removalReason = (recordTime: string | undefined, recordPart: string) =>
    recordTime
      ? `(select case
        when ${recordTime} >= h.oldest then 'withdrawn'
        when ${recordTime} < h.oldest then 'aged_out' end
      from unnest($5::text[], $6::timestamptz[]) as h(part, oldest) where h.part = ${recordPart})`
      : 'null';
  const open = `not (${storedPart} = any($3::text[]))`;
  const settledNew = `${stagedPart} = any($3::text[])`;
  // The fields whose loss empties a record: what the export says of it, not our own bookkeeping.
  const fields = spec.columns.filter((c) => c.name !== 'extra' && !spec.volatile.includes(c.name));
  const lost = fields.length
    ? fields.map((c) => `(o.${c.name} is not null and k.${c.name} is null)::int`).join(' + ')
    : '0';
  const set = fields.length ? `num_nonnulls(${fields.map((c) => `o.${c.name}`).join(', ')})` : '0';

  const statements: MergeStatements = {
    // A new key's first record went to the stored table unless the filter took it for a repeat.
    number: `
      update ${stage} s set occurrence = d.n
      from (
        select ctid as id, row_number() over (partition by record_key order by ctid)::integer
          + (exists (select 1 from ${target} t where t.account_id = $1 and t.record_key = k.record_key and t.occurrence = 1))::integer as n
        from ${stage} k
        where occurrence is null
      ) d
      where s.ctid = d.id`,
    analyze: `analyze ${stage}`,
    settledHorizons: time
      ? `select ${storedPart} as part, min(t.${time}) as oldest from ${target} t
         where t.account_id = $1 and t.removed_at is null and ${storedPart} = any($2::text[])
           and t.first_seen_run_id <> $3 group by 1`
      : undefined,
    settleDirect: `
      update ${target} t set removed_at = $4, removed_run_id = $2,
        removed_reason = ${removalReason(time && `t.${time}`, storedPart)}
      where t.account_id = $1 and t.first_seen_run_id = $2 and t.removed_at is null
        and ${storedPart} = any($3::text[])`,
    restore: `
      update ${target} t set ${assign},
        removed_at = null, removed_run_id = null, removed_reason = null, updated_at = now(), updated_run_id = $2
      from ${stage} k
      where ${match} and t.removed_at is not null and ${open}`,
    // `o` is the row as it was before this statement (same row, by ctid), to tell what was lost.
    update: `
      with u as (
        update ${target} t set ${assign}, updated_at = now(), updated_run_id = $2
        from ${stage} k, ${target} o
        where ${match} and t.removed_at is null and t.row_hash <> k.row_hash and ${open}
          and o.ctid = t.ctid
        returning (${lost}) as lost, ${set} as was_set
      )
      select count(*)::int as updated,
        (count(*) filter (where lost > 0 and lost * 2 >= was_set))::int as emptied
      from u`,
    // In the parts a newer export holds: a removed row takes this export's values when they are
    // newer than the ones it has (those of the export that last set them), as in TikTok's order.
    refresh: `
      update ${target} t set ${assign}, updated_at = now(), updated_run_id = $2
      from ${stage} k
      where ${match} and t.removed_at is not null and t.row_hash <> k.row_hash and not ${open}
        and coalesce((
          select a.exported_at from tiktok_sync.sync_runs r
          join tiktok_sync.archives a on a.archive_id = r.archive_id
          where r.run_id = coalesce(t.updated_run_id, t.first_seen_run_id)
        ), '-infinity') < $4`,
    insert: `
      with i as (
        insert into ${target} (account_id, record_key, occurrence, row_hash, ${ownColumns(spec).join(', ')}, first_seen_run_id, removed_at, removed_run_id, removed_reason)
        select $1, k.record_key, k.occurrence, k.row_hash, ${ownValues.join(', ')}, $2,
          case when ${settledNew} then $4::timestamptz end, case when ${settledNew} then $2::bigint end,
          case when ${settledNew} then ${removalReason(time && `k.${time}::timestamptz`, stagedPart)} end
        from ${stage} k
        where not exists (select 1 from ${target} t where ${match})
        returning removed_at is null as current
      )
      select count(*)::int as inserted, (count(*) filter (where current))::int as current from i`,
    // A removal is dated by the export ($3) and says why: a record younger than the oldest one its
    // section (part) still holds was withdrawn; an older one aged out of TikTok's retention window.
    remove: `
      update ${target} t set removed_at = $3, removed_run_id = $2,
        removed_reason = ${removalReason(time && `t.${time}`, storedPart)}
      from ${GONE_TABLE} g
      where g.table_name = '${spec.table}' and t.account_id = $1 and t.removed_at is null
        and t.record_key = g.record_key and t.occurrence = g.occurrence
        and ${storedPart} = any($4::text[])`,
  };
  statementCache.set(target, statements);
  return statements;
}

/**
 * Analyzes a stored table that has never been: the first pass loads a first import with COPY and
 * leaves statistics to autovacuum, and a merge or removal planned before it runs would take a table
 * of a million rows for a tiny one (a nested loop scanning the staged rows once per stored row).
 * Once analyzed, Postgres scales the statistics with the table's size, so this runs once per table.
 */
async function ensureStatistics(client: pg.ClientBase, target: string): Promise<void> {
  const { rows } = await client.query<{ reltuples: number }>(
    'select reltuples from pg_class where oid = $1::regclass',
    [target],
  );
  if ((rows[0]?.reltuples ?? 0) < 0) await client.query(`analyze ${target}`);
}

/**
 * Merges one table's staged rows into its target (the stored table, or a shadow copy of it that
 * reprocess replays archives into): restores, updates and inserts; removals are {@link reconcileTable}'s.
 */
export async function mergeTable(
  client: pg.ClientBase,
  spec: TableSpec,
  intake: TableIntake,
  context: MergeContext,
  target = targetTable(spec),
): Promise<TableCounts & { facts: MergeFacts }> {
  const counts = { ...emptyCounts(), facts: { current: 0, insertedCurrent: 0, emptied: 0 } };
  if (intake.records === 0) return counts;
  const sql = mergeStatements(spec, target);
  const settled = settledParts(context, spec.table);
  const params = [context.accountId, context.runId, settled];
  const settledRecords = settled.reduce((sum, p) => sum + (intake.partRecords.get(p) ?? 0), 0);
  const removedBefore = context.nextExportedAt ?? context.exportedAt ?? new Date();
  const horizons =
    settled.length > 0 && sql.settledHorizons
      ? (
          await client.query<{ part: string; oldest: Date | null }>(sql.settledHorizons, [
            context.accountId,
            settled,
            context.runId,
          ])
        ).rows
      : [];
  // Tables without a time have no horizon, and their statements no $5 and $6.
  const horizonParams = sql.settledHorizons
    ? [horizons.map((h) => h.part), horizons.map((h) => h.oldest)]
    : [];
  counts.inserted = intake.direct;
  let insertedCurrent = intake.direct;
  if (settled.length > 0 && intake.direct > 0) {
    const settledDirect = await client.query(sql.settleDirect, [...params, removedBefore, ...horizonParams]);
    insertedCurrent -= settledDirect.rowCount ?? 0;
  }
  let emptied = 0;
  if (intake.staged > 0) {
    await ensureStatistics(client, target);
    if (intake.unnumbered > 0) await client.query(sql.number, [context.accountId]);
    // Temporary tables have no statistics until analyzed; without them the planner picks nested loops.
    await client.query(sql.analyze);
    counts.restored = (await client.query(sql.restore, params)).rowCount ?? 0;
    const updated = (await client.query<{ updated: number; emptied: number }>(sql.update, params)).rows[0]!;
    counts.updated = updated.updated;
    emptied = updated.emptied;
    if (settled.length > 0) {
      const refreshParams = [...params, context.exportedAt ?? new Date()];
      counts.updated += (await client.query(sql.refresh, refreshParams)).rowCount ?? 0;
    }
    const inserted = (
      await client.query<{ inserted: number; current: number }>(sql.insert, [
        ...params,
        removedBefore,
        ...horizonParams,
      ])
    ).rows[0]!;
    counts.inserted += inserted.inserted;
    insertedCurrent += inserted.current;
  }
  counts.unchanged = intake.records - counts.inserted - counts.updated - counts.restored;
  counts.facts = { current: intake.records - settledRecords, insertedCurrent, emptied };
  return counts;
}

/**
 * Marks removed the stored rows of the parts (sub-kinds) the export contains that it no longer
 * holds; returns how many. A part the export does not contain at all is left alone: a missing
 * section says nothing about its records; nor is a part a newer stored export holds.
 */
export async function reconcileTable(
  client: pg.ClientBase,
  spec: TableSpec,
  intake: TableIntake,
  context: MergeContext,
  target = targetTable(spec),
): Promise<number> {
  const present = context.present.get(spec.table);
  if (!present || intake.gone === 0) return 0;
  const settled = new Set(settledParts(context, spec.table));
  const parts = [...present].filter((p) => !settled.has(p));
  if (parts.length === 0) return 0;
  const removedAt = context.exportedAt ?? new Date();
  const sql = mergeStatements(spec, target);
  await ensureStatistics(client, target);
  const oldest = [...intake.oldest];
  const params = [
    context.accountId,
    context.runId,
    removedAt,
    parts,
    ...(spec.timeColumn ? [oldest.map(([p]) => p), oldest.map(([, t]) => t)] : []),
  ];
  return (await client.query(sql.remove, params)).rowCount ?? 0;
}

/**
 * Records follower/following/likes counts when they differ from the snapshot before them in the
 * order TikTok made the exports; a snapshot right after that now repeats the same counts is dropped,
 * so the series is the same whatever order the exports were imported in.
 */
export async function snapshotProfile(
  client: pg.ClientBase,
  context: MergeContext,
  profile: ProfileCounts,
): Promise<number> {
  const params = [context.accountId, context.runId, context.archiveId, context.exportedAt ?? new Date()];
  const counts = '(s.follower_count, s.following_count, s.likes_received)';
  const result = await client.query(
    `insert into tiktok.profile_snapshots (account_id, archive_id, run_id, exported_at, follower_count, following_count, likes_received)
     select $1, $3, $2, $4, k.follower_count, k.following_count, k.likes_received
     from (select $5::bigint as follower_count, $6::bigint as following_count, $7::bigint as likes_received) k
     where not exists (
       select 1 from (
         select * from tiktok.profile_snapshots s where s.account_id = $1 and s.exported_at <= $4
         order by s.exported_at desc, s.archive_id desc limit 1
       ) s
       where ${counts} is not distinct from (k.follower_count, k.following_count, k.likes_received)
     )
     on conflict do nothing`,
    [...params, profile.follower_count, profile.following_count, profile.likes_received],
  );
  const inserted = result.rowCount ?? 0;
  if (inserted > 0) {
    await client.query(
      `delete from tiktok.profile_snapshots s
       using (
         select archive_id from tiktok.profile_snapshots
         where account_id = $1 and exported_at > $2 order by exported_at, archive_id limit 1
       ) next, tiktok.profile_snapshots n
       where s.account_id = $1 and s.archive_id = next.archive_id
         and n.account_id = $1 and n.archive_id = $3
         and ${counts} is not distinct from (n.follower_count, n.following_count, n.likes_received)`,
      [context.accountId, params[3], context.archiveId],
    );
  }
  return inserted;
}

/**
 * Merges every table in a fixed order (conversations before messages, profile before snapshots);
 * {@link reconcileAll} then marks what left the export.
 */
export async function mergeAll(
  client: pg.ClientBase,
  stager: Stager,
  context: MergeContext,
): Promise<{ counts: Record<string, TableCounts>; facts: Record<string, MergeFacts> }> {
  const counts: Record<string, TableCounts> = {};
  const facts: Record<string, MergeFacts> = {};
  // The merge analyzes staging tables (and grown targets) to get sane plans; a small sample is enough.
  // JIT compilation costs more than it saves on these short, many statements.
  await client.query('set local default_statistics_target = 20; set local jit = off');
  let table = '';
  try {
    for (const spec of Object.values(TABLE_SPECS)) {
      table = spec.table;
      const { facts: tableFacts, ...tableCounts } = await mergeTable(
        client,
        spec,
        stager.intake(spec.table),
        context,
      );
      counts[spec.table] = tableCounts;
      facts[spec.table] = tableFacts;
    }
    table = 'profile_snapshots';
    const snapshots = stager.profile ? await snapshotProfile(client, context, stager.profile) : 0;
    counts.profile_snapshots = { ...emptyCounts(), inserted: snapshots };
    table = 'raw_sections';
    counts.raw_sections = await mergeRawSections(client, stager.staged.get('raw') ?? 0, context);
    table = 'refused_records';
    counts.refused_records = await mergeRefused(client, stager.staged.get('refused') ?? 0, context);
  } catch (error) {
    throw refusedValue(error, table);
  }
  return { counts, facts };
}

/** Marks removed, in every table, the stored records of the export's sections that it no longer holds. */
export async function reconcileAll(
  client: pg.ClientBase,
  stager: Stager,
  context: MergeContext,
  counts: Record<string, TableCounts>,
): Promise<void> {
  for (const spec of Object.values(TABLE_SPECS)) {
    const removed = await reconcileTable(client, spec, stager.intake(spec.table), context);
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
    `Postgres refused a value of the export while storing it in \`${table}\` (${(error as Error).message}; SQLSTATE ${code}); nothing of the archive was stored. The export looks damaged: download it again.`,
    { cause: error, details: { table, sqlstate: code } },
  );
}
