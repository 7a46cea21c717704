import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'config-operator-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

function refusal(load: () => unknown): ConfigError {
  try {
    load();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected the config to be refused');
}

async function withFile(content: unknown, env: Record<string, string> = {}) {
  const file = path.join(directory, `${Math.random().toString(36).slice(2)}.json`);
  await writeFile(file, JSON.stringify(content));
  return () => loadConfig({ configPath: file, env, cwd: directory });
}

describe('config (operator mistakes)', () => {
  it('has the example config listen on loopback only, as the README says', async () => {
    const example = JSON.parse(await readFile(path.join(ROOT, 'tiktok-sync.config.example.json'), 'utf8'));
    expect(example.sync.listen).toBe('127.0.0.1:8724');
  });

  it('keeps tiktok-sync.config.json, which holds secrets, out of git', async () => {
    const ignored = (await readFile(path.join(ROOT, '.gitignore'), 'utf8'))
      .split('\n')
      .map((line) => line.trim());
    expect(ignored).toContain('tiktok-sync.config.json');
  });

  it('says a directory given as the config file is a directory, not bad JSON', async () => {
    const folder = path.join(directory, 'a-folder');
    await mkdir(folder);
    const error = refusal(() => loadConfig({ configPath: folder, env: {} }));
    expect(error.message).toMatch(/is a directory; give the path of a JSON file/);
    expect(error.message).not.toMatch(/JSON \(|syntax/);
  });

  it.skipIf(process.getuid?.() === 0)(
    'says an unreadable config file cannot be read, not bad JSON',
    async () => {
      const file = path.join(directory, 'private.json');
      await writeFile(file, '{}');
      await chmod(file, 0o000);
      const error = refusal(() => loadConfig({ configPath: file, env: {} }));
      expect(error.message).toMatch(/cannot be read by this user \(EACCES\)/);
      expect(error.message).not.toMatch(/syntax/);
    },
  );

  it('gives advice for a too-short interval that the interval can follow', async () => {
    const { message } = refusal(await withFile({ sync: { interval: '1s' } }));
    expect(message).toMatch(/expected at least 1m, a duration such as 15m, 12h, 1d or 1h30m/);
    expect(message).not.toMatch(/30s/);
    expect(
      refusal(() => loadConfig({ env: { TIKTOK_SYNC_INTERVAL: '1s' }, cwd: directory })).message,
    ).toMatch(/^TIKTOK_SYNC_INTERVAL \(file key `sync.interval`\) is `1s`; expected at least 1m/);
  });

  it('refuses an API base URL that is not an http(s) URL, naming the setting', async () => {
    for (const value of ['not-a-url', 'base:8080', 'ftp://example.com']) {
      expect(
        refusal(() => loadConfig({ env: { TIKTOK_API_BASE_URL: value }, cwd: directory })).message,
        value,
      ).toBe(
        `TIKTOK_API_BASE_URL (file key \`tiktok.apiBaseUrl\`) is \`${value}\`; expected an absolute http:// or https:// URL such as https://open.tiktokapis.com.`,
      );
    }
    expect(refusal(await withFile({ tiktok: { authBaseUrl: 'not-a-url' } })).message).toMatch(
      /key `tiktok\.authBaseUrl` is `"not-a-url"`; expected an absolute http:\/\/ or https:\/\/ URL/,
    );
  });

  it('refuses a database URL that is not PostgreSQL, without echoing it', async () => {
    const url = 'mysql://root:hunter2@127.0.0.1/tiktok';
    const { message } = refusal(() => loadConfig({ env: { DATABASE_URL: url }, cwd: directory }));
    expect(message).toBe(
      'DATABASE_URL (file key `databaseUrl`) is set (value not shown); expected a postgres:// or postgresql:// connection string, not mysql:// (only PostgreSQL is supported).',
    );
    expect(refusal(await withFile({ databaseUrl: url })).message).not.toContain('hunter2');
    for (const good of ['postgres://u@h/db', 'postgresql://u@h/db']) {
      expect(loadConfig({ env: { DATABASE_URL: good }, cwd: directory }).database).toMatchObject({
        kind: 'external',
        connectionString: good,
      });
    }
  });

  it('validates the environment and the file with one schema: env values win, file values stay', async () => {
    const config = (
      await withFile(
        { archive: { keep: 3, keptDir: 'kept' }, tiktok: { scopes: ['portability.all.single'] } },
        {
          TIKTOK_SYNC_KEEP_ARCHIVES: 'None',
          TIKTOK_SYNC_EMBEDDED_PORT: '5555',
          TIKTOK_SCOPES: 'portability.activity.single, portability.all.ongoing',
          LOG_LEVEL: 'DEBUG',
        },
      )
    )();
    expect(config.archive.kept).toEqual({ keep: 'none', dir: path.join(directory, '.tiktok-sync', 'kept') });
    expect(config.database).toEqual({ kind: 'embedded', port: 5555 });
    expect(config.tiktok.scopes).toEqual(['portability.activity.single', 'portability.all.ongoing']);
    expect(config.logLevel).toBe('debug');
    expect(
      refusal(() => loadConfig({ env: { TIKTOK_SYNC_KEEP_ARCHIVES: '0' }, cwd: directory })).message,
    ).toBe(
      'TIKTOK_SYNC_KEEP_ARCHIVES (file key `archive.keep`) is `0`; expected "all", "none" or the number of archives to keep per account (1 or more).',
    );
    expect(
      refusal(() => loadConfig({ env: { TIKTOK_SCOPES: 'portability.everything' }, cwd: directory })).message,
    ).toMatch(
      /^TIKTOK_SCOPES \(file key `tiktok\.scopes`\) is `portability\.everything`; expected some of portability\.all\.single/,
    );
  });
});
