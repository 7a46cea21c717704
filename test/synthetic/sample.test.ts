import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SAMPLE_PATH, writeSample } from '../../scripts/make-sample.js';
import { readZip } from './export-reader.js';

describe('samples/TikTok_Data_1764000000.zip', () => {
  it('is exactly what scripts/make-sample.ts writes (rerun it after changing the generator)', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'synthetic-sample-'));
    try {
      const out = path.join(dir, 'sample.zip');
      const stats = await writeSample(out);
      const [fresh, committed] = await Promise.all([readFile(out), readFile(SAMPLE_PATH)]);
      expect(fresh.equals(committed)).toBe(true);
      expect(stats.bytes).toBeLessThan(200 * 1024);
      expect(stats.records).toBeGreaterThan(200);
      const members = await readZip(SAMPLE_PATH);
      expect([...members.keys()]).toEqual(['user_data_tiktok.json']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
