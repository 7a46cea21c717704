/** The shape of one benchmark run's results, as printed and as written to bench/out/last.json. */

export interface PhaseRow {
  /**
   * parse, copy, import, reimport, delta, naive, naive-same-schema, accounts sequential, accounts
   * concurrent, scale 1×…, huge import, huge naive.
   */
  phase: string;
  /** Records in the archive (or rows loaded, for copy). */
  records: number;
  ok: boolean;
  /** Why the phase failed or was skipped. */
  failure?: string;
  /** Inside the child, around the work. */
  wallS: number;
  perSecond: number;
  peakRssMb: number;
  /** Spawn to exit. */
  processS: number;
  nodeCpuS: number | null;
  pgCpuS: number | null;
  /** Share of all cores used by other processes while the phase worked (noise; see docs/performance.md). */
  otherCpuPct: number | null;
  /** RSS of the child once its modules were loaded, before the work. */
  startRssMb: number;
  /** Tuples inserted + updated + deleted in the data tables (pg_stat_user_tables) by this phase. */
  tupleWrites: number | null;
  /** `shared with import` when a scaling point reuses the import measurement. */
  note?: string;
  details: Record<string, unknown>;
}

export interface TargetCheck {
  /** The number of the target the check belongs to (several checks may make one target). */
  id: string;
  name: string;
  /** null when a phase it needs did not run. */
  holds: boolean | null;
  text: string;
}

export interface Machine {
  date: string;
  cores: number;
  cpuModel: string;
  memoryGb: number;
  node: string;
  postgres: string;
  postgresSettings: Record<string, string>;
  platform: string;
}

export interface BenchResults {
  machine: Machine;
  options: Record<string, unknown>;
  archives: Record<string, { records: number; zipMb: number; jsonMb: number; reused: boolean }>;
  phases: PhaseRow[];
  targets: TargetCheck[];
  profile?: unknown;
  totalS: number;
}
