/**
 * Exports in their own order. Every export repeats everything, but they do not always arrive in the
 * order TikTok made them: an old download imported after a newer sync, a folder of saved exports
 * imported in any order. Merged as they come, the last one committed would win: an older export
 * would mark the newer one's records removed and put back older values.
 *
 * So each archive records when TikTok made it (`tiktok_sync.archives.exported_at`), from the most
 * trusted source at hand, and which sections it held (`present_parts`). An export is merged as the
 * newest for the sections no newer stored export holds; for the others it only adds records never
 * seen (as removed: the newer export did not hold them), and changes nothing else — no removal, no
 * update with older values, no new current profile (merge.ts, `MergeContext.settled`).
 */
import type pg from 'pg';
import type { ExportTimeSource, PresentParts } from '../db/schema.js';
import { DAY } from '../duration.js';
import type { TableName } from '../parsers/records.js';
import type { MergeContext } from './merge.js';

export interface ExportTime {
  readonly at: Date;
  readonly source: ExportTimeSource;
}

/** TikTok's exports began in 2020; a member time before that, or in the future, is a zip tool's default. */
const PLAUSIBLE_FROM = Date.UTC(2019, 0, 1);
const FUTURE_SLACK_MS = DAY;

export interface ExportTimeClues {
  /** The data request's Check times, for a sync through the API (Unix seconds or dates). */
  readonly collectTime?: Date | null | undefined;
  readonly applyTime?: Date | null | undefined;
  /** The file name as given (`TikTok_Data_1764000000.zip`). */
  readonly fileName?: string | undefined;
  /** The newest time the archive's members carry (zip entries). */
  readonly newestMemberTime?: Date | undefined;
  readonly now: Date;
}

const plausible = (date: Date | null | undefined, now: Date): date is Date =>
  date instanceof Date &&
  Number.isFinite(date.getTime()) &&
  date.getTime() >= PLAUSIBLE_FROM &&
  date.getTime() <= now.getTime() + FUTURE_SLACK_MS;

/**
 * When TikTok made the export, from the most trusted clue at hand: Check's `collect_time`, then its
 * `apply_time`, then the `TikTok_Data_<unix seconds>.zip` name, then the members' newest time; else
 * the time of this import.
 */
export function exportTime(clues: ExportTimeClues): ExportTime {
  const { now } = clues;
  if (plausible(clues.collectTime, now)) return { at: clues.collectTime, source: 'collect_time' };
  if (plausible(clues.applyTime, now)) return { at: clues.applyTime, source: 'apply_time' };
  const named = /^TikTok_Data_(\d{9,11})(?: \(\d+\))?\.zip$/i.exec(clues.fileName ?? '');
  const fromName = named ? new Date(Number(named[1]) * 1000) : undefined;
  if (plausible(fromName, now)) return { at: fromName, source: 'file_name' };
  if (plausible(clues.newestMemberTime, now)) return { at: clues.newestMemberTime, source: 'member_times' };
  return { at: now, source: 'import_time' };
}

/** What an export held, as stored in `present_parts`: table → parts, and `raw_sections` → paths. */
export function presentParts(
  present: ReadonlyMap<TableName, ReadonlySet<string>>,
  rawPaths: readonly string[],
): PresentParts {
  const parts: PresentParts = {};
  for (const [table, set] of present) parts[table] = [...set].sort();
  if (rawPaths.length > 0) parts.raw_sections = [...rawPaths].sort();
  return parts;
}

/**
 * The parts of this export that an export made later, already stored for the account, holds too
 * (an archive stored before parts were recorded counts as holding every part), and when the
 * earliest of those later exports was made. Empty when this is the account's newest export.
 */
export async function settledByNewer(
  client: pg.ClientBase,
  accountId: string,
  archiveId: string,
  exportedAt: Date,
  present: ReadonlyMap<TableName, ReadonlySet<string>>,
  rawPaths: readonly string[],
): Promise<{ settled: Map<string, Set<string>>; nextExportedAt: Date | undefined }> {
  const newer = await client.query<{ present_parts: PresentParts | null; exported_at: Date }>(
    `select present_parts, exported_at from tiktok_sync.archives
     where account_id = $1 and archive_id <> $2 and exported_at > $3
     order by exported_at`,
    [accountId, archiveId, exportedAt],
  );
  const settled = new Map<string, Set<string>>();
  const add = (table: string, part: string) => {
    const set = settled.get(table) ?? new Set<string>();
    set.add(part);
    settled.set(table, set);
  };
  for (const { present_parts: parts } of newer.rows) {
    for (const [table, own] of present) {
      for (const part of own) if (parts === null || parts[table]?.includes(part)) add(table, part);
    }
    for (const path of rawPaths)
      if (parts === null || parts.raw_sections?.includes(path)) add('raw_sections', path);
  }
  return { settled, nextExportedAt: newer.rows[0]?.exported_at };
}

/** The parts of `table` this export holds that a newer stored export holds too. */
export function settledParts(context: Pick<MergeContext, 'settled' | 'present'>, table: string): string[] {
  const settled = context.settled?.get(table);
  if (!settled || settled.size === 0) return [];
  const present = context.present.get(table as TableName);
  return [...settled].filter((p) => present?.has(p) ?? table === 'raw_sections');
}
