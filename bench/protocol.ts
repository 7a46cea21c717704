/**
 * What the orchestrator (run.ts) asks of a phase child (phase.ts), and what the child answers: one
 * line on stdout, `RESULT_MARKER` followed by a {@link PhaseOutcome} as JSON.
 */

export const RESULT_MARKER = 'BENCH_RESULT ';

/** application_name of the phase children's connections, so the orchestrator can wait for them to go. */
export const BENCH_APPLICATION = 'tiktok-sync-bench';

export type ChildPhase =
  | 'generate'
  | 'rezip'
  | 'parse'
  | 'copy-setup'
  | 'copy'
  | 'import'
  | 'naive'
  | 'naive-same'
  | 'accounts';

export interface GenerateRequest {
  phase: 'generate';
  /** `scale` of the synthetic user: about this many records in the export. */
  records: number;
  seed: number;
  /** A next export of the same user: ~1 % new records and ~0.5 % of the old ones removed. */
  delta: boolean;
  zipPath: string;
}

export interface RezipRequest {
  phase: 'rezip';
  /** A generated archive, with its metadata next to it. */
  sourceZip: string;
  zipPath: string;
}

export interface ParseRequest {
  phase: 'parse';
  zipPath: string;
}

export interface CopySetupRequest {
  phase: 'copy-setup';
  zipPath: string;
  databaseUrl: string;
  /** Directory for one COPY text file per table and a manifest. */
  outDir: string;
}

export interface CopyRequest {
  phase: 'copy';
  databaseUrl: string;
  outDir: string;
}

export interface ImportRequest {
  phase: 'import';
  zipPath: string;
  databaseUrl: string;
  /**
   * Under `--cpu-prof`: where to write the source maps of the loaded TypeScript modules, so the
   * profile's locations can be mapped back to source lines.
   */
  sourceMapsFile?: string;
}

export interface NaiveRequest {
  phase: 'naive';
  zipPath: string;
  databaseUrl: string;
}

export interface NaiveSameRequest {
  phase: 'naive-same';
  zipPath: string;
  databaseUrl: string;
}

export interface AccountsRequest {
  phase: 'accounts';
  /** One export per account, imported as accounts `bench-1`, `bench-2`… */
  zipPaths: string[];
  databaseUrl: string;
  /** All at once (`Promise.all`, as the daemon runs `sync.concurrency` accounts), else one after another. */
  concurrent: boolean;
}

export type PhaseRequest =
  | GenerateRequest
  | RezipRequest
  | ParseRequest
  | CopySetupRequest
  | CopyRequest
  | ImportRequest
  | NaiveRequest
  | NaiveSameRequest
  | AccountsRequest;

/** What a child measured. Times in milliseconds, memory in MiB. */
export interface PhaseOutcome {
  ok: boolean;
  /** Records (or rows) the phase handled. */
  records: number;
  /** Around the work only: process start, module loading and connecting are excluded. */
  wallMs: number;
  /** `process.resourceUsage().maxRSS` at the end of the work. */
  peakRssMb: number;
  /** CPU of the Node process (all threads: inflate runs in libuv's pool) during the work. */
  nodeCpuMs: number;
  /** CPU of the Postgres backends that served the phase, when /proc shows them (same machine). */
  pgCpuMs: number | null;
  /** CPU used by every process of the machine during the work: the rest is other load (noise). */
  machineCpuMs: number | null;
  /** RSS once the modules are loaded, before the work: the floor under `peakRssMb`. */
  startRssMb: number;
  /** `process.hrtime` (µs) when the work started and ended, to cut a CPU profile to the work. */
  windowUs: [number, number];
  /** Anything else the phase reports (stage timings, counts, generation stats…). */
  details: Record<string, unknown>;
  /** Why it failed, for a phase that caught its own failure. */
  error?: { code: string; message: string };
}
