import { chmod, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { registerRunCommand } from '../../src/cli/run.js';
import { tightenPrivateData } from '../../src/private-files.js';
import { generateUser, writeExport } from '../../src/synthetic/index.js';
import { systemClock } from '../../src/tiktok/clock.js';
import { runCli } from '../cli/run-cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { createWorld, requestsByAccount, type World } from '../scheduler/support.js';

/** Modes below a folder, relative path → octal mode (folders end in `/`). */
async function modes(root: string): Promise<Record<string, string>> {
  const found: Record<string, string> = {};
  const walk = async (dir: string) => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const inner = path.join(dir, entry.name);
      const name = path.relative(root, inner) + (entry.isDirectory() ? '/' : '');
      found[name] = ((await stat(inner)).mode & 0o777).toString(8);
      if (entry.isDirectory()) await walk(inner);
    }
  };
  await walk(root);
  return found;
}

const mode = async (file: string) => ((await stat(file)).mode & 0o777).toString(8);

// The modes must not depend on the umask: the tests run with none, so every mode is what was set.
let umask: number;
beforeEach(() => {
  umask = process.umask(0);
});
afterEach(() => {
  process.umask(umask);
});

describe.skipIf(process.platform === 'win32')('files written from an export are private', () => {
  let world: World;
  beforeAll(async () => {
    world = await createWorld(['ana'], { sandbox: { clock: systemClock, readyDelayMs: 0 } });
  });
  afterAll(async () => {
    await world?.close();
  });

  it('a sync writes its downloads folder 0700 and a download kept under retention 0600', async () => {
    const config = await world.config({}, { archive: { retention: '7d' } });
    const program = new Command('tiktok-sync').exitOverride();
    registerRunCommand(program, {
      output: { out: () => {}, err: () => {}, interactive: false },
      signal: new AbortController().signal,
      loadConfig: () => ({ ...config, logLevel: 'silent' }),
    });
    await program.parseAsync(['node', 'tiktok-sync', 'run', '--once']);
    expect((await requestsByAccount(world.database)).get('ana')?.map((r) => r.status)).toEqual(['imported']);

    const downloads = await modes(path.join(world.directory, 'downloads'));
    const kept = Object.keys(downloads).filter((name) => /^tiktok-.*\.zip$/.test(name));
    expect(kept).toHaveLength(1);
    expect(downloads[kept[0]!]).toBe('600');
    expect(await mode(path.join(world.directory, 'downloads'))).toBe('700');
    // The archive kept for reprocess: every folder 0700, every file 0600.
    const archives = await modes(path.join(world.directory, 'archives'));
    expect(Object.keys(archives).length).toBeGreaterThan(2);
    for (const [name, found] of Object.entries(archives)) {
      expect(found, name).toBe(name.endsWith('/') ? '700' : '600');
    }
    expect(await mode(path.join(world.directory, 'archives'))).toBe('700');
  });
});

describe.skipIf(process.platform === 'win32')('import', () => {
  let database: TestDatabase;
  let dir: string;
  let dataDir: string;
  let good: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    dir = await mkdtemp(path.join(tmpdir(), 'private-files-'));
    dataDir = path.join(dir, 'data');
    good = path.join(dir, 'TikTok_Data_1.zip');
    await writeExport(
      generateUser({ seed: 5, username: 'p', scale: 20 }),
      { era: '2025', format: 'json' },
      good,
    );
    vi.stubEnv('DATABASE_URL', database.url);
    vi.stubEnv('TIKTOK_SYNC_DATA_DIR', dataDir);
    await writeFile(path.join(dir, 'plain.json'), '{}');
    vi.stubEnv('TIKTOK_SYNC_CONFIG', path.join(dir, 'plain.json'));
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await database?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps a failed import in a 0700 quarantine as 0600, and a kept archive 0600 in 0700 folders', async () => {
    const bad = path.join(dir, 'broken.zip');
    await writeFile(bad, 'not a zip at all');
    const failed = await runCli(['import', bad, '--account', 'p']);
    expect(failed.code, failed.text).toBe(1);
    expect(await mode(dataDir)).toBe('700');
    expect(await mode(path.join(dataDir, 'quarantine'))).toBe('700');
    const quarantined = await modes(path.join(dataDir, 'quarantine'));
    expect(Object.keys(quarantined).length).toBeGreaterThanOrEqual(2); // the copy and its reason
    for (const [name, found] of Object.entries(quarantined)) expect(found, name).toBe('600');

    const imported = await runCli(['import', good, '--account', 'p']);
    expect(imported.code).toBe(0);
    const archives = await modes(path.join(dataDir, 'archives'));
    expect(Object.values(archives)).toContain('600');
    for (const [name, found] of Object.entries(archives)) {
      expect(found, name).toBe(name.endsWith('/') ? '700' : '600');
    }
  });

  it('tightens folders and files an earlier version left readable, with a note for each', async () => {
    const downloads = path.join(dataDir, 'downloads');
    await mkdir(downloads, { recursive: true });
    await chmod(dataDir, 0o755);
    await chmod(downloads, 0o755);
    await chmod(path.join(dataDir, 'quarantine'), 0o755);
    const download = path.join(downloads, 'tiktok-7-abcd.zip');
    await writeFile(download, 'an export');
    await chmod(download, 0o644);

    const result = await runCli(['status']);
    expect(result.code).toBe(0);
    const notes = result.stderr.filter((line) => line.startsWith('note: '));
    expect(notes).toEqual([
      `note: \`${dataDir}\` could be read by other users of this machine (mode 755); it is now 711, as it holds TikTok exports.`,
      `note: \`${downloads}\` could be read by other users of this machine (mode 755); it is now 700, as it holds TikTok exports.`,
      `note: \`${download}\` could be read by other users of this machine (mode 644); it is now 600.`,
      `note: \`${path.join(dataDir, 'quarantine')}\` could be read by other users of this machine (mode 755); it is now 700, as it holds TikTok exports.`,
    ]);
    // The data directory keeps its search bits: as root, the embedded Postgres must pass through it.
    expect(await mode(dataDir)).toBe('711');
    expect(await mode(downloads)).toBe('700');
    expect(await mode(download)).toBe('600');
    expect(await mode(path.join(dataDir, 'quarantine'))).toBe('700');

    // Once private, nothing more is said.
    const again = await runCli(['status']);
    expect(again.stderr.filter((line) => line.startsWith('note: '))).toEqual([]);
  });

  it('leaves a folder configured outside the data directory as it is, and says how to make it private', async () => {
    const shared = path.join(dir, 'shared-downloads');
    await mkdir(shared);
    await chmod(shared, 0o755);
    const config = path.join(dir, 'outside.json');
    await writeFile(config, JSON.stringify({ tiktok: { downloadDir: shared } }));
    const result = await runCli(['--config', config, 'status']);
    expect(result.code).toBe(0);
    expect(result.stderr.filter((line) => line.startsWith('note: '))).toEqual([
      `note: \`${shared}\` (tiktok.downloadDir) can be read by other users of this machine (mode 755); it is outside the data directory, so it was left as it is. The archives written there are private (600), but their names show: run \`chmod 700 ${shared}\` unless others need that folder.`,
    ]);
    expect(await mode(shared)).toBe('755');
  });

  it('the daemon logs what it made private as it starts', async () => {
    const downloads = path.join(dataDir, 'downloads');
    await chmod(downloads, 0o750);
    vi.stubEnv('TIKTOK_CLIENT_KEY', 'key');
    vi.stubEnv('TIKTOK_CLIENT_SECRET', 'secret');
    vi.stubEnv('TIKTOK_SYNC_ENCRYPTION_KEY', Buffer.alloc(32, 1).toString('base64'));
    const result = await runCli(['run', '--once']);
    expect(result.code, result.text).toBe(0);
    const warned = result.logs.map((line) => JSON.parse(line)).filter((entry) => entry.level === 40);
    expect(warned.map((entry) => entry.msg)).toEqual([
      `\`${downloads}\` could be read by other users of this machine (mode 750); it is now 700, as it holds TikTok exports.`,
    ]);
    expect(await mode(downloads)).toBe('700');
  });

  it('creates nothing when there is nothing yet', async () => {
    const nowhere = path.join(dir, 'not-yet');
    expect(
      tightenPrivateData({
        dataDir: nowhere,
        archive: {
          quarantineDir: path.join(nowhere, 'q'),
          kept: { keep: 'all', dir: path.join(nowhere, 'a') },
        },
        tiktok: { download: { directory: path.join(nowhere, 'd'), maxBytes: 1 } },
      } as unknown as Parameters<typeof tightenPrivateData>[0]),
    ).toEqual([]);
    await expect(stat(nowhere)).rejects.toThrow(/ENOENT/);
  });
});
