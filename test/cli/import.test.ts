import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Output } from '../../src/cli/output.js';
import { main } from '../../src/cli.js';
import { generateUser, renderJson, writeExport } from '../../src/synthetic/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { writeFolder } from '../helpers/folder.js';
import { renameEntry, zipBytes } from '../helpers/zip.js';

function capture(): Output & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    stdout,
    stderr,
    out: (l = '') => stdout.push(l),
    err: (l = '') => stderr.push(l),
    interactive: false,
  };
}

const user = generateUser({ seed: 3, username: 'cli.user', scale: 300 });

describe('tiktok-sync import', () => {
  let database: TestDatabase;
  let dir: string;
  let good: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    dir = await mkdtemp(path.join(tmpdir(), 'cli-test-'));
    vi.stubEnv('DATABASE_URL', database.url);
    vi.stubEnv('TIKTOK_SYNC_DATA_DIR', dir);
    good = path.join(dir, 'TikTok_Data_1.zip');
    await writeExport(user, { era: '2025', format: 'json' }, good);
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  });

  async function run(...args: string[]) {
    const output = capture();
    const code = await main(['node', 'tiktok-sync', ...args], output);
    return { code, ...output };
  }

  async function snapshot(): Promise<string> {
    const { rows } = await database.pool.query(
      `select string_agg(n::text, ',' order by t) as s from (
         select 'watch' as t, count(*) as n from tiktok.watch_history
         union all select 'likes', count(*) from tiktok.likes
         union all select 'dm', count(*) from tiktok.dm_messages
         union all select 'removed', count(*) from tiktok.watch_history where removed_at is not null
         union all select 'archives', count(*) from tiktok_sync.archives) x`,
    );
    return rows[0].s;
  }

  it('imports an export and prints a per-table summary', async () => {
    const { code, stdout } = await run('import', good, '--account', 'cli');
    expect(code).toBe(0);
    const text = stdout.join('\n');
    expect(text).toMatch(/^Imported TikTok_Data_1\.zip for account `cli` \(JSON, 2025 layout/);
    expect(text).toMatch(/table\s+inserted\s+updated\s+unchanged\s+removed\s+restored/);
    expect(text).toMatch(/watch_history\s+\d+\s+0\s+0\s+0\s+0/);
  });

  it('does nothing for the archive last imported, and reports every record unchanged with --force', async () => {
    const again = await run('import', good, '--account', 'cli');
    expect(again.code).toBe(0);
    expect(again.stdout.join('\n')).toMatch(/is the archive last imported for account `cli` .*nothing to do/);
    const forced = await run('import', good, '--account', 'cli', '--force');
    expect(forced.code).toBe(0);
    expect(forced.stdout.join('\n')).toMatch(/total\s+0\s+0\s+\d+\s+0\s+0/);
  });

  const bad: [string, () => Promise<Buffer>, RegExp, string][] = [
    [
      'not a zip',
      async () => Buffer.from('hello, this is not a zip file at all'),
      /not a zip/i,
      'archive_not_zip',
    ],
    [
      'a truncated zip',
      async () => (await readFileBytes()).subarray(0, 2000),
      /truncated|damaged|incomplete/i,
      'archive_truncated',
    ],
    [
      'an entry name with ..',
      async () =>
        renameEntry(await zipBytes([{ name: 'xx/evil.json', data: '{}' }]), 'xx/evil.json', '../evil.json'),
      /\.\./,
      'archive_unsafe_path',
    ],
    [
      'an absolute entry name',
      async () =>
        renameEntry(
          await zipBytes([{ name: 'etc/evil.json', data: '{}' }]),
          'etc/evil.json',
          '/tc/evil.json',
        ),
      /absolute|unsafe/i,
      'archive_unsafe_path',
    ],
    [
      'invalid JSON part-way',
      async () =>
        zipBytes([
          {
            name: 'user_data_tiktok.json',
            data: `{"Your Activity":{"Watch History":{"VideoList":[{"Date":"2024-01-01 00:00:00","Link":"x"},{"Date": oops`,
          },
        ]),
      /JSON/,
      'archive_invalid_json',
    ],
    [
      'a trailing comma (a hand-edited export)',
      async () =>
        zipBytes([
          {
            name: 'user_data_tiktok.json',
            data: '{"Your Activity":{"Watch History":{"VideoList":[{"Date":"2024-01-01 00:00:00","Link":"x"},]}}}',
          },
        ]),
      /JSON/,
      'archive_invalid_json',
    ],
    [
      'a JSON member cut short',
      async () =>
        zipBytes([
          {
            name: 'user_data_tiktok.json',
            data: '{"Your Activity":{"Watch History":{"VideoList":[{"Date":"2024-01-01 00:00:00","Link":"x"}',
          },
        ]),
      /ends before/i,
      'archive_invalid_json',
    ],
    [
      'a zip bomb',
      async () => zipBytes([{ name: 'user_data_tiktok.json', data: `{"a":"${'0'.repeat(5_000_000)}"}` }]),
      /too large|ratio|uncompressed/i,
      'archive_too_large',
    ],
  ];

  async function readFileBytes(): Promise<Buffer> {
    const { readFile } = await import('node:fs/promises');
    return readFile(good);
  }

  it.each(bad)(
    'refuses %s with one sentence, marks the run failed and keeps stored data',
    async (_name, make, message, errorCode) => {
      const before = await snapshot();
      const file = path.join(dir, `bad-${errorCode}-${Math.random().toString(36).slice(2)}.zip`);
      await writeFile(file, await make());
      const listing = async () => (await readdir(dir)).filter((name) => name !== 'quarantine');
      const filesBefore = await listing();
      const { code, stderr } = await run('import', file, '--account', 'cli');
      expect(code).toBe(1);
      const errors = stderr.filter((line) => line.startsWith('error: '));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(message);
      expect(await snapshot()).toBe(before);
      expect(await listing()).toEqual(filesBefore);
      // The archive is put aside with its reason (a copy: the user's file stays where it was).
      const quarantined = await readdir(path.join(dir, 'quarantine'));
      expect(quarantined.some((name) => name.endsWith(`${path.basename(file)}`))).toBe(true);
      const { rows } = await database.pool.query(
        'select status, error_code, error_message from tiktok_sync.sync_runs order by run_id desc limit 1',
      );
      expect(rows[0]).toMatchObject({ status: 'failed', error_code: errorCode });
      expect(rows[0].error_message).toMatch(message);
    },
  );

  it('explains a missing file and a missing --account', async () => {
    const missing = await run('import', path.join(dir, 'nope.zip'), '--account', 'cli');
    expect(missing.code).toBe(1);
    expect(missing.stderr.join('\n')).toMatch(
      /Cannot read `.*nope\.zip` \(ENOENT\); check the path\. `import` takes a TikTok export as its `\.zip`, the folder it unzips to, or a `\.json` or `\.txt` file from it\./,
    );
    const usage = await run('import', good);
    expect(usage.code).toBe(2);
    expect(usage.stderr.join('\n')).toMatch(/--account/);
  });

  it('lists accounts, archives and runs in status, also as JSON', async () => {
    const text = await run('status');
    expect(text.code).toBe(0);
    expect(text.stdout.join('\n')).toMatch(/Accounts[\s\S]*cli[\s\S]*Runs/);
    const machine = await run('status', '--json');
    const parsed = JSON.parse(machine.stdout.join('\n'));
    expect(parsed.accounts[0].name).toBe('cli');
    expect(parsed.runs.some((r: { status: string }) => r.status === 'failed')).toBe(true);
  });

  it('imports an unzipped export folder and a bare JSON file, and says which inputs it takes', async () => {
    const { name, text } = renderJson(user, { era: '2025' });
    const folder = await writeFolder(path.join(dir, 'TikTok_Data_1'), [
      [name, text],
      ['.DS_Store', Buffer.from([0, 0, 0, 1])],
      [`__MACOSX/._${name}`, Buffer.from([0, 5, 22, 7])],
    ]);
    const fromFolder = await run('import', `${folder}/`, '--account', 'cli-folder');
    expect(fromFolder.code).toBe(0);
    expect(fromFolder.stdout.join('\n')).toMatch(
      /^Imported TikTok_Data_1 for account `cli-folder` \(JSON, 2025 layout/,
    );
    expect((await run('import', folder, '--account', 'cli-folder')).stdout.join('\n')).toMatch(
      /^TikTok_Data_1 is the archive last imported for account `cli-folder` \(same content, /,
    );

    const bare = path.join(dir, 'bare', name);
    await writeFolder(path.dirname(bare), [[name, text]]);
    const fromFile = await run('import', bare, '--account', 'cli-folder');
    expect(fromFile.code).toBe(0);
    expect(fromFile.stdout.join('\n')).toMatch(/total\s+0\s+0\s+\d+\s+0\s+0/);

    const help = await run('import', '--help');
    expect(help.code).toBe(0);
    const usage = help.stdout.join('\n');
    expect(usage).toContain('Usage: tiktok-sync import [options] <path>');
    expect(usage.replace(/\s+/g, ' ')).toContain(
      'a .zip (e.g. TikTok_Data_1764000000.zip), an unzipped export folder (JSON or TXT), or a bare user_data_tiktok.json or section .txt file',
    );
    expect(usage).toContain('Following_1.txt');
  });

  it('refuses a device and an empty folder at once, naming the path and what to give instead', async () => {
    const before = await snapshot();
    const device = await run('import', '/dev/null', '--account', 'cli');
    expect(device.code).toBe(1);
    expect(device.stderr.filter((line) => line.startsWith('error: '))).toEqual([
      expect.stringMatching(
        /^error: `\/dev\/null` is a character device, not a file or folder, so it was not read\. `import` takes a TikTok export as its `\.zip`, the folder it unzips to, or a `\.json` or `\.txt` file from it\. \(run \d+ is marked failed at stage `unpack`; stored data is unchanged\)$/,
      ),
    ]);
    const empty = path.join(dir, 'empty-folder');
    await mkdir(empty);
    const folder = await run('import', empty, '--account', 'cli');
    expect(folder.code).toBe(1);
    expect(folder.stderr.join('\n')).toContain(
      `error: \`${empty}\` is an empty folder, not a TikTok export. Give the folder a TikTok export unzips to (it holds \`user_data_tiktok.json\`, or a \`Tiktok\` folder of \`.txt\` files), or the \`.zip\` itself.`,
    );
    expect(await snapshot()).toBe(before);
    // Neither is put aside: a device is never opened, and a user's folder stays where it is.
    const { rows } = await database.pool.query(
      'select error_code, quarantined_to from tiktok_sync.sync_runs order by run_id desc limit 2',
    );
    expect(rows).toEqual([
      { error_code: 'archive_no_export', quarantined_to: null },
      { error_code: 'archive_not_regular', quarantined_to: null },
    ]);
  });

  it('prints file, member and account names with their control characters made visible', async () => {
    const RED = '\u001b[31m';
    const SHOWN = '\\u001b[31m';
    const printed = (result: { stdout: string[]; stderr: string[] }) => {
      const text = [...result.stdout, ...result.stderr].join('\n');
      expect(text).not.toMatch(/[\u001b\u009b\r]/);
      return text;
    };
    const zip = path.join(dir, `colour${RED}.zip`);
    await writeFile(
      zip,
      await zipBytes([
        { name: 'Tiktok/Activity/Searches.txt', data: 'Date: 2024-01-01 00:00:00\nSearch Term: a\n' },
        { name: `Tiktok/Activity/Red${RED}\r.txt`, data: 'Date: 2024-01-01 00:00:00\nColour: red\n' },
      ]),
    );
    // Account names are letters, digits and a few signs; the refusal echoes the name given.
    const refused = await run('import', zip, '--account', `evil${RED}`);
    expect(refused.code).toBe(1);
    expect(printed(refused)).toContain(`error: Account name \`evil${SHOWN}\` is not valid`);

    const imported = await run('import', zip, '--account', 'colours');
    expect(imported.code, imported.stderr.join('\n')).toBe(0);
    const summary = printed(imported);
    expect(summary).toContain(`Imported colour${SHOWN}.zip for account \`colours\``);
    expect(summary).toContain(`Unknown file \`Activity/Red${SHOWN}\\u000d.txt\``);

    const broken = path.join(dir, 'broken-member.zip');
    await writeFile(
      broken,
      await zipBytes([{ name: `user_data${RED}.json`, data: '{"Your Activity": oops' }]),
    );
    const failed = await run('import', broken, '--account', 'colours');
    expect(failed.code).toBe(1);
    expect(printed(failed)).toContain(`\`user_data${SHOWN}.json\``);

    // Status lists the archive by its file name; JSON stays JSON, with the name as it is.
    expect(printed(await run('status'))).toContain(`colour${SHOWN}.zip`);
    const machine = await run('status', '--json');
    printed(machine);
    const archives = JSON.parse(machine.stdout.join('\n')).archives;
    expect(archives.map((a: { file_name: string }) => a.file_name)).toContain(`colour${RED}.zip`);
  });
});
