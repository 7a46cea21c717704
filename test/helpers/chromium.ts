/**
 * Debian's Chromium for the browser tests, driven by playwright-core (whose own browser download is
 * not reachable here): where it is, whether it is there, and one way to launch it headless.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const HAVE_CHROMIUM = existsSync(CHROMIUM);

/** Says, once per test file that needs it, what to install when Chromium is missing. */
export function sayWhenChromiumIsMissing(what: string): void {
  if (HAVE_CHROMIUM) return;
  console.log(
    `install Debian's chromium (apt-get install -y chromium) to run ${what} (looked for ${CHROMIUM}; CHROMIUM_PATH overrides it)`,
  );
}

/**
 * Headless, with a fresh profile of its own (removed when it closes), and without the background
 * connections a closed network would refuse.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
