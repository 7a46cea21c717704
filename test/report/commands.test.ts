/**
 * `report` and `serve` without a browser: where the file goes and what it holds, the mistakes they
 * refuse, and what the server answers besides the page.
 */
import { createHash } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { connectTo } from '../../src/db/connect.js';
import { DEFAULT_ARCHIVE_LIMITS } from '../../src/ingest/archive.js';
import { importArchive } from '../../src/ingest/import-archive.js';
import { silentLogger } from '../../src/logger.js';
import { readOnly } from '../../src/report/build.js';
import { startReportServer } from '../../src/report/server.js';
import type { Listening } from '../../src/server/listen.js';
import { generateUser, writeExport } from '../../src/synthetic/index.js';
import { runCli } from '../cli/run-cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

let database: TestDatabase;
let dir: string;

beforeAll(async () => {
  database = await createTestDatabase();
  dir = await mkdtemp(path.join(tmpdir(), 'report-commands-'));
  const zipPath = path.join(dir, 'ana.zip');
  await writeExport(
    generateUser({ seed: 81, username: 'ana.synthetic', scale: 120 }),
    { era: '2026', format: 'json' },
    zipPath,
  );
  const handle = connectTo(database.url);
  try {
    await importArchive(
      { database: handle, logger: silentLogger(), limits: DEFAULT_ARCHIVE_LIMITS },
      { accountName: 'ana', zipPath },
    );
  } finally {
    await handle.close();
  }
  vi.stubEnv('DATABASE_URL', database.url);
  vi.stubEnv('TIKTOK_SYNC_DATA_DIR', dir);
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await database?.drop();
  await rm(dir, { recursive: true, force: true });
});

describe('tiktok-sync report', () => {
  it('writes one self-contained page to <dataDir>/report.html, readable by its owner only', async () => {
    const run = await runCli(['report']);
    expect(run.stderr).toEqual([]);
    expect(run.code).toBe(0);
    const file = path.join(dir, 'report.html');
    expect(run.stdout[0]).toBe(`Wrote the report of every account to ${file}`);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    // A report left readable by others (an older version, a copy) is made private when written again.
    await chmod(file, 0o644);
    expect((await runCli(['report'])).code).toBe(0);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const html = await readFile(file, 'utf8');
    // Nothing to load: no script or style sheet by address, no link elements, no frames.
    expect(html).not.toMatch(/<script[^>]*\ssrc=|<link\b|<iframe\b|<img\b/i);
    const policy = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/
      .exec(html)?.[1]
      ?.replaceAll('&#39;', "'");
    expect(policy).toMatch(/^default-src 'none'; script-src /);
    // Each inline script is allowed by its hash, and by nothing broader.
    const scripts = [...html.matchAll(/<script(?: type="module")?>([\s\S]*?)<\/script>/g)].map((m) => m[1]!);
    expect(scripts).toHaveLength(3);
    for (const script of scripts) {
      expect(policy).toContain(`'sha256-${createHash('sha256').update(script).digest('base64')}'`);
    }
    expect(policy).not.toContain("script-src 'unsafe-inline'");
    expect(html).toContain('<script type="application/json" id="report-data">');
  });

  it('writes where --out says, creating its folder', async () => {
    const file = path.join(dir, 'reports', 'ana.html');
    const run = await runCli(['report', '--account', 'ana', '--out', file, '--tz', 'Asia/Tokyo']);
    expect(run.code).toBe(0);
    expect(run.stdout[0]).toBe(`Wrote the report of account \`ana\` to ${file}`);
    const html = await readFile(file, 'utf8');
    expect(html).toContain('Days, hours and times in Asia/Tokyo (chosen with --tz).');
  });

  it('refuses an unknown account and an unknown time zone, saying what to do', async () => {
    const account = await runCli(['report', '--account', 'nobody']);
    expect(account.code).toBe(1);
    expect(account.stderr).toEqual([
      'error: There is no account named `nobody`; `tiktok-sync status` lists the accounts.',
    ]);
    const zone = await runCli(['report', '--tz', 'Mars/Olympus']);
    expect(zone.code).toBe(1);
    expect(zone.stderr).toEqual([
      'error: `Mars/Olympus` is not a time zone this database knows; give an IANA name such as `Europe/Berlin`, `America/New_York` or `UTC`.',
    ]);
  });

  it('says when there is no account yet', async () => {
    const empty = await createTestDatabase();
    try {
      vi.stubEnv('DATABASE_URL', empty.url);
      const file = path.join(dir, 'empty.html');
      expect((await runCli(['report', '--out', file])).code).toBe(0);
      expect(await readFile(file, 'utf8')).toContain('No accounts are stored yet');
    } finally {
      vi.stubEnv('DATABASE_URL', database.url);
      await empty.drop();
    }
  });
});

describe('tiktok-sync serve', () => {
  it('refuses an address other than loopback unless --allow-remote, and a malformed one', async () => {
    const remote = await runCli(['serve', '--listen', '0.0.0.0:0']);
    expect(remote.code).toBe(1);
    expect(remote.stderr[0]).toMatch(
      /^error: --listen 0\.0\.0\.0:0 is not a loopback address, and the report shows messages, logins and devices to whoever reaches it; .* pass --allow-remote/,
    );
    const malformed = await runCli(['serve', '--listen', 'localhost']);
    expect(malformed.code).toBe(1);
    expect(malformed.stderr).toEqual([
      'error: --listen is `localhost`; expected host:port, e.g. 127.0.0.1:8725 (port 0 picks a free one).',
    ]);
  });

  it('answers only GET and HEAD for / and /healthz, and only requests addressed to loopback', async () => {
    const listening: Listening = await startReportServer({
      pool: database.pool,
      host: '127.0.0.1',
      port: 0,
      report: {},
      logger: silentLogger(),
    });
    try {
      const ask = (method: string, pathname: string, host?: string) =>
        new Promise<{ status: number; body: string; headers: Record<string, unknown> }>((resolve, reject) => {
          const sent = request(
            {
              host: '127.0.0.1',
              port: listening.port,
              method,
              path: pathname,
              headers: host ? { host } : {},
            },
            (response) => {
              let body = '';
              response.on('data', (chunk) => {
                body += chunk;
              });
              response.on('end', () =>
                resolve({ status: response.statusCode ?? 0, body, headers: response.headers }),
              );
            },
          );
          sent.on('error', reject);
          sent.end();
        });
      const page = await ask('GET', '/');
      expect(page.status).toBe(200);
      expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(page.body).toContain('<h2>Account ana</h2>');
      const head = await ask('HEAD', '/');
      expect(head.status).toBe(200);
      expect(head.body).toBe('');
      expect(Number(head.headers['content-length'])).toBeGreaterThan(100_000);
      expect((await ask('GET', '/healthz')).body).toBe('{"ok":true}\n');
      expect((await ask('DELETE', '/')).status).toBe(405);
      expect((await ask('GET', '/report.html')).status).toBe(404);
      expect(await ask('GET', '/', `localhost:${listening.port}`)).toMatchObject({ status: 200 });
      // A page whose name was made to resolve to 127.0.0.1 (DNS rebinding) is not answered.
      expect(await ask('GET', '/', `attacker.example:${listening.port}`)).toMatchObject({
        status: 403,
        body: 'This report server answers only requests addressed to 127.0.0.1, [::1] or localhost.\n',
      });
    } finally {
      await listening.close();
    }
  });

  it('reads in a read-only transaction', async () => {
    const write = readOnly(database.pool, (client) =>
      client.query("update tiktok_sync.accounts set timezone = 'UTC' where name = 'ana'"),
    );
    await expect(write).rejects.toMatchObject({ code: '25006' });
  });
});
