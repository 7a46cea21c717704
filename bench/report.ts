import type { BenchResults, PhaseRow, TargetCheck } from './results.js';

/** Peak RSS allowed for an import at any size. */
export const RSS_LIMIT_MB = 256;
/** Share of the CPU used by other processes above which a phase's numbers are flagged as disturbed. */
const NOISE_PCT = 10;

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

type Verdict = Omit<TargetCheck, 'id' | 'name'>;

/**
 * The rows a target needs, in order, or its verdict without them: not measured when a phase did not
 * run, does not hold when one failed.
 */
function needed(rows: PhaseRow[], phases: readonly string[]): PhaseRow[] | Verdict {
  const found = phases.map((p) => rows.find((r) => r.phase === p));
  const failed = found.find((r) => r !== undefined && !r.ok);
  if (failed) return { holds: false, text: `${failed.phase} did not complete: ${failed.failure}` };
  if (found.some((r) => r === undefined)) return { holds: null, text: `needs ${phases.join(', ')}` };
  return found as PhaseRow[];
}

/** One check of a target: `judge` sees the rows of `phases`, in that order, when they all completed. */
function target(
  rows: PhaseRow[],
  id: string,
  name: string,
  phases: readonly string[],
  judge: (found: PhaseRow[]) => Verdict,
): TargetCheck {
  const found = needed(rows, phases);
  return { id, name, ...(Array.isArray(found) ? judge(found) : found) };
}

const rate = (r: PhaseRow) => `${r.phase} ${fmtRate(r.perSecond)}/s`;
const signedPct = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)} %`;

/** Records the delta export changed: what the generator added and removed, plus what the import updated. */
export function deltaChange(delta: PhaseRow): { changed: number; text: string } {
  const change = delta.details.change as { added: number; removed: number } | undefined;
  const totals = (delta.details.totals ?? {}) as Record<string, number>;
  const updated = totals.updated ?? 0;
  if (change) {
    return {
      changed: change.added + change.removed + updated,
      text: `${fmtInt(change.added)} added + ${fmtInt(change.removed)} removed + ${fmtInt(updated)} updated`,
    };
  }
  const counted = (totals.inserted ?? 0) + updated + (totals.removed ?? 0) + (totals.restored ?? 0);
  return { changed: counted, text: 'as the import counted them' };
}

/** The import against a naive importer; one that could not finish (out of memory) is slower. */
function fasterThan(rows: PhaseRow[], baseline: string): TargetCheck {
  const name = `import faster than ${baseline}`;
  const other = rows.find((r) => r.phase === baseline);
  if (other && !other.ok && find(rows, 'import')) {
    return { id: '1', name, holds: true, text: `${baseline} did not complete: ${other.failure}` };
  }
  return target(rows, '1', name, ['import', baseline], ([imp, base]) => ({
    holds: imp!.perSecond > base!.perSecond,
    text: `${rate(imp!)} = ${(imp!.perSecond / base!.perSecond).toFixed(2)} × ${rate(base!)}`,
  }));
}

/** Peak RSS of one import against the limit. */
const rssTarget = (rows: PhaseRow[], id: string, phase: string, what: string) =>
  target(rows, id, `peak RSS ≤ ${RSS_LIMIT_MB} MB: ${what}`, [phase], ([r]) => ({
    holds: r!.peakRssMb <= RSS_LIMIT_MB,
    text: `${fmtInt(r!.peakRssMb)} MB (${r!.phase}, ${fmtInt(r!.records)} records)`,
  }));

/** The targets, checked against this run's rows. */
export function checkTargets(rows: PhaseRow[]): TargetCheck[] {
  const checks: TargetCheck[] = [
    target(rows, '1', 'import ≥ 90 % of copy', ['import', 'copy'], ([imp, copy]) => ({
      holds: imp!.perSecond >= 0.9 * copy!.perSecond,
      text: `${rate(imp!)} = ${pct(imp!.perSecond / copy!.perSecond)} of ${rate(copy!)}`,
    })),
    ...['naive', 'naive-same-schema'].map((baseline) => fasterThan(rows, baseline)),
    target(rows, '2', 'reimport ≥ 80 % of parse', ['reimport', 'parse'], ([re, parse]) => ({
      holds: re!.perSecond >= 0.8 * parse!.perSecond,
      text: `${rate(re!)} = ${pct(re!.perSecond / parse!.perSecond)} of ${rate(parse!)}`,
    })),
    target(rows, '2', "reimport PG CPU ≤ 10 % of import's", ['reimport', 'import'], ([re, imp]) =>
      re!.pgCpuS === null || imp!.pgCpuS === null || imp!.pgCpuS <= 0
        ? { holds: null, text: 'PG CPU not measured (needs a Postgres on this machine)' }
        : {
            holds: re!.pgCpuS <= 0.1 * imp!.pgCpuS,
            text: `reimport ${fmtS(re!.pgCpuS)} s = ${pct(re!.pgCpuS / imp!.pgCpuS)} of import's ${fmtS(imp!.pgCpuS)} s`,
          },
    ),
    target(rows, '2', 'reimport writes 0 tuples', ['reimport'], ([re]) => ({
      holds: re!.tupleWrites === 0,
      text: `${re!.tupleWrites === null ? '?' : fmtInt(re!.tupleWrites)} tuples written`,
    })),
    target(rows, '3', 'delta tuples within 1 % of records changed', ['delta'], ([delta]) => {
      const { changed, text } = deltaChange(delta!);
      const writes = delta!.tupleWrites;
      if (writes === null) return { holds: null, text: 'tuples written not measured' };
      const off = changed > 0 ? writes / changed - 1 : writes === 0 ? 0 : Number.POSITIVE_INFINITY;
      return {
        holds: Math.abs(off) <= 0.01,
        text: `${fmtInt(writes)} tuples written, ${fmtInt(changed)} records changed (${text}): ${signedPct(off)}`,
      };
    }),
    target(rows, '3', "delta ≥ 90 % of reimport's records/s", ['delta', 'reimport'], ([delta, re]) => ({
      holds: delta!.perSecond >= 0.9 * re!.perSecond,
      text: `${rate(delta!)} = ${pct(delta!.perSecond / re!.perSecond)} of ${rate(re!)} (faster passes)`,
    })),
    rssTarget(rows, '4', 'import', 'import (main)'),
    rssTarget(rows, '4', 'scale 16×', 'import at 16× (scaling)'),
  ];
  if (rows.some((r) => r.phase === 'huge import'))
    checks.push(rssTarget(rows, '4', 'huge import', 'huge import'));
  checks.push(
    target(
      rows,
      '5',
      'accounts: concurrent ≤ 1.2 × sequential',
      ['accounts concurrent', 'accounts sequential'],
      ([conc, seq]) => ({
        holds: conc!.wallS <= 1.2 * seq!.wallS,
        text: `concurrent ${fmtS(conc!.wallS)} s / sequential ${fmtS(seq!.wallS)} s = ${(conc!.wallS / seq!.wallS).toFixed(2)} ×`,
      }),
    ),
    target(rows, '6', 'µs/record at 16× within 15 % of 1×', ['scale 1×', 'scale 16×'], ([one, sixteen]) => {
      const a = usPerRecord(one!);
      const b = usPerRecord(sixteen!);
      return {
        holds: b <= a * 1.15,
        text: `16× ${b.toFixed(2)} µs vs 1× ${a.toFixed(2)} µs per record (${signedPct(b / a - 1)}; faster at 16× passes)`,
      };
    }),
  );
  return checks;
}

export const usPerRecord = (row: PhaseRow) => (row.wallS * 1e6) / Math.max(1, row.records);

const verdict = (holds: boolean | null) =>
  holds === null ? 'not measured' : holds ? 'holds' : 'does not hold';

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
  const reimport = find(phases, 'reimport');
  if (reimport?.details.exportedAt) {
    out.push(
      `reimport: ${reimport.details.archive ?? 'a re-zipped copy'} (the main export's members re-zipped with later member times), dated ${String(reimport.details.exportedAt)} from ${String(reimport.details.exportedAtSource)}; ${reimport.details.newArchive ? 'a new archive' : 'an archive seen before'}`,
      '',
    );
  }
  const sequential = find(phases, 'accounts sequential');
  const concurrent = find(phases, 'accounts concurrent');
  if (sequential && concurrent) {
    const each = sequential.details.perAccount as { records: number }[];
    out.push(
      `accounts: ${each.length} accounts (${fmtInt(sequential.records)} records in all) on a pool of ${String(concurrent.details.poolMax)}: one after another ${fmtS(sequential.wallS)} s, all at once ${fmtS(concurrent.wallS)} s (${(concurrent.wallS / sequential.wallS).toFixed(2)} ×)`,
      '',
    );
  }

  out.push(
    'targets:',
    table(
      ['target', '', 'result', 'measured'],
      targets.map((t) => [t.id, t.name, verdict(t.holds), t.text]),
      [true, false, false, false],
    ),
  );
  out.push('', `total ${results.totalS.toFixed(0)} s`);
  return out.join('\n');
}
