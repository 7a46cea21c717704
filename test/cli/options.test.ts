import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageVersion } from '../../src/cli/version.js';
import { runCli } from './run-cli.js';

describe('tiktok-sync --version', () => {
  it('prints the version in package.json', async () => {
    const manifest = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8'));
    for (const flag of ['--version', '-V']) {
      const run = await runCli([flag]);
      expect(run.code).toBe(0);
      expect(run.stdout).toEqual([manifest.version]);
    }
  });

  describe('packageVersion', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'version-test-'));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('finds the package.json above a built module, skipping those of other packages', async () => {
      await writeFile(
        path.join(dir, 'package.json'),
        JSON.stringify({ name: 'tiktok-portability-sync', version: '9.8.7' }),
      );
      await mkdir(path.join(dir, 'dist', 'src', 'cli'), { recursive: true });
      await writeFile(path.join(dir, 'dist', 'package.json'), JSON.stringify({ type: 'module' }));
      expect(packageVersion(path.join(dir, 'dist', 'src', 'cli', 'version.js'))).toBe('9.8.7');
    });
  });
});

describe('tiktok-sync options', () => {
  it('reports a mistyped option as unknown and suggests the right one', async () => {
    const run = await runCli(['sync', '--acount', 'ana', '--once']);
    expect(run.code).toBe(2);
    expect(run.stderr.join('\n')).toContain("error: unknown option '--acount'");
    expect(run.stderr.join('\n')).toContain('(Did you mean --account?)');
    expect(run.text).not.toContain('required option');
  });

  it('still names a required option that is missing', async () => {
    const run = await runCli(['sync', '--once']);
    expect(run.code).toBe(2);
    expect(run.stderr.join('\n')).toContain("error: required option '-a, --account <name>' not specified");
  });
});
