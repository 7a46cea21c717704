import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Era, generateUser, renderJson, renderTxt } from '../../src/synthetic/index.js';
import { zipOf } from '../reliability/support/zips.js';
import type { ParseJob, ParseOutcome } from './parse-worker.js';

/**
 * Property-based fuzzing of the parsers: random mutations of valid synthetic exports (bytes flipped,
 * cut, deleted, repeated, foreign tokens inserted; JSON values replaced by other shapes) must end
 * either in events or in one of our errors (PipelineError), never in anything else, never hang and
 * never use more than a bounded heap. The parsing happens in a worker thread whose heap is capped
 * (running out of it fails the test) and which is terminated when it does not answer in time.
 */

/** Heap cap of the parsing thread, for inputs of at most a few hundred kilobytes. */
const HEAP_MB = 256;
/** One parse of such an input takes milliseconds; this is the bound on "never hang". */
const MAX_MS = 3_000;
const RUNS = Number(process.env.FUZZ_RUNS ?? 800);

interface Seed {
  kind: 'json' | 'txt';
  name: string;
  bytes: Buffer;
}

let worker: Worker;
let nextId = 0;
const seeds: Seed[] = [];
const stats = { runs: 0, accepted: 0, refused: new Map<string, number>(), slowestMs: 0, maxHeapMb: 0 };

/** The worker runs TypeScript through tsx's loader, registered in the thread before its entry. */
function startWorker(): Worker {
  const tsx = pathToFileURL(
    path.join(
      path.dirname(createRequire(import.meta.url).resolve('tsx/package.json')),
      'dist/esm/api/index.mjs',
    ),
  ).href;
  const entry = new URL('./parse-worker.ts', import.meta.url).href;
  const boot = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(boot, {
    eval: true,
    resourceLimits: { maxOldGenerationSizeMb: HEAP_MB },
  });
}

/** Parses in the worker; fails (and replaces the worker) on a hang or when it runs out of heap. */
function parse(job: Omit<ParseJob, 'id'>): Promise<ParseOutcome> {
  const id = ++nextId;
  return new Promise<ParseOutcome>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      void worker.terminate();
      worker = startWorker();
      reject(new Error(`The parser did not finish within ${MAX_MS * 3} ms (${job.kind} ${job.name}).`));
    }, MAX_MS * 3);
    const onMessage = (outcome: ParseOutcome) => {
      if (outcome.id !== id) return;
      cleanup();
      resolve(outcome);
    };
    const onError = (error: Error) => {
      cleanup();
      worker = startWorker();
      reject(new Error(`The parsing thread died (${error.message}); heap cap ${HEAP_MB} MB.`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('error', onError);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.postMessage({ ...job, id });
  });
}

function check(outcome: ParseOutcome, what: string): void {
  stats.runs++;
  stats.slowestMs = Math.max(stats.slowestMs, outcome.ms);
  stats.maxHeapMb = Math.max(stats.maxHeapMb, outcome.heap / 2 ** 20);
  if (outcome.ok) stats.accepted++;
  else stats.refused.set(outcome.code ?? '?', (stats.refused.get(outcome.code ?? '?') ?? 0) + 1);
  if (!outcome.ok && !outcome.pipelineError) {
    throw new Error(`${what} threw ${outcome.errorClass} (${outcome.code}): ${outcome.message}`);
  }
  if (outcome.ms > MAX_MS) throw new Error(`${what} took ${Math.round(outcome.ms)} ms`);
}

// ---- mutations -----------------------------------------------------------------------------------

/** Things that break parsers: structure, escapes, encodings, dates, ids, markers of the TXT layout. */
const TOKENS = [
  '{',
  '}',
  '[',
  ']',
  '"',
  ',',
  ':',
  '\\',
  'null',
  'true',
  '-0',
  '1e999999',
  '99999999999999999999999',
  '"\\u0000"',
  '"\\ud800"',
  '"\\udc00x"',
  '\u0000',
  '\ufeff',
  '\u2028',
  '\r\n',
  '\n\n\n',
  ' UTC',
  '2024-02-30 00:00:00',
  '9999-12-31 23:59:60',
  '"Chat History with :"',
  '>>> Chat History with x::\n',
  'Date: \n',
  ': : :',
  '[['.repeat(300),
  '{"a":'.repeat(300),
  'https://www.tiktokv.com/share/video/99999999999999999999999/',
].map((text) => Buffer.from(text, 'utf8'));

/** Bytes that are not UTF-8 (Latin-1 letters, a cut sequence, an overlong form). */
const RAW = [Buffer.from([0xe9]), Buffer.from([0xc3]), Buffer.from([0xc0, 0xaf]), Buffer.from([0xff, 0xfe])];

type Mutation =
  | { op: 'flip'; at: number; count: number; xor: number }
  | { op: 'truncate'; at: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'delete'; at: number; length: number }
  | { op: 'repeat'; from: number; length: number; to: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    op: fc.constant('flip' as const),
    at: fc.nat(),
    count: fc.integer({ min: 1, max: 8 }),
    xor: fc.integer({ min: 1, max: 255 }),
  }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    op: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.oneof(
      fc.constantFrom(...TOKENS, ...RAW),
      fc.string({ maxLength: 40 }).map((s) => Buffer.from(s, 'utf8')),
      fc.uint8Array({ maxLength: 40 }),
    ),
  }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 400 }) }),
  fc.record({
    op: fc.constant('repeat' as const),
    from: fc.nat(),
    length: fc.integer({ min: 1, max: 4_000 }),
    to: fc.nat(),
  }),
);

function mutate(input: Buffer, mutations: readonly Mutation[]): Buffer {
  let bytes = input;
  for (const m of mutations) {
    const size = Math.max(1, bytes.length);
    switch (m.op) {
      case 'flip': {
        bytes = Buffer.from(bytes);
        for (let i = 0; i < m.count && bytes.length > 0; i++) {
          const at = (m.at + i * 7919) % bytes.length;
          bytes[at] = bytes[at]! ^ m.xor;
        }
        break;
      }
      case 'truncate':
        bytes = bytes.subarray(0, m.at % size);
        break;
      case 'insert': {
        const at = m.at % size;
        bytes = Buffer.concat([bytes.subarray(0, at), m.bytes, bytes.subarray(at)]);
        break;
      }
      case 'delete': {
        const at = m.at % size;
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + m.length)]);
        break;
      }
      case 'repeat': {
        const from = m.from % size;
        const to = m.to % size;
        const slice = bytes.subarray(from, from + m.length);
        bytes = Buffer.concat([bytes.subarray(0, to), slice, bytes.subarray(to)]);
        break;
      }
    }
  }
  return bytes;
}

/** A JSON value of a shape the section may not expect: other types, deep nesting, odd numbers. */
const strangeValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.constantFrom(null, '', 'N/A', 'None', 0, -1, 1.5, true, [], {}, [[[]]], { '': null }),
  fc.string({ maxLength: 30 }),
  fc.integer({ min: 1, max: 400 }).map((depth) => JSON.parse(`${'['.repeat(depth)}${']'.repeat(depth)}`)),
);

/** Replaces the value at a random path of a JSON document (walking down by random choices). */
function replaceAt(document: unknown, choices: readonly number[], value: unknown): unknown {
  if (choices.length === 0 || document === null || typeof document !== 'object') return value;
  const [choice, ...rest] = choices as [number, ...number[]];
  if (Array.isArray(document)) {
    if (document.length === 0) return value;
    const copy = [...document];
    const at = choice % copy.length;
    copy[at] = replaceAt(copy[at], rest, value);
    return copy;
  }
  const keys = Object.keys(document);
  if (keys.length === 0) return value;
  const key = keys[choice % keys.length]!;
  return { ...document, [key]: replaceAt((document as Record<string, unknown>)[key], rest, value) };
}

// ---- the properties ------------------------------------------------------------------------------

beforeAll(async () => {
  worker = startWorker();
  const user = generateUser({ seed: 21, username: 'fuzz.synthetic', scale: 80 });
  for (const era of ['2021-2023', '2025', '2026'] as Era[]) {
    const { name, text } = renderJson(user, { era });
    seeds.push({ kind: 'json', name, bytes: Buffer.from(text, 'utf8') });
  }
  for (const [name, text] of renderTxt(user, { era: '2026' }).files) {
    seeds.push({ kind: 'txt', name, bytes: Buffer.from(text, 'utf8') });
  }
  // The seeds themselves parse without an error.
  for (const seed of seeds) {
    const outcome = await parse({ kind: seed.kind, name: seed.name, bytes: seed.bytes, chunk: 65_536 });
    expect(outcome.ok, `${seed.name}: ${outcome.message}`).toBe(true);
  }
}, 60_000);

afterAll(async () => {
  console.info(
    `parser fuzzing: ${stats.runs} inputs, ${stats.accepted} read, refused by code: ${JSON.stringify(Object.fromEntries(stats.refused))}; slowest ${Math.round(stats.slowestMs)} ms, largest heap ${Math.round(stats.maxHeapMb)} MB (cap ${HEAP_MB} MB)`,
  );
  await worker?.terminate();
});

describe('parser fuzzing', () => {
  it('ends byte-mutated JSON and TXT exports in events or a PipelineError, in bounded time and memory', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(),
        fc.array(mutation, { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 70_000 }),
        async (pick, mutations, chunk) => {
          const seed = seeds[pick % seeds.length]!;
          const bytes = mutate(seed.bytes, mutations);
          check(await parse({ kind: seed.kind, name: seed.name, bytes, chunk }), `${seed.kind} ${seed.name}`);
        },
      ),
      { numRuns: RUNS },
    );
  }, 120_000);

  it('ends JSON exports with values of unexpected shapes in events or a PipelineError', async () => {
    const documents = seeds
      .filter((s) => s.kind === 'json')
      .map((s) => ({ ...s, value: JSON.parse(s.bytes.toString()) }));
    await fc.assert(
      fc.asyncProperty(
        fc.nat(),
        fc.array(fc.nat(), { minLength: 1, maxLength: 6 }),
        strangeValue,
        fc.integer({ min: 1, max: 70_000 }),
        async (pick, path, value, chunk) => {
          const seed = documents[pick % documents.length]!;
          const bytes = Buffer.from(JSON.stringify(replaceAt(seed.value, path, value)), 'utf8');
          check(
            await parse({ kind: 'json', name: seed.name, bytes, chunk }),
            `json ${seed.name} at ${path.join('/')}`,
          );
        },
      ),
      { numRuns: RUNS },
    );
  }, 120_000);

  it('ends mutated zip archives in events or a PipelineError', async () => {
    const json = seeds.find((s) => s.kind === 'json')!;
    const txt = seeds.filter((s) => s.kind === 'txt').slice(0, 3);
    const archives = [
      await zipOf([{ name: json.name, data: json.bytes }]),
      await zipOf([{ name: json.name, data: json.bytes, compress: false }]),
      await zipOf(txt.map((s) => ({ name: s.name, data: s.bytes }))),
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.nat(),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        async (pick, mutations) => {
          const bytes = mutate(archives[pick % archives.length]!, mutations);
          check(await parse({ kind: 'zip', name: 'export.zip', bytes, chunk: 0 }), 'zip');
        },
      ),
      { numRuns: Math.ceil(RUNS / 2) },
    );
  }, 120_000);
});
