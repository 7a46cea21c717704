/**
 * The stages of a sync, in order. A sync through the API runs all of them; the import of a local
 * export enters at `unpack`. Each stage's time is kept in the run record (`sync_runs.stage_timings`)
 * and in the metrics; the stage a run is in is `sync_runs.stage` (so a failed run says where it
 * stopped).
 *
 * - request: resume the account's data request in flight, or Add one
 * - wait: Check until TikTok has prepared the data (polling with backoff, or woken by the webhook)
 * - download: the zip, resumably, to a temporary file
 * - unpack: identify the export (SHA-256) and open it (zip, folder or file)
 * - parse: stream every member through the parsers into staging tables (COPY)
 * - merge: new and changed records into the data tables, unmodeled sections, refused records
 * - reconcile: records that left the export are marked removed (never deleted)
 * - record: commit, and write the outcome in the run record
 */
export const SYNC_STAGES = [
  'request',
  'wait',
  'download',
  'unpack',
  'parse',
  'merge',
  'reconcile',
  'record',
] as const;

export type SyncStage = (typeof SYNC_STAGES)[number];

/** The stages of an import of an export already on disk. */
export type ImportStage = Extract<SyncStage, 'unpack' | 'parse' | 'merge' | 'reconcile' | 'record'>;

/** Milliseconds per stage that ran. */
export type StageTimings = Partial<Record<SyncStage, number>>;

/**
 * Runs stages one after the other, timing each (a stage entered twice, like `wait` after a request
 * expired, adds up) and telling `onEnter` which stage starts.
 */
export class StageRunner<S extends SyncStage = SyncStage> {
  readonly timings: StageTimings = {};
  #current: S | undefined;

  constructor(
    private readonly now: () => number = () => performance.now(),
    private readonly onEnter?: (stage: S) => Promise<void>,
  ) {}

  /** The stage running, or the last one that ran. */
  get current(): S | undefined {
    return this.#current;
  }

  async run<T>(stage: S, work: () => Promise<T>): Promise<T> {
    this.#current = stage;
    await this.onEnter?.(stage);
    const started = this.now();
    try {
      return await work();
    } finally {
      this.timings[stage] = (this.timings[stage] ?? 0) + Math.round(this.now() - started);
    }
  }
}
