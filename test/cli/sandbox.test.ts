import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { browse, runCli } from './run-cli.js';

let database: TestDatabase;
let dir: string;

beforeAll(async () => {
  database = await createTestDatabase();
  dir = await mkdtemp(path.join(tmpdir(), 'cli-sandbox-'));
  const config = path.join(dir, 'config.json');
  await writeFile(config, JSON.stringify({ tiktok: { pollInitialSeconds: 0.1, pollMaxSeconds: 0.3 } }));
  vi.stubEnv('DATABASE_URL', database.url);
  vi.stubEnv('TIKTOK_SYNC_DATA_DIR', dir);
  vi.stubEnv('TIKTOK_SYNC_CONFIG', config);
  vi.stubEnv('TIKTOK_SYNC_ENCRYPTION_KEY', randomBytes(32).toString('base64'));
  vi.stubEnv('TIKTOK_REDIRECT_URI', 'http://127.0.0.1:0/callback/');
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await database?.drop();
  await rm(dir, { recursive: true, force: true });
});

describe('tiktok-sync sandbox', () => {
  it('serves a local TikTok on the real clock that connect and sync work against, until stopped', async () => {
    const controller = new AbortController();
    const lines: string[] = [];
    let serving!: () => void;
    const started = new Promise<void>((resolve) => {
      serving = resolve;
    });
    const sandbox = runCli(['sandbox', '--port', '0', '--users', 'ana,bob', '--ready-after', '1s'], {
      signal: controller.signal,
      onLine: (line) => {
        lines.push(line);
        if (line === 'Serving until Ctrl-C.') serving();
      },
    });
    await Promise.race([started, sandbox.then((run) => Promise.reject(new Error(run.text)))]);

    const text = lines.join('\n');
    expect(text).toMatch(/^TikTok sandbox listening on http:\/\/127\.0\.0\.1:\d+/);
    expect(text).toContain('belong to this sandbox run only, so printing them is fine');
    expect(text).toContain('ready 1 s after they are made');
    const exported = Object.fromEntries(
      lines.flatMap((line) => {
        const match = /^ {2}export (TIKTOK_[A-Z_]+)=(\S+)$/.exec(line);
        return match ? [[match[1]!, match[2]!]] : [];
      }),
    );
    expect(Object.keys(exported).sort()).toEqual([
      'TIKTOK_API_BASE_URL',
      'TIKTOK_AUTH_BASE_URL',
      'TIKTOK_CLIENT_KEY',
      'TIKTOK_CLIENT_SECRET',
    ]);
    for (const [name, value] of Object.entries(exported)) vi.stubEnv(name, value);

    const ana = await runCli(['connect', '--no-open', '--account', 'ana'], { browser: browse });
    expect(ana.stderr).toEqual([]);
    expect(ana.stdout.join('\n')).toMatch(/as account `ana` \(a new account\)/);
    const bob = await runCli(['connect', '--no-open'], { browser: browse });
    expect(bob.code).toBe(0);
    const bobOpenId = /open_id (sbx-[0-9a-f]+)\)/.exec(text.slice(text.indexOf('bob (')))?.[1];
    expect(bob.stdout.join('\n')).toContain(`as account \`${bobOpenId}\` (a new account)`);

    const synced = await runCli(['sync', '--account', 'ana', '--once']);
    expect(synced.stderr.filter((line) => line.startsWith('error'))).toEqual([]);
    expect(synced.code).toBe(0);
    expect(synced.stderr.join('\n')).toMatch(/still preparing the data[\s\S]*ready to download/);
    expect(synced.stdout.join('\n')).toMatch(/watch_history\s+[1-9]/);

    controller.abort();
    expect((await sandbox).code).toBe(0);
  });

  it('refuses malformed flags as usage errors', async () => {
    const faults = await runCli(['sandbox', '--faults', 'sometimes']);
    expect(faults.code).toBe(2);
    expect(faults.stderr.join('\n')).toMatch(/--faults.*not of the form name=N/);
    const readyAfter = await runCli(['sandbox', '--ready-after', 'soon']);
    expect(readyAfter.code).toBe(2);
    expect(readyAfter.stderr.join('\n')).toMatch(/expected a duration such as 30s, 15m/);
  });
});
