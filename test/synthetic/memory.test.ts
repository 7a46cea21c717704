import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateUser, writeExport } from '../../src/synthetic/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'synthetic-memory-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeExport memory', () => {
  it('renders a 2-million-record export with flat memory', async () => {
    const user = generateUser({ seed: 2, username: 'heavy.user', scale: 2_000_000 });
    const file = path.join(dir, 'big.zip');
    global.gc?.();
    const start = process.memoryUsage().rss;
    let peak = start;
    const timer = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    try {
      const stats = await writeExport(user, { era: '2026', format: 'json' }, file);
      expect(stats.records).toBeGreaterThan(1_900_000);
      // The document is far larger than the memory the render may take.
      expect(stats.uncompressedBytes).toBeGreaterThan(300 * 1024 * 1024);
      expect((await stat(file)).size).toBe(stats.bytes);
    } finally {
      clearInterval(timer);
    }
    peak = Math.max(peak, process.memoryUsage().rss);
    expect(peak - start).toBeLessThan(200 * 1024 * 1024);
  });
});
