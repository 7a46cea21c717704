import type { BenchResults, PhaseRow, TargetCheck } from './results.js';

/** Peak RSS allowed for an import at any size. */
export const RSS_LIMIT_MB = 256;
/** Share of the CPU used by other processes above which a phase's numbers are flagged as disturbed. */
const NOISE_PCT = 10;

const IMPORT_PHASES = /^(import|reimport|delta|scale |huge import)/;

export const fmtInt = (n: number) => Math.round(n).toLocaleString('en');

export function fmtRate(n: number): string {
  if (!Number.isFinite(n) || n <= 0) return '–';
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return n.toFixed(0);
}

const fmtS = (n: number | null) => (n === null ? '–' : n.toFixed(n < 10 ? 2 : 1));
const pct = (x: number) => `${Math.round(x * 100)} %`;

function table(header: string[], rows: string[][], rightAlign: boolean[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (rightAlign[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '─'.repeat(w))), ...rows.map(line)].join('\n');
}

const find = (rows: PhaseRow[], phase: string) => rows.find((r) => r.phase === phase && r.ok);

/** The targets of the issue, checked against this run's rows. */
export function checkTargets(rows: PhaseRow[]): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const parse = find(rows, 'parse');
  const copy = find(rows, 'copy');
  const imp = find(rows, 'import');
  const reimport = find(rows, 'reimport');
  const naive = rows.find((r) => r.phase === 'naive');

  if (imp && parse && copy) {
    const ceiling = Math.min(parse.perSecond, copy.perSecond);
    const which = parse.perSecond <= copy.perSecond ? 'parse' : 'copy';
    checks.push({
      name: 'import ≥ 60 % of min(parse, copy)',
      holds: imp.perSecond >= 0.6 * ceiling,
      text: `import ${fmtRate(imp.perSecond)}/s = ${pct(imp.perSecond / ceiling)} of ${which} ${fmtRate(ceiling)}/s`,
    });
  } else
    checks.push({
      name: 'import ≥ 60 % of min(parse, copy)',
      holds: null,
      text: 'needs parse, copy and import',
    });

  if (reimport && parse) {
    const fast = reimport.perSecond >= 0.8 * parse.perSecond;
    const clean = reimport.tupleWrites === 0;
    checks.push({
      name: 'reimport ≥ 80 % of parse, 0 tuples written',
      holds: fast && clean,
      text: `reimport ${fmtRate(reimport.perSecond)}/s = ${pct(reimport.perSecond / parse.perSecond)} of parse ${fmtRate(parse.perSecond)}/s; ${reimport.tupleWrites === null ? '? ' : fmtInt(reimport.tupleWrites)} tuples written`,
    });
  } else
    checks.push({
      name: 'reimport ≥ 80 % of parse, 0 tuples written',
      holds: null,
      text: 'needs parse and reimport',
    });

  if (imp && naive) {
    checks.push(
      naive.ok
        ? {
            name: 'import ≥ 3 × naive',
            holds: imp.perSecond >= 3 * naive.perSecond,
            text: `import ${fmtRate(imp.perSecond)}/s = ${(imp.perSecond / naive.perSecond).toFixed(1)} × naive ${fmtRate(naive.perSecond)}/s`,
          }
        : { name: 'import ≥ 3 × naive', holds: null, text: `naive failed: ${naive.failure}` },
    );
  } else checks.push({ name: 'import ≥ 3 × naive', holds: null, text: 'needs import and naive' });

  const imports = rows.filter((r) => IMPORT_PHASES.test(r.phase) && r.note === undefined && r.peakRssMb > 0);
  if (imports.length > 0) {
    const worst = imports.reduce((a, b) => (b.peakRssMb > a.peakRssMb ? b : a));
    checks.push({
      name: `peak RSS ≤ ${RSS_LIMIT_MB} MB at every size`,
      holds: imports.every((r) => r.ok && r.peakRssMb <= RSS_LIMIT_MB),
      text: `highest ${Math.round(worst.peakRssMb)} MB (${worst.phase}, ${fmtInt(worst.records)} records) over ${imports
        .map((r) => r.phase)
        .join(', ')}`,
    });
  } else
    checks.push({ name: `peak RSS ≤ ${RSS_LIMIT_MB} MB at every size`, holds: null, text: 'no import ran' });

  const scale = rows.filter((r) => r.phase.startsWith('scale '));
  const one = scale.find((r) => r.phase === 'scale 1×');
  const sixteen = scale.find((r) => r.phase === 'scale 16×');
  if (one?.ok && sixteen?.ok) {
    const a = usPerRecord(one);
    const b = usPerRecord(sixteen);
    checks.push({
      name: 'time per record at 16× within 15 % of 1×',
      holds: b <= a * 1.15,
      text: `16× ${b.toFixed(2)} µs vs 1× ${a.toFixed(2)} µs per record (${b >= a ? '+' : ''}${Math.round((b / a - 1) * 100)} %; faster at 16× passes)`,
    });
  } else
    checks.push({
      name: 'time per record at 16× within 15 % of 1×',
      holds: one && sixteen ? false : null,
      text:
        one && sixteen ? `a scaling run failed: ${one.failure ?? sixteen.failure}` : 'needs the scaling run',
    });
  return checks;
}

export const usPerRecord = (row: PhaseRow) => (row.wallS * 1e6) / Math.max(1, row.records);

const mark = (holds: boolean | null) => (holds === null ? '–' : holds ? '✓' : '✗');

function describeOptions(o: Record<string, unknown>): string {
  const base = Number(o.scaleBase);
  const parts = [
    `main export ${fmtInt(Number(o.records))} records (seed ${o.seed})`,
    `scaling at 1×/4×/16× of ${fmtInt(base)} (${[1, 4, 16].map((m) => fmtInt(base * m)).join(' / ')})`,
  ];
  if (Number(o.repeat) > 1) parts.push(`best of ${o.repeat} rounds`);
  const flags = o.importNodeFlags as string[] | undefined;
  if (flags?.length) parts.push(`import children run with ${flags.join(' ')}`);
  const settings = o.pgSettings as string[] | undefined;
  if (settings?.length) parts.push(`databases set ${settings.join(', ')}`);
  return parts.join('; ');
}

export function formatResults(results: BenchResults): string {
  const { machine, phases, targets } = results;
  const out: string[] = [];
  out.push(
    `tiktok-portability-sync benchmark, ${machine.date}`,
    `machine: ${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGb} GB RAM, ${machine.platform}; Node ${machine.node}`,
    `postgres: ${machine.postgres}`,
    `  ${Object.entries(machine.postgresSettings)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}`,
    `run: ${describeOptions(results.options)}`,
    `archives: ${Object.entries(results.archives)
      .map(
        ([k, a]) =>
          `${k} ${fmtInt(a.records)} records (${a.jsonMb.toFixed(0)} MB JSON, ${a.zipMb.toFixed(0)} MB zip${a.reused ? ', reused' : ''})`,
      )
      .join('; ')}`,
    '',
  );
  const main = phases.filter((r) => !r.phase.startsWith('scale ') && !r.phase.startsWith('huge '));
  const rowsOf = (list: PhaseRow[]) =>
    list.map((r) => [
      r.phase,
      fmtInt(r.records),
      r.ok ? fmtS(r.wallS) : 'failed',
      r.ok ? fmtRate(r.perSecond) : '–',
      r.peakRssMb > 0 ? fmtInt(r.peakRssMb) : '–',
      r.tupleWrites === null ? '–' : fmtInt(r.tupleWrites),
      fmtS(r.nodeCpuS),
      fmtS(r.pgCpuS),
      r.otherCpuPct === null ? '–' : `${Math.round(r.otherCpuPct)} %`,
      fmtS(r.processS),
    ]);
  const header = [
    'phase',
    'records',
    'wall s',
    'records/s',
    'peak RSS MB',
    'tuples written',
    'node CPU s',
    'PG CPU s',
    'other CPU',
    'process s',
  ];
  const right = [false, true, true, true, true, true, true, true, true, true];
  if (main.length > 0) out.push(table(header, rowsOf(main), right), '');

  const scale = phases.filter((r) => r.phase.startsWith('scale '));
  if (scale.length > 0) {
    out.push(
      table(
        ['scaling', 'records', 'wall s', 'records/s', 'µs/record', 'peak RSS MB', ''],
        scale.map((r) => [
          r.phase,
          fmtInt(r.records),
          r.ok ? fmtS(r.wallS) : 'failed',
          r.ok ? fmtRate(r.perSecond) : '–',
          r.ok ? usPerRecord(r).toFixed(2) : '–',
          r.peakRssMb > 0 ? fmtInt(r.peakRssMb) : '–',
          r.note ?? '',
        ]),
        [false, true, true, true, true, true, false],
      ),
      '',
    );
  }
  const huge = phases.filter((r) => r.phase.startsWith('huge '));
  if (huge.length > 0) out.push(table(header, rowsOf(huge), right), '');

  const noisy = phases.filter((r) => r.note === undefined && (r.otherCpuPct ?? 0) > NOISE_PCT);
  if (noisy.length > 0) {
    out.push(
      `⚠ other processes used more than ${NOISE_PCT} % of the CPU during ${noisy
        .map((r) => `${r.phase} (${Math.round(r.otherCpuPct!)} %)`)
        .join(', ')}: those numbers are disturbed. Rerun on a quiet machine, or with --repeat 3.`,
      '',
    );
  }
  const starts = phases.filter((r) => r.startRssMb > 0).map((r) => r.startRssMb);
  if (starts.length > 0) {
    out.push(
      `Each child starts at ${Math.round(Math.min(...starts))}–${Math.round(Math.max(...starts))} MB RSS once its modules are loaded (under tsx), before any work.`,
      '',
    );
  }

  const failures = phases.filter((r) => !r.ok);
  for (const r of failures) out.push(`${r.phase} did not complete: ${r.failure}`);
  if (failures.length > 0) out.push('');

  const timings = phases.filter((r) => r.ok && r.details.stageTimings && r.note === undefined);
  if (timings.length > 0) {
    out.push('stage timings from the run records (ms):');
    for (const r of timings) {
      const t = r.details.stageTimings as Record<string, number>;
      out.push(
        `  ${r.phase.padEnd(12)} ${Object.entries(t)
          .map(([k, v]) => `${k} ${fmtInt(v)}`)
          .join(', ')}`,
      );
    }
    out.push('');
  }
  const delta = find(phases, 'delta');
  if (delta?.details.totals) {
    const t = delta.details.totals as Record<string, number>;
    const change = delta.details.change as { added: number; removed: number } | undefined;
    out.push(
      `delta: ${fmtInt(t.inserted ?? 0)} inserted, ${fmtInt(t.updated ?? 0)} updated, ${fmtInt(t.removed ?? 0)} removed, ${fmtInt(t.restored ?? 0)} restored` +
        (change
          ? ` (the generator added ${fmtInt(change.added)} and removed ${fmtInt(change.removed)} records)`
          : ''),
      '',
    );
  }

  out.push('targets:');
  for (const t of targets) out.push(`  ${mark(t.holds)} ${t.name.padEnd(44)} ${t.text}`);
  out.push('', `total ${results.totalS.toFixed(0)} s`);
  return out.join('\n');
}
