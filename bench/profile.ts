/**
 * Summarizes a V8 CPU profile (`node --cpu-prof`): self time per function and per area (a package, a
 * source file, Node's internals, GC, idle), counting only the samples inside the measured window.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { findSourceMap, SourceMap, type SourceMapPayload } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Writes the source maps of the project's loaded TypeScript modules (tsx keeps them), keyed by module
 * URL: the profile locates functions in the transpiled code, these map them back to source lines.
 */
export async function writeSourceMaps(file: string): Promise<void> {
  const maps: Record<string, SourceMapPayload> = {};
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory() && entry.name !== 'out') walk(full);
      else if (entry.name.endsWith('.ts')) {
        const url = pathToFileURL(full).href;
        const map = findSourceMap(url);
        if (map) maps[url] = map.payload;
      }
    }
  };
  walk(path.join(ROOT, 'src'));
  walk(path.join(ROOT, 'bench'));
  await writeFile(file, JSON.stringify(maps));
}

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  file: string;
  /** Sampled time inside the window. */
  totalMs: number;
  /** Wall time of the profiled import (slower than unprofiled). */
  wallS?: number;
  functions: { name: string; where: string; selfMs: number; share: number }[];
  areas: { area: string; selfMs: number; share: number }[];
}

/** Where a function lives, coarsely: an npm package, a project file, a part of Node, or V8 itself. */
function areaOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === '') {
    if (functionName === '(idle)') return '(idle: waiting for Postgres or I/O)';
    if (functionName === '(garbage collector)') return '(garbage collector)';
    if (functionName === '(program)') return '(program: V8 and native code)';
    return `native ${functionName}`;
  }
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return `npm ${pkg[1]}`;
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/');
  const project = /\/(src|bench)\/(.+)$/.exec(url);
  if (project) return `${project[1]}/${project[2]}`;
  return url;
}

/** `file:line` of a frame, in the TypeScript source when a source map says where. */
function shortWhere(frame: CallFrame, maps: Map<string, SourceMap>): string {
  const url = frame.url.replace(/^file:\/\//, '');
  const project = /\/((?:src|bench)\/.+)$/.exec(url);
  const pkg = /node_modules\/(.+)$/.exec(url);
  const file = project?.[1] ?? pkg?.[1] ?? url;
  if (!file) return '';
  const entry = maps.get(frame.url)?.findEntry(frame.lineNumber, frame.columnNumber);
  const line = entry && 'originalLine' in entry ? entry.originalLine : frame.lineNumber;
  return `${file}:${line + 1}`;
}

export function summarizeProfile(
  file: string,
  windowUs?: [number, number],
  sourceMapsFile?: string,
  top = 25,
): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const maps = new Map<string, SourceMap>();
  if (sourceMapsFile) {
    const payloads = JSON.parse(readFileSync(sourceMapsFile, 'utf8')) as Record<string, SourceMapPayload>;
    for (const [url, payload] of Object.entries(payloads)) maps.set(url, new SourceMap(payload));
  }
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const fn = new Map<string, { name: string; where: string; us: number }>();
  const area = new Map<string, number>();
  let total = 0;
  let t = profile.startTime;
  const inWindow = (time: number) => !windowUs || (time >= windowUs[0] && time <= windowUs[1]);
  // Fall back to every sample when the clocks do not line up (no sample in the window).
  const anyInWindow = profile.samples.some((_, i) => {
    t += profile.timeDeltas[i] ?? 0;
    return inWindow(t);
  });
  t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if (anyInWindow && !inWindow(t)) continue;
    const node = byId.get(profile.samples[i]!);
    if (!node) continue;
    // A sample's time is the gap to the next sample; timeDeltas[i] is the gap before it, close enough.
    const us = delta;
    total += us;
    const frame = node.callFrame;
    const key = `${frame.functionName}@${frame.url}:${frame.lineNumber}:${frame.columnNumber}`;
    let entry = fn.get(key);
    if (!entry) {
      entry = { name: frame.functionName || '(anonymous)', where: shortWhere(frame, maps), us: 0 };
      fn.set(key, entry);
    }
    entry.us += us;
    const a = areaOf(frame);
    area.set(a, (area.get(a) ?? 0) + us);
  }
  const share = (us: number) => (total > 0 ? us / total : 0);
  return {
    file,
    totalMs: total / 1000,
    functions: [...fn.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((f) => ({ name: f.name, where: f.where, selfMs: f.us / 1000, share: share(f.us) })),
    areas: [...area.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ area: name, selfMs: us / 1000, share: share(us) })),
  };
}

export function formatProfile(summary: ProfileSummary): string {
  const lines = [
    `CPU profile of the import (${summary.file}), ${Math.round(summary.totalMs)} ms sampled:`,
    '  by area (self time):',
  ];
  for (const a of summary.areas.slice(0, 15)) {
    lines.push(
      `    ${(a.share * 100).toFixed(1).padStart(5)} %  ${Math.round(a.selfMs).toString().padStart(7)} ms  ${a.area}`,
    );
  }
  lines.push('  top functions (self time):');
  for (const f of summary.functions) {
    lines.push(
      `    ${(f.share * 100).toFixed(1).padStart(5)} %  ${Math.round(f.selfMs).toString().padStart(7)} ms  ${f.name}  ${f.where}`,
    );
  }
  return lines.join('\n');
}
