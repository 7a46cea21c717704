import type { TableName } from '../parsers/records.js';
import { DAY } from './clock.js';
import type { Cursor, Sequence } from './sequence.js';
import { walk } from './sequence.js';
import type { SyntheticUser } from './user.js';

export type Era = '2021-2023' | '2025' | '2026';
export type ExportFormat = 'json' | 'txt';
/** The Data Portability API's `category_selection_list` values. */
export type Category = 'activity' | 'video' | 'profile' | 'direct_message' | 'all_data';

export const ERAS: readonly Era[] = ['2021-2023', '2025', '2026'];
export const CATEGORIES: readonly Category[] = ['activity', 'video', 'profile', 'direct_message', 'all_data'];

/** Tables trimmed by `retentionDays` unless told otherwise: the append-only activity logs. */
export const DEFAULT_RETENTION_TABLES: readonly TableName[] = [
  'watch_history',
  'searches',
  'shares',
  'logins',
];

export interface RenderOptions {
  era: Era;
  format: ExportFormat;
  /** Which categories the export holds; default (and `all_data`): everything. */
  categories?: readonly Category[];
  /**
   * Render only records of the last `retentionDays` days in `retentionTables`, as TikTok keeps limited
   * history: older rows disappear from the export although they happened.
   */
  retentionDays?: number;
  retentionTables?: readonly TableName[];
}

/** Rendering state shared by the layouts: what to include, and the per-table row counts so far. */
export class RenderContext {
  readonly activity: boolean;
  readonly video: boolean;
  readonly profile: boolean;
  readonly dm: boolean;
  /** Everything else that only a full (`all_data`) archive holds. */
  readonly all: boolean;
  readonly counts: Partial<Record<TableName, number>> = {};
  private readonly cutoff: Partial<Record<TableName, number>> = {};

  constructor(
    readonly user: SyntheticUser,
    readonly options: RenderOptions,
  ) {
    const cats = new Set<Category>(options.categories?.length ? options.categories : ['all_data']);
    this.all = cats.has('all_data');
    this.activity = this.all || cats.has('activity');
    this.video = this.all || cats.has('video');
    this.profile = this.all || cats.has('profile');
    this.dm = this.all || cats.has('direct_message');
    if (options.retentionDays !== undefined) {
      const since = user.now - Math.round(options.retentionDays * DAY);
      for (const t of options.retentionTables ?? DEFAULT_RETENTION_TABLES) this.cutoff[t] = since;
    }
  }

  get era(): Era {
    return this.options.era;
  }

  /** Marks a table's section as present (its count is reported even when 0). */
  present(table: TableName): void {
    this.counts[table] ??= 0;
  }

  add(table: TableName, n = 1): void {
    this.counts[table] = (this.counts[table] ?? 0) + n;
  }

  /**
   * Items of `seq` newest first (or oldest first), counted into `table` and cut at the table's
   * retention cutoff.
   */
  *items<T extends object>(
    table: TableName | null,
    seq: Sequence,
    make: (c: Cursor) => T,
    order: 'desc' | 'asc' = 'desc',
  ): Generator<T> {
    const since = table ? this.cutoff[table] : undefined;
    for (const c of walk(seq, order)) {
      const item = make(c);
      const ts = (item as { ts?: unknown }).ts;
      if (since !== undefined && typeof ts === 'number' && ts < since) {
        if (order === 'desc') return;
        continue;
      }
      if (table) this.add(table);
      yield item;
    }
  }
}
