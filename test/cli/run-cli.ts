import type { Output } from '../../src/cli/output.js';
import { main } from '../../src/cli.js';

export interface CliRun {
  code: number;
  stdout: string[];
  stderr: string[];
  logs: string[];
  /** Everything the command printed or logged. */
  text: string;
}

export interface RunOptions {
  /** Called with each consent URL the command prints, as a user would open it. */
  browser?: (consentUrl: string) => Promise<unknown>;
  /** Called with each printed line (stdout and stderr). */
  onLine?: (line: string) => void;
  signal?: AbortSignal;
}

const CONSENT_URL = /(https?:\/\/\S+\/v2\/auth\/authorize\/\S+)/;

/** Runs `main` in-process, capturing stdout, stderr and log lines. */
export async function runCli(args: string[], options: RunOptions = {}): Promise<CliRun> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const logs: string[] = [];
  const browsing: Promise<unknown>[] = [];
  // A browser that fails stops the command at once, instead of leaving it waiting for a redirect.
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  const seen = (line: string) => {
    options.onLine?.(line);
    const url = CONSENT_URL.exec(line)?.[1];
    if (url && options.browser) {
      const opened = options.browser(url);
      opened.catch((error: unknown) => stop.abort(error));
      browsing.push(opened);
    }
  };
  const output: Output = {
    out: (line = '') => {
      stdout.push(line);
      seen(line);
    },
    err: (line = '') => {
      stderr.push(line);
      seen(line);
    },
    interactive: false,
  };
  const code = await main(['node', 'tiktok-sync', ...args], output, {
    signal,
    logDestination: { write: (line: string) => void logs.push(line) },
  });
  await Promise.all(browsing);
  return { code, stdout, stderr, logs, text: [...stdout, ...stderr, ...logs].join('\n') };
}

/** A browser that opens the consent page and follows its redirect to the app, as a person would. */
export async function browse(consentUrl: string): Promise<number> {
  const consent = await fetch(consentUrl, { redirect: 'manual' });
  await consent.arrayBuffer();
  const location = consent.headers.get('location');
  if (!location) throw new Error(`The consent page answered HTTP ${consent.status} without a redirect.`);
  const landing = await fetch(location);
  await landing.arrayBuffer();
  return landing.status;
}
