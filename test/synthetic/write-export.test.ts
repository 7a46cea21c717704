import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExportStream, generateUser, renderJson, writeExport } from '../../src/synthetic/index.js';
import { countJson, readZip } from './export-reader.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'synthetic-export-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const user = generateUser({ seed: 5, username: 'zip.tester', scale: 3_000 });

describe('writeExport', () => {
  it('produces the same bytes for the same seed, and different bytes for another seed', async () => {
    for (const format of ['json', 'txt'] as const) {
      const a = path.join(dir, `a-${format}.zip`);
      const b = path.join(dir, `b-${format}.zip`);
      const c = path.join(dir, `c-${format}.zip`);
      await writeExport(user, { era: '2025', format }, a);
      await writeExport(
        generateUser({ seed: 5, username: 'zip.tester', scale: 3_000 }),
        { era: '2025', format },
        b,
      );
      await writeExport(
        generateUser({ seed: 6, username: 'zip.tester', scale: 3_000 }),
        { era: '2025', format },
        c,
      );
      const [ba, bb, bc] = await Promise.all([readFile(a), readFile(b), readFile(c)]);
      expect(ba.equals(bb)).toBe(true);
      expect(ba.equals(bc)).toBe(false);
    }
  });

  it('writes one JSON member per era, whose content matches renderJson and the stats', async () => {
    for (const era of ['2021-2023', '2025', '2026'] as const) {
      const file = path.join(dir, `json-${era}.zip`);
      const stats = await writeExport(user, { era, format: 'json' }, file);
      const members = await readZip(file);
      const name = era === '2021-2023' ? 'user_data.json' : 'user_data_tiktok.json';
      expect([...members.keys()]).toEqual([name]);
      const text = members.get(name)!.toString('utf8');
      expect(text).toBe(renderJson(user, { era }).text);
      expect(stats.uncompressedBytes).toBe(Buffer.byteLength(text));
      expect(stats.bytes).toBe((await readFile(file)).length);
      expect(stats.bytes).toBeLessThan(stats.uncompressedBytes);
      expect(stats.expected).toEqual(countJson(JSON.parse(text), era));
    }
  });

  it('writes the TXT tree as zip members under TikTok_Data_<ts>/Tiktok/', async () => {
    const file = path.join(dir, 'txt.zip');
    const stats = await writeExport(user, { era: '2026', format: 'txt' }, file);
    const members = await readZip(file);
    expect(members.size).toBeGreaterThan(30);
    for (const name of members.keys())
      expect(name).toMatch(new RegExp(`^TikTok_Data_${user.now}/Tiktok/.+\\.txt$`));
    expect(stats.expected.watch_history).toBeGreaterThan(0);
    expect(stats.records).toBe(Object.values(stats.expected).reduce((a, b) => a + (b ?? 0), 0));
  });

  it('streams a zip that can be consumed without a file', async () => {
    const { stream, stats } = createExportStream(user, { era: '2025', format: 'json' });
    const parts: Buffer[] = [];
    for await (const chunk of stream) parts.push(chunk as Buffer);
    const zip = Buffer.concat(parts);
    expect(zip.subarray(0, 4).toString('latin1')).toBe('PK\u0003\u0004');
    expect((await stats).bytes).toBe(zip.length);
  });
});

describe('categories', () => {
  const keys = (categories: Parameters<typeof renderJson>[1]['categories'], era: '2025' | '2026' = '2025') =>
    JSON.parse(renderJson(user, { era, categories }).text);

  it('keeps only the activity sections for activity', () => {
    const doc = keys(['activity']);
    expect(Object.keys(doc)).toEqual(['Comment', 'Location Review', 'Your Activity']);
    expect(Object.keys(doc['Your Activity'])).not.toContain('Follower');
    expect(Object.keys(doc['Your Activity'])).not.toContain('Login History');
    expect(doc['Your Activity']).toHaveProperty('Watch History');
    const { expected } = renderJson(user, { era: '2025', categories: ['activity'] });
    expect(expected).not.toHaveProperty('dm_messages');
    expect(expected).not.toHaveProperty('profile');
    expect(expected).not.toHaveProperty('settings');
    expect(expected.watch_history).toBeGreaterThan(0);
  });

  it('keeps posts and profile for video + profile', () => {
    const doc = keys(['video', 'profile']);
    expect(Object.keys(doc)).toEqual(['Post', 'Profile', 'Your Activity']);
    expect(Object.keys(doc['Your Activity'])).toEqual(['Follower', 'Following']);
    expect(Object.keys(doc.Profile)).toEqual(['Profile Info']);
    const doc26 = keys(['video', 'profile'], '2026');
    expect(Object.keys(doc26)).toEqual(['Post', 'Profile And Settings']);
    expect(Object.keys(doc26['Profile And Settings'])).toEqual(['Follower', 'Following', 'Profile Info']);
  });

  it('keeps only the chats for direct_message', () => {
    expect(Object.keys(keys(['direct_message']))).toEqual(['Direct Message']);
    expect(
      Object.keys(renderJson(user, { era: '2025', categories: ['direct_message'] }).expected).sort(),
    ).toEqual(['dm_conversations', 'dm_messages']);
  });

  it('treats all_data as everything, whatever else is listed', () => {
    expect(renderJson(user, { era: '2026', categories: ['activity', 'all_data'] }).text).toBe(
      renderJson(user, { era: '2026' }).text,
    );
  });
});
