/**
 * Parses what the fuzz test sends, in a worker thread of its own: the test can then bound its memory
 * (the worker's heap limit) and its time (the test terminates a worker that does not answer), which
 * it could not do for code running on its own thread.
 *
 * Message in: `{ id, kind: 'json' | 'txt' | 'zip', name, bytes, chunk }`; out: `{ id, ok, ms, heap }`
 * plus, on failure, whether the error is a PipelineError and its class, code and message.
 */
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { parentPort } from 'node:worker_threads';
import { PipelineError } from '../../src/errors.js';
import { openArchive } from '../../src/ingest/archive.js';
import { parseJsonExportBatches } from '../../src/parsers/json-export.js';
import { parseTxtExportBatches } from '../../src/parsers/txt-export.js';

export interface ParseJob {
  id: number;
  kind: 'json' | 'txt' | 'zip';
  name: string;
  bytes: Uint8Array;
  /** Size of the chunks the bytes are streamed in (chunk boundaries are where decoders break). */
  chunk: number;
}

export interface ParseOutcome {
  id: number;
  ok: boolean;
  ms: number;
  /** Heap in use right after the parse, in bytes. */
  heap: number;
  events?: number;
  pipelineError?: boolean;
  errorClass?: string;
  code?: string;
  message?: string;
}

function* slices(bytes: Uint8Array, size: number): Generator<Buffer> {
  for (let at = 0; at < bytes.length; at += size) yield Buffer.from(bytes.subarray(at, at + size));
}

async function run(job: ParseJob): Promise<number> {
  let events = 0;
  if (job.kind === 'zip') {
    const file = path.join(tmpdir(), `fuzz-${process.pid}-${job.id}.zip`);
    await writeFile(file, job.bytes);
    try {
      const archive = await openArchive(file);
      try {
        for await (const _event of archive.events()) events++;
      } finally {
        await archive.close();
      }
    } finally {
      await rm(file, { force: true });
    }
    return events;
  }
  const parse = job.kind === 'json' ? parseJsonExportBatches : parseTxtExportBatches;
  for await (const batch of parse(Readable.from(slices(job.bytes, job.chunk)), job.name))
    events += batch.length;
  return events;
}

parentPort?.on('message', (job: ParseJob) => {
  const started = performance.now();
  const done = (outcome: Omit<ParseOutcome, 'id' | 'ms' | 'heap'>) =>
    parentPort?.postMessage({
      id: job.id,
      ms: performance.now() - started,
      heap: process.memoryUsage().heapUsed,
      ...outcome,
    } satisfies ParseOutcome);
  run(job).then(
    (events) => done({ ok: true, events }),
    (error: unknown) =>
      done({
        ok: false,
        pipelineError: error instanceof PipelineError,
        errorClass: (error as Error)?.constructor?.name ?? typeof error,
        code: (error as { code?: string })?.code,
        message: String((error as Error)?.message ?? error).slice(0, 300),
      }),
  );
});
