import { readFileSync } from 'node:fs';
import type pg from 'pg';
import { BENCH_APPLICATION } from './protocol.js';

export interface Measurement {
  wallMs: number;
  nodeCpuMs: number;
  /** CPU used by every process on the machine meanwhile (null without /proc/stat). */
  machineCpuMs: number | null;
  peakRssMb: number;
  windowUs: [number, number];
}

const nowUs = () => Number(process.hrtime.bigint() / 1000n);

/**
 * Starts measuring from the inside of a phase: call the returned function when the work ends (or
 * fails) for its wall time, the CPU of this process, and the peak RSS so far.
 */
export function startMeasurement(): () => Measurement {
  const machineBefore = machineBusyMs();
  const cpuBefore = process.cpuUsage();
  const startUs = nowUs();
  const started = performance.now();
  return () => {
    const wallMs = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    const machineAfter = machineBusyMs();
    return {
      wallMs,
      nodeCpuMs: (cpu.user + cpu.system) / 1000,
      machineCpuMs: machineBefore === null || machineAfter === null ? null : machineAfter - machineBefore,
      peakRssMb: process.resourceUsage().maxRSS / 1024,
      windowUs: [startUs, nowUs()],
    };
  };
}

/** Clock ticks per second of /proc/<pid>/stat and /proc/stat; 100 on every Linux this runs on. */
const CLOCK_TICKS = 100;

/** Busy CPU time of the whole machine so far (all cores), from /proc/stat. */
function machineBusyMs(): number | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
    const ticks = (user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0);
    return (ticks * 1000) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

/**
 * CPU time used so far by the Postgres backends serving this benchmark's connections to the current
 * database, read from /proc. Null when the server is not on this machine (or /proc is not readable):
 * the pids would name nothing, or someone else's processes.
 */
export async function backendCpuMs(pool: pg.Pool, connectionString: string): Promise<number | null> {
  const host = new URL(connectionString).hostname;
  if (!['', 'localhost', '127.0.0.1', '::1', '[::1]'].includes(host)) return null;
  const { rows } = await pool.query<{ pid: number }>(
    'select pid from pg_stat_activity where datname = current_database() and application_name = $1',
    [BENCH_APPLICATION],
  );
  let ticks = 0;
  for (const { pid } of rows) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'postgres') return null;
      // Fields after the command name (which may hold spaces) start at the state, field 3.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
    } catch {
      return null;
    }
  }
  return (ticks * 1000) / CLOCK_TICKS;
}
