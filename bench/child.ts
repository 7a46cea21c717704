import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type PhaseOutcome, type PhaseRequest, RESULT_MARKER } from './protocol.js';

const PHASE_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'phase.ts');
const STDERR_KEEP = 4000;
const POLL_MS = 100;

export interface ChildOptions {
  /** Extra flags for node, e.g. `--max-old-space-size=4096` or `--cpu-prof`. */
  nodeFlags?: string[];
  /** Killed after this long; the outcome then says so. */
  timeoutMs: number;
}

export interface ChildRun {
  /** The child's own report; absent when it crashed or was killed before printing it. */
  outcome: PhaseOutcome | undefined;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** Spawn to exit, as seen from outside: includes Node's start and module loading. */
  processMs: number;
  /** Highest VmHWM seen in /proc while the child ran: the peak RSS of a child that could not report it. */
  polledPeakRssMb: number;
  stderrTail: string;
}

let running: ReturnType<typeof spawn> | undefined;

/** Stops the running phase child, if any (on Ctrl-C). */
export function killRunningChild(): void {
  if (running?.pid !== undefined && running.exitCode === null) running.kill('SIGKILL');
}

function vmHwmMb(pid: number): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** Runs one phase in a child process and collects what it reported. */
export function runChild(request: PhaseRequest, options: ChildOptions): Promise<ChildRun> {
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [...(options.nodeFlags ?? []), '--import', 'tsx', PHASE_SCRIPT, JSON.stringify(request)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  running = child;
  let stdout = '';
  let stderr = '';
  let peak = 0;
  let timedOut = false;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_KEEP);
  });
  const poll = setInterval(() => {
    if (child.pid !== undefined) peak = Math.max(peak, vmHwmMb(child.pid));
  }, POLL_MS);
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, options.timeoutMs);

  return new Promise<ChildRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (exitCode, signal) => {
      clearInterval(poll);
      clearTimeout(timer);
      running = undefined;
      const line = stdout.split('\n').find((l) => l.startsWith(RESULT_MARKER));
      const outcome = line ? (JSON.parse(line.slice(RESULT_MARKER.length)) as PhaseOutcome) : undefined;
      resolve({
        outcome,
        exitCode,
        signal,
        timedOut,
        processMs: performance.now() - started,
        polledPeakRssMb: Math.max(peak, outcome?.peakRssMb ?? 0),
        stderrTail: stderr.trim(),
      });
    });
  });
}

/** Why a child failed, in one line: its own error, a V8 heap or string limit, a timeout, a signal. */
export function failureReason(run: ChildRun): string | undefined {
  if (run.outcome?.ok) return undefined;
  if (run.timedOut) return 'killed at the phase timeout';
  if (run.outcome?.error) return `${run.outcome.error.code}: ${run.outcome.error.message}`;
  const tail = run.stderrTail;
  if (/heap out of memory|Reached heap limit/i.test(tail))
    return 'ran out of V8 heap (JavaScript heap out of memory)';
  if (/Cannot create a string longer than/i.test(tail))
    return "hit V8's maximum string length (ERR_STRING_TOO_LONG)";
  if (run.signal) return `killed by ${run.signal}${run.signal === 'SIGKILL' ? ' (out of memory?)' : ''}`;
  const last = tail
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(-3)
    .join(' | ');
  return `exited with code ${run.exitCode}${last ? `: ${last}` : ''}`;
}
