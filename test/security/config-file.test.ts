import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { configFileWarnings } from '../../src/cli/config-file-check.js';
import { loadConfig } from '../../src/config.js';
import { runCli } from '../cli/run-cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

const CLIENT_SECRET = 'client-secret-CANARY-7b1f';
const ENCRYPTION_KEY = Buffer.alloc(32, 0x42).toString('base64');
const DB_PASSWORD = 'db-password-CANARY-93ac';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'config-file-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function configFile(name: string, body: unknown, mode: number): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, JSON.stringify(body));
  await chmod(file, mode);
  return file;
}

const secrets = {
  databaseUrl: `postgres://tiktok:${DB_PASSWORD}@127.0.0.1:5432/tiktok`,
  tiktok: { clientKey: 'key', clientSecret: CLIENT_SECRET, encryptionKey: ENCRYPTION_KEY },
};

function expectNoSecret(text: string): void {
  for (const secret of [CLIENT_SECRET, ENCRYPTION_KEY, DB_PASSWORD]) expect(text).not.toContain(secret);
}

describe.skipIf(process.platform === 'win32')('config file with secrets', () => {
  it('warns when other users can read it, naming the keys and never their values', async () => {
    const file = await configFile('world.json', secrets, 0o644);
    const warnings = configFileWarnings({ configPath: file });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /holds `tiktok\.clientSecret`, `tiktok\.encryptionKey`, `databaseUrl` and every user of this machine can read it \(mode 644\); make it private with `chmod 600/,
    );
    expectNoSecret(warnings.join('\n'));
  });

  it('warns when its group can read it', async () => {
    const file = await configFile('group.json', { tiktok: { clientSecret: CLIENT_SECRET } }, 0o640);
    expect(configFileWarnings({ configPath: file })).toEqual([
      expect.stringMatching(/its group can read it \(mode 640\)/),
    ]);
  });

  it('is quiet when the file is private, holds no secret, or names a database without a password', async () => {
    expect(configFileWarnings({ configPath: await configFile('private.json', secrets, 0o600) })).toEqual([]);
    expect(
      configFileWarnings({ configPath: await configFile('plain.json', { dataDir: '/tmp/x' }, 0o644) }),
    ).toEqual([]);
    expect(
      configFileWarnings({
        configPath: await configFile(
          'nopass.json',
          { databaseUrl: 'postgres://tiktok@127.0.0.1/tiktok' },
          0o644,
        ),
      }),
    ).toEqual([]);
  });

  it('finds the file the way the config does: TIKTOK_SYNC_CONFIG, then ./tiktok-sync.config.json', async () => {
    const file = await configFile('tiktok-sync.config.json', secrets, 0o644);
    expect(configFileWarnings({ env: { TIKTOK_SYNC_CONFIG: file } })).toHaveLength(1);
    expect(configFileWarnings({ env: {}, cwd: dir })).toHaveLength(1);
    expect(configFileWarnings({ env: {}, cwd: path.join(dir, 'nowhere') })).toEqual([]);
  });

  it('never echoes a secret when the config is refused', async () => {
    const cases: unknown[] = [
      { tiktok: { clientSecret: CLIENT_SECRET, encryptionKey: 'not-a-key-CANARY' } },
      { tiktok: { clientSecret: CLIENT_SECRET, clientSecrte: CLIENT_SECRET } },
      { databaseUrl: secrets.databaseUrl, logLevel: 'loud' },
    ];
    for (const [i, body] of cases.entries()) {
      const file = await configFile(`refused-${i}.json`, body, 0o600);
      let message = '';
      try {
        loadConfig({ configPath: file, env: {} });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message, JSON.stringify(body)).not.toBe('');
      expectNoSecret(message);
      expect(message).not.toContain('not-a-key-CANARY');
    }
  });

  // config.ts quotes the value of a key that has the wrong type, except for secret keys.
  it('never echoes a secret given with the wrong type', async () => {
    const file = await configFile('typed.json', { tiktok: { clientSecret: [CLIENT_SECRET] } }, 0o600);
    let message = '';
    try {
      loadConfig({ configPath: file, env: {} });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/clientSecret/);
    expectNoSecret(message);
  });
});

describe.skipIf(process.platform === 'win32')('commands warn about a config file others can read', () => {
  let database: TestDatabase;
  let file: string;
  const WARNING =
    /Config file `.*commands\.json` holds `tiktok\.clientSecret`, `tiktok\.encryptionKey`, `databaseUrl` and every user of this machine can read it \(mode 644\); make it private with `chmod 600 /;

  beforeAll(async () => {
    database = await createTestDatabase();
    // DATABASE_URL wins over the file's `databaseUrl` (whose password is the canary).
    vi.stubEnv('DATABASE_URL', database.url);
    vi.stubEnv('TIKTOK_SYNC_DATA_DIR', path.join(dir, 'data'));
    file = await configFile('commands.json', secrets, 0o644);
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await database?.drop();
  });

  it('import prints it on stderr', async () => {
    const result = await runCli(['--config', file, 'import', path.join(dir, 'nope.zip'), '--account', 'a']);
    expect(result.stderr.filter((line) => line.startsWith('warning: '))).toEqual([
      expect.stringMatching(WARNING),
    ]);
    expectNoSecret(result.text);
  });

  it('sync prints it on stderr', async () => {
    const result = await runCli(['--config', file, 'sync', '--account', 'nobody', '--once']);
    expect(result.code).toBe(1);
    expect(result.stderr.filter((line) => line.startsWith('warning: '))).toEqual([
      expect.stringMatching(WARNING),
    ]);
    expectNoSecret(result.text);
  });

  it('the daemon (`run`) logs it as it starts', async () => {
    const result = await runCli(['--config', file, 'run', '--once']);
    expect(result.code, result.text).toBe(0);
    const warnings = result.logs.map((line) => JSON.parse(line)).filter((entry) => entry.level === 40);
    expect(warnings.map((entry) => entry.msg)).toEqual([expect.stringMatching(WARNING)]);
    expectNoSecret(result.text);
  });
});
