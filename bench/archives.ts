import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, readdirSync, readFileSync } from 'node:fs';
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import yauzl from 'yauzl';
import { ZipFile } from 'yazl';
import { DAY } from '../src/synthetic/clock.js';
import {
  type ExportStats,
  evolve,
  generateUser,
  type SequenceName,
  type SyntheticUser,
  writeExport,
} from '../src/synthetic/index.js';
import { deriveKey, Rand, streamId } from '../src/synthetic/prng.js';
import { addRemoved, totalOf } from '../src/synthetic/sequence.js';
import type { GenerateRequest, RezipRequest } from './protocol.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const OUT_DIR = path.join(HERE, 'out');
export const ARCHIVE_DIR = path.join(OUT_DIR, 'archives');

/** The layout every benchmark archive uses (the naive importer walks it). */
export const BENCH_ERA = '2025';

/** Share of the first export's records that the delta export adds, and that it no longer contains. */
export const DELTA_NEW = 0.01;
export const DELTA_REMOVED = 0.005;

/** Sections that lose records in the delta export, in proportion to their size (like unlikes, deletions). */
const REMOVABLE: readonly SequenceName[] = ['watch', 'likes', 'favVideos', 'searches', 'comments'];

export interface ArchiveMeta {
  fingerprint: string;
  records: number;
  seed: number;
  delta: boolean;
  stats: ExportStats;
  /** For a delta export: records added and removed relative to the first export. */
  change?: { added: number; removed: number };
  /** For a re-zipped archive: the archive whose members it holds, and how much later its member times are. */
  rezip?: { from: string; laterByS: number };
  generatedMs: number;
}

/** Where the archive of (records, seed, delta) lives; its metadata sits next to it. */
export function archivePath(records: number, seed: number, delta: boolean): string {
  return path.join(ARCHIVE_DIR, `export-${BENCH_ERA}-r${records}-s${seed}${delta ? '-delta' : ''}.zip`);
}

export const metaPath = (zipPath: string) => zipPath.replace(/\.zip$/, '.json');

/** Where the re-zipped copy of an archive lives (see {@link rezipArchive}). */
export const rezipPath = (zipPath: string) => zipPath.replace(/\.zip$/, '-rezip.zip');

/** Accounts of the concurrency phase: one synthetic user each, told apart by their seeds. */
export const ACCOUNTS = 8;

/** The seed of each account of the concurrency phase: the run's seed, then the next ones. */
export const accountSeeds = (seed: number): number[] => Array.from({ length: ACCOUNTS }, (_, i) => seed + i);

/**
 * Identifies the generator's code, so an archive is reused only while the code that wrote it is
 * unchanged (same size and seed give the same bytes).
 */
export function generatorFingerprint(): string {
  const hash = createHash('sha256');
  const synthetic = path.join(HERE, '..', 'src', 'synthetic');
  for (const file of readdirSync(synthetic).sort()) {
    if (file.endsWith('.ts')) hash.update(file).update(readFileSync(path.join(synthetic, file)));
  }
  hash.update(readFileSync(fileURLToPath(import.meta.url)));
  return hash.digest('hex').slice(0, 16);
}

/** The archive's metadata when the archive exists and was written by the current generator. */
export function reusableMeta(zipPath: string, fingerprint: string): ArchiveMeta | undefined {
  try {
    const meta = JSON.parse(readFileSync(metaPath(zipPath), 'utf8')) as ArchiveMeta;
    return meta.fingerprint === fingerprint && existsSync(zipPath) ? meta : undefined;
  } catch {
    return undefined;
  }
}

const benchUser = (records: number, seed: number) =>
  generateUser({ seed, username: 'bench.user', scale: records });

/**
 * The same user's next export: `evolve` adds about 1 % new records (it grows every section at its
 * past rate, over 1 % of the account's history), and about 0.5 % of the records are removed, spread
 * over the big sections.
 */
export function deltaUser(user: SyntheticUser, seed: number, records: number): SyntheticUser {
  const watch = user.sequences.watch.segments[0];
  const historyDays = watch ? (user.now - watch.from) / DAY : 365;
  const next = evolve(user, { seed: seed + 1, days: Math.max(0.01, historyDays * DELTA_NEW) });

  const already = Object.values(next.lastChange?.removed ?? {}).reduce((a, n) => a + (n ?? 0), 0);
  const want = Math.max(0, Math.round(records * DELTA_REMOVED) - already);
  const sizes = REMOVABLE.map((name) => totalOf(user.sequences[name]));
  const total = sizes.reduce((a, n) => a + n, 0);
  const r = Rand.of(deriveKey(seed, streamId('bench-delta')), streamId('removals'), 0);
  REMOVABLE.forEach((name, i) => {
    const before = sizes[i]!;
    const k = Math.min(before, Math.round((want * before) / Math.max(1, total)));
    const picked = new Set<number>(next.sequences[name].removed);
    const start = picked.size;
    while (picked.size - start < k) picked.add(r.int(0, before - 1));
    addRemoved(next.sequences[name], picked);
  });
  return next;
}

/**
 * Writes the archive and then its metadata (the archive under a temporary name first): an interrupted
 * run leaves no archive that looks complete.
 */
export async function generateArchive(request: GenerateRequest): Promise<ArchiveMeta> {
  const { records, seed, delta, zipPath } = request;
  const started = performance.now();
  const first = benchUser(records, seed);
  const user = delta ? deltaUser(first, seed, records) : first;
  const partial = `${zipPath}.partial`;
  const stats = await writeExport(user, { era: BENCH_ERA, format: 'json' }, partial);
  await rename(partial, zipPath);
  const meta: ArchiveMeta = {
    fingerprint: generatorFingerprint(),
    records,
    seed,
    delta,
    stats,
    generatedMs: performance.now() - started,
  };
  if (delta) {
    const added = Object.values(user.lastChange?.added ?? {}).reduce((a, n) => a + (n ?? 0), 0);
    const removed = (Object.keys(user.sequences) as SequenceName[]).reduce(
      (a, name) => a + user.sequences[name].removed.length - first.sequences[name].removed.length,
      0,
    );
    // `added` counts new conversations too; they are rows of dm_conversations.
    meta.change = { added, removed };
  }
  await writeFile(metaPath(zipPath), `${JSON.stringify(meta, null, 2)}\n`);
  return meta;
}

/**
 * How much later the re-zipped archive's member times are than the original's. The benchmark's
 * archives are not named `TikTok_Data_<unix seconds>.zip`, so the import dates them by their newest
 * member time (src/ingest/export-order.ts): later makes the copy the newer export. The delta export is
 * made at least 864 s after the first one (`evolve` over at least 0.01 day, see {@link deltaUser}),
 * so it stays the newest of the three. A multiple of 2 s, the resolution of zip (DOS) times.
 */
export const REZIP_LATER_S = 60;

function openZip(zipPath: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) =>
    yauzl.open(zipPath, { lazyEntries: true, autoClose: false }, (error, zip) =>
      error ? reject(error) : resolve(zip),
    ),
  );
}

/** Every entry of the zip's central directory, in order. */
function zipEntries(zip: yauzl.ZipFile): Promise<yauzl.Entry[]> {
  const entries: yauzl.Entry[] = [];
  return new Promise((resolve, reject) => {
    zip.on('entry', (entry: yauzl.Entry) => {
      entries.push(entry);
      zip.readEntry();
    });
    zip.on('end', () => resolve(entries));
    zip.on('error', reject);
    zip.readEntry();
  });
}

/**
 * The same export in a different archive: the same members with the same bytes, re-zipped in the
 * reverse member order with member times {@link REZIP_LATER_S} later, so its SHA-256 differs (the
 * import's "same archive already imported" skip cannot apply) and the import judges it the newer
 * export. Streams member by member: each is inflated from the original while it is deflated into
 * the copy. Written under a temporary name first, then its metadata, like {@link generateArchive}.
 */
export async function rezipArchive(request: RezipRequest): Promise<ArchiveMeta> {
  const { sourceZip, zipPath } = request;
  const started = performance.now();
  const source = JSON.parse(await readFile(metaPath(sourceZip), 'utf8')) as ArchiveMeta;
  const zip = await openZip(sourceZip);
  const partial = `${zipPath}.partial`;
  try {
    const entries = await zipEntries(zip);
    const out = new ZipFile();
    for (const entry of entries.reverse()) {
      const mtime = new Date(entry.getLastModDate().getTime() + REZIP_LATER_S * 1000);
      if (entry.fileName.endsWith('/')) {
        out.addEmptyDirectory(entry.fileName, { mtime, forceDosTimestamp: true });
        continue;
      }
      const options = { mtime, forceDosTimestamp: true, mode: 0o100644, size: entry.uncompressedSize };
      out.addReadStreamLazy(entry.fileName, options, (cb) => zip.openReadStream(entry, cb));
    }
    out.end();
    await pipeline(out.outputStream, createWriteStream(partial));
  } finally {
    zip.close();
  }
  await rename(partial, zipPath);
  const meta: ArchiveMeta = {
    ...source,
    fingerprint: generatorFingerprint(),
    stats: { ...source.stats, bytes: (await stat(zipPath)).size },
    rezip: { from: path.basename(sourceZip), laterByS: REZIP_LATER_S },
    generatedMs: performance.now() - started,
  };
  await writeFile(metaPath(zipPath), `${JSON.stringify(meta, null, 2)}\n`);
  return meta;
}
