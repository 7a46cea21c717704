/**
 * The removal guard. An export can be valid in form and wrong in content: all its values null, a
 * section cut short, another person's data. Merged, it would mark most of the stored records
 * removed and overwrite what was set with nothing. So, before the import commits, it is checked:
 * when it would mark more than `maxRemovedShare` of a section's current records removed (for
 * sections of at least `minRecords`), or empty a section that had that many while the export holds
 * the section, or empty stored records (half or more of their set fields made null), the import
 * stops with a sentence naming the sections and the counts, and nothing of it is stored. Records
 * older than everything the export reaches back to have aged out of TikTok's retention (its watch
 * history covers months, not years): they are marked removed as always, but do not count here.
 *
 * `--accept-removals` (or `sync.accounts.<name>.acceptRemovals`) lets such an export through; an
 * account's first import is never held (there is nothing to lose).
 */
import type pg from 'pg';
import type { TableCounts } from '../db/schema.js';
import { ArchiveError } from '../errors.js';
import type { MergeContext, MergeFacts } from './merge.js';
import { TABLE_SPECS, targetTable } from './tables.js';

/** The code of the error that holds an export back; the daemon shows the account as needing attention. */
export const REMOVAL_GUARD_CODE = 'export_removal_guard';

export interface RemovalGuard {
  /** Share (0 to 1) of a section's current records an export may mark removed. Default 0.5. */
  readonly maxRemovedShare: number;
  /** Sections with fewer current records are not held for their removals. Default 10. */
  readonly minRecords: number;
}

export const DEFAULT_REMOVAL_GUARD: RemovalGuard = Object.freeze({ maxRemovedShare: 0.5, minRecords: 10 });

export interface GuardFinding {
  readonly table: string;
  /** The section's current records before this export. */
  readonly before: number;
  /** Records marked removed that had not aged out. */
  readonly removed: number;
  readonly emptied: number;
  readonly reason: 'share' | 'emptied_section' | 'emptied_records';
}

/**
 * What would be held back, per table; empty when the export may be stored. `agedOut(table)` says
 * how many of a table's removals are records older than the export reaches back to; it is asked
 * only of tables that would be held back otherwise.
 */
export async function guardFindings(
  counts: Readonly<Record<string, TableCounts>>,
  facts: Readonly<Record<string, MergeFacts>>,
  guard: RemovalGuard,
  agedOut: (table: string) => Promise<number>,
): Promise<GuardFinding[]> {
  const findings: GuardFinding[] = [];
  for (const [table, fact] of Object.entries(facts)) {
    const count = counts[table];
    if (count === undefined) continue;
    // After the merge, the parts this export is the newest of hold exactly its records.
    const before = fact.current - fact.insertedCurrent - count.restored + count.removed;
    const removals = (removed: number): GuardFinding['reason'] | undefined => {
      if (before < guard.minRecords || removed === 0) return undefined;
      if (fact.current === 0 && removed === count.removed) return 'emptied_section';
      return removed > guard.maxRemovedShare * before ? 'share' : undefined;
    };
    let removed = count.removed;
    let reason = removals(removed);
    if (reason !== undefined) {
      removed -= await agedOut(table);
      reason = removals(removed);
    }
    if (reason === undefined && fact.emptied > guard.maxRemovedShare * Math.max(before, 1)) {
      reason = 'emptied_records';
    }
    if (reason !== undefined) findings.push({ table, before, removed, emptied: fact.emptied, reason });
  }
  return findings;
}

function describe(finding: GuardFinding): string {
  const { table, before, removed, emptied } = finding;
  switch (finding.reason) {
    case 'emptied_section':
      return `${table}: all ${before} records removed`;
    case 'share':
      return `${table}: ${removed} of ${before} records removed (${Math.round((100 * removed) / before)} %)`;
    case 'emptied_records':
      return `${table}: ${emptied} of ${before} record${before === 1 ? '' : 's'} emptied (set fields made null)`;
  }
}

/**
 * The error that holds an export back: names the sections and counts, says nothing was stored, and
 * how to store it anyway once it has been checked.
 */
export function removalGuardError(
  findings: readonly GuardFinding[],
  guard: RemovalGuard,
  accountName: string,
): ArchiveError {
  const removed = findings.reduce((sum, f) => sum + f.removed, 0);
  const before = findings.reduce((sum, f) => sum + f.before, 0);
  return new ArchiveError(
    REMOVAL_GUARD_CODE,
    `This export of account \`${accountName}\` would ${removed > 0 ? `mark ${removed} of ${before} stored records removed` : 'empty stored records'} — ${findings.map(describe).join('; ')} — more than the removal guard allows (${Math.round(guard.maxRemovedShare * 100)} % of a section, archive.maxRemovedShare). It looks damaged, cut short or not this account's, so nothing of it was stored. If it is right, import it again with --accept-removals (or set sync.accounts.${accountName}.acceptRemovals for the daemon).`,
    { details: { findings: findings.map((f) => ({ ...f })), maxRemovedShare: guard.maxRemovedShare } },
  );
}

/**
 * Holds the export back, before commit, when the guard finds it removes or empties too much
 * (see {@link guardFindings}); throws the error that says so.
 */
export async function checkRemovalGuard(
  client: pg.ClientBase,
  merge: {
    readonly context: MergeContext;
    readonly counts: Readonly<Record<string, TableCounts>>;
    readonly facts: Readonly<Record<string, MergeFacts>>;
  },
  guard: RemovalGuard,
  accountName: string,
): Promise<void> {
  const findings = await guardFindings(merge.counts, merge.facts, guard, (table) =>
    agedOut(client, merge.context, table),
  );
  if (findings.length > 0) throw removalGuardError(findings, guard, accountName);
}

/**
 * Removals this run made in `table` of records that aged out of TikTok's retention window (the
 * merge's `removed_reason`, src/ingest/merge.ts): they are not the export's doing.
 */
async function agedOut(client: pg.ClientBase, context: MergeContext, table: string): Promise<number> {
  const spec = TABLE_SPECS[table as keyof typeof TABLE_SPECS];
  if (spec === undefined) return 0;
  const { rows } = await client.query<{ n: number }>(
    `select count(*)::int as n from ${targetTable(spec)}
     where account_id = $1 and removed_run_id = $2 and removed_reason = 'aged_out'`,
    [context.accountId, context.runId],
  );
  return rows[0]!.n;
}
