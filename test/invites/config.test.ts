import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';
import { runCli } from '../cli/run-cli.js';

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'invite-config-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

let files = 0;
async function file(content: unknown): Promise<string> {
  const name = path.join(directory, `config-${files++}.json`);
  await writeFile(name, JSON.stringify(content));
  return name;
}

async function load(content: unknown, env: Record<string, string> = {}) {
  return loadConfig({ configPath: await file(content), env, cwd: directory });
}

async function failure(content: unknown, env: Record<string, string> = {}): Promise<string> {
  const error = await load(content, env).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ConfigError);
  return (error as Error).message;
}

const operator = { operatorName: 'Data Lab', operatorContact: 'lab@example.org' };

describe('server.publicUrl and the operator', () => {
  it('derives the redirect URI from the public URL, with or without a path and trailing slash', async () => {
    const config = await load({ server: { publicUrl: 'https://sync.example.org/', ...operator } });
    expect(config.server).toEqual({
      publicUrl: 'https://sync.example.org',
      redirectUri: 'https://sync.example.org/oauth/callback',
      operator: { name: 'Data Lab', contact: 'lab@example.org' },
    });
    const behindPrefix = await load({ server: { publicUrl: 'https://example.org/tiktok/', ...operator } });
    expect(behindPrefix.server.redirectUri).toBe('https://example.org/tiktok/oauth/callback');
    expect((await load({})).server).toEqual({
      publicUrl: undefined,
      redirectUri: undefined,
      operator: undefined,
    });
  });

  it('allows plain http only on loopback, for local use and tests', async () => {
    for (const local of ['http://127.0.0.1:8724', 'http://localhost:8724', 'http://[::1]:8724']) {
      expect((await load({ server: { publicUrl: local, ...operator } })).server.publicUrl).toBe(local);
    }
    expect(await failure({ server: { publicUrl: 'http://sync.example.org', ...operator } })).toBe(
      `Config file \`${path.join(directory, `config-${files - 1}.json`)}\`: key \`server.publicUrl\` is \`"http://sync.example.org"\`; expected the https:// address people reach the daemon at, such as https://sync.example.org (http:// only on 127.0.0.1 or localhost), without query or fragment: TikTok redirects only to https, and invite links carry consent.`,
    );
    for (const wrong of ['sync.example.org', 'ftp://x.org', 'https://x.org/?a=1', 'https://x.org/#top']) {
      expect(await failure({ server: { publicUrl: wrong, ...operator } })).toMatch(
        /key `server\.publicUrl` is .*; expected the https:\/\/ address/,
      );
    }
  });

  it('needs the operator’s name and contact with a public URL, from the file or the environment', async () => {
    expect(await failure({ server: { publicUrl: 'https://x.org', operatorName: 'Lab' } })).toMatch(
      /key `server\.operatorContact` is missing; expected a non-empty string when server\.publicUrl is set/,
    );
    const fromEnv = await load(
      {},
      {
        TIKTOK_SYNC_PUBLIC_URL: 'https://sync.example.org',
        TIKTOK_SYNC_OPERATOR_NAME: 'Data Lab',
        TIKTOK_SYNC_OPERATOR_CONTACT: 'https://example.org/contact',
      },
    );
    expect(fromEnv.server.operator).toEqual({ name: 'Data Lab', contact: 'https://example.org/contact' });
    expect(await failure({}, { TIKTOK_SYNC_PUBLIC_URL: 'http://sync.example.org' })).toMatch(
      /^TIKTOK_SYNC_PUBLIC_URL \(file key `server\.publicUrl`\) is `http:\/\/sync\.example\.org`; expected the https/,
    );
  });

  it('`run --print-redirect-uri` prints the URI to register with the app, or says what to set', async () => {
    const configured = await file({ server: { publicUrl: 'https://sync.example.org/', ...operator } });
    const printed = await runCli(['--config', configured, 'run', '--print-redirect-uri']);
    expect(printed).toMatchObject({ code: 0, stdout: ['https://sync.example.org/oauth/callback'] });
    const unset = await runCli(['--config', await file({}), 'run', '--print-redirect-uri']);
    expect(unset.code).toBe(1);
    expect(unset.stderr.join('\n')).toMatch(/server\.publicUrl is not set .*TIKTOK_SYNC_PUBLIC_URL/);
  });
});
