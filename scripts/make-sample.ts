/**
 * Writes the bundled sample: a small late-2025 JSON export of a synthetic user. The output is the same
 * bytes on every run (fixed seed, export time and zip timestamps), so the committed file only changes
 * when the generator does.
 *
 *   npx tsx scripts/make-sample.ts [out.zip]
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type ExportStats, generateUser, type RenderOptions, writeExport } from '../src/synthetic/index.js';

export const SAMPLE_EXPORT_TIME = 1_764_000_000;
export const SAMPLE_PATH = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'samples',
  `TikTok_Data_${SAMPLE_EXPORT_TIME}.zip`,
);
export const SAMPLE_OPTIONS: RenderOptions = { era: '2025', format: 'json' };

// A seed whose chats show what importers must handle: a group chat, multi-line messages and a message
// delivered twice in the same second.
export const sampleUser = () =>
  generateUser({
    seed: 20_251_141,
    username: 'sample.synthetic',
    scale: 400,
    now: SAMPLE_EXPORT_TIME,
    counts: { conversations: 5, dmMessages: 70 },
  });

export async function writeSample(out = SAMPLE_PATH): Promise<ExportStats> {
  await mkdir(path.dirname(out), { recursive: true });
  return writeExport(sampleUser(), SAMPLE_OPTIONS, out);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const out = path.resolve(process.argv[2] ?? SAMPLE_PATH);
  const stats = await writeSample(out);
  console.log(
    `Wrote ${path.relative(process.cwd(), out)}: ${stats.bytes} bytes (${stats.uncompressedBytes} uncompressed), ` +
      `${stats.records} records: ${JSON.stringify(stats.expected)}`,
  );
}
