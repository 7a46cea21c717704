import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../src/sandbox/index.js';
import { systemClock } from '../../src/tiktok/clock.js';
import {
  type CrashEnvironment,
  compileChild,
  IMPORT_KILL_POINTS,
  type ImportScenario,
  importTrial,
  prepareImportScenario,
  syncTrial,
  type TrialResult,
} from './support/crash-trials.js';
import { seededRandom } from './support/random.js';

/** Each kill point twice: ≥ 10 random trials in CI; `npm run soak` runs many more, larger. */
const IMPORT_TRIALS = IMPORT_KILL_POINTS.flatMap((point) => [point, point]);
const SYNC_TRIALS = 2;
/** Records per export: big enough for each stage to last a while, small enough for CI. */
const SCALE = 30_000;
const SEED = Number(process.env.CRASH_SEED ?? Date.now() % 1_000_000);

let environment: CrashEnvironment;
let scenario: ImportScenario;
let sandbox: Sandbox;
const results: TrialResult[] = [];

beforeAll(async () => {
  environment = {
    adminUrl: inject('adminUrl'),
    template: inject('templateDatabase'),
    dir: await mkdtemp(path.join(tmpdir(), 'crash-test-')),
  };
  await compileChild(path.join(environment.dir, 'child'));
  scenario = await prepareImportScenario(environment, { scale: SCALE, seed: 7 });
  sandbox = await startSandbox({
    clock: systemClock,
    readyDelayMs: 100,
    redirectUris: ['http://127.0.0.1:*/callback/'],
    accounts: Array.from({ length: SYNC_TRIALS }, (_, i) => ({ username: `crash.sync${i}`, scale: 3_000 })),
  });
}, 120_000);

afterAll(async () => {
  // The figures docs/reliability.md quotes.
  console.info(
    `crash trials (seed ${SEED}):\n${results
      .map(
        (r) =>
          `  ${r.kind} kill=${r.kill} killed=${r.killed} at=${r.atMs}ms stage=${r.stageAtKill} abandoned=${r.abandoned} (${r.abandonedAfterCommit} after commit) ok=${r.differences.length === 0} ${r.durationMs}ms`,
      )
      .join('\n')}`,
  );
  await sandbox?.close();
  if (environment) await rm(environment.dir, { recursive: true, force: true });
});

describe('crash safety', () => {
  it(`leaves the data equal to one clean run after SIGKILL at ${IMPORT_TRIALS.length} points of an import and a restart`, async () => {
    const random = seededRandom(SEED);
    for (const point of IMPORT_TRIALS) {
      const result = await importTrial(environment, scenario, point, { random });
      results.push(result);
      expect(result.differences, `${point} trial (seed ${SEED})`).toEqual([]);
      expect(result.killed, `${point} trial killed the child`).toBe(true);
    }
    const stages = new Set(results.map((r) => r.stageAtKill));
    // The in-process kill points land where they aim.
    expect(stages).toContain('parse');
    expect(stages).toContain('merge');
    expect(stages).toContain('record');
    expect(results.filter((r) => r.kill === 'after-commit').every((r) => r.abandonedAfterCommit === 1)).toBe(
      true,
    );
  }, 150_000);

  it(`resumes the same request after SIGKILL during the download, ${SYNC_TRIALS} times`, async () => {
    const random = seededRandom(SEED + 1);
    for (let i = 0; i < SYNC_TRIALS; i++) {
      const result = await syncTrial(environment, sandbox, `crash.sync${i}`, { random });
      results.push(result);
      expect(result.differences, `download trial ${i} (seed ${SEED})`).toEqual([]);
      expect(result.killed).toBe(true);
      expect(result.stageAtKill).toMatch(/^request (ready|pending)$/);
    }
  }, 90_000);
});
