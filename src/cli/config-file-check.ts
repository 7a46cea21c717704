import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export interface ConfigFileCheckOptions {
  /** `--config`; otherwise `TIKTOK_SYNC_CONFIG`, then `./tiktok-sync.config.json` (as loadConfig finds it). */
  configPath?: string | undefined;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/**
 * Warnings about the config file itself: it holds secrets (the TikTok client secret, the token
 * encryption key, a database password) and other users of the machine can read it. The warning
 * names the keys, never their values. Empty when there is no file, no secret in it, or it is private
 * (as `chmod 600` makes it); on Windows, where modes say nothing, always empty.
 */
export function configFileWarnings(options: ConfigFileCheckOptions = {}): string[] {
  if (process.platform === 'win32') return [];
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const given = options.configPath ?? env.TIKTOK_SYNC_CONFIG;
  const file = path.resolve(cwd, given ?? 'tiktok-sync.config.json');
  let mode: number;
  let parsed: unknown;
  try {
    mode = statSync(file).mode;
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return []; // missing or not JSON: loadConfig says so
  }
  if ((mode & 0o044) === 0) return [];
  const secrets = secretKeys(parsed);
  if (secrets.length === 0) return [];
  const who = (mode & 0o004) !== 0 ? 'every user of this machine' : 'its group';
  return [
    `Config file \`${file}\` holds ${secrets.map((key) => `\`${key}\``).join(', ')} and ${who} can read it (mode ${(mode & 0o777).toString(8)}); make it private with \`chmod 600 ${file}\`, or move the secrets to environment variables.`,
  ];
}

/** Keys of the file that hold a secret. */
function secretKeys(parsed: unknown): string[] {
  if (!parsed || typeof parsed !== 'object') return [];
  const root = parsed as Record<string, unknown>;
  const tiktok = (root.tiktok && typeof root.tiktok === 'object' ? root.tiktok : {}) as Record<
    string,
    unknown
  >;
  const keys: string[] = [];
  if (present(tiktok.clientSecret)) keys.push('tiktok.clientSecret');
  if (present(tiktok.encryptionKey)) keys.push('tiktok.encryptionKey');
  if (typeof root.databaseUrl === 'string' && hasPassword(root.databaseUrl)) keys.push('databaseUrl');
  return keys;
}

function present(value: unknown): boolean {
  return value !== undefined && value !== null && value !== '';
}

function hasPassword(url: string): boolean {
  try {
    return new URL(url).password !== '';
  } catch {
    return /:[^:@/]+@/.test(url) || /password=/i.test(url);
  }
}
