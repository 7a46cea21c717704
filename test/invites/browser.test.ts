// The functions given to page.evaluate run in the page: they are typed against the browser's DOM.
/// <reference lib="dom" />
/**
 * An invite in a real browser: Debian's Chromium, headless, driven by playwright-core (as the
 * report's browser tests). A person opens the link, presses the button, signs in and authorizes on
 * the sandbox's consent screen, and lands on the success page; the daemon then syncs the account.
 * An expired link and a cancelled consent show their pages. The pages' Content-Security-Policy is
 * the browser's to enforce: nothing is blocked, logged as an error, or fetched from elsewhere, and a
 * 375 px phone needs no sideways scrolling. Screenshots go to test-artifacts/invites/.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAVE_CHROMIUM, launchChromium, sayWhenChromiumIsMissing } from '../helpers/chromium.js';
import { step, type TestDaemon } from '../scheduler/support.js';
import { type InviteWorld, inviteWorld, MINUTE, rows, until } from './support.js';

sayWhenChromiumIsMissing('the invite browser tests');

const ARTIFACTS = path.resolve(import.meta.dirname, '../../test-artifacts/invites');
const PHONE = { width: 375, height: 812 };

describe.skipIf(!HAVE_CHROMIUM)('an invite link in Chromium', () => {
  let world: InviteWorld;
  let daemon: TestDaemon;
  let browser: Browser;

  beforeAll(async () => {
    world = await inviteWorld(['ana', 'bo']);
    daemon = await world.daemon('daemon-a');
    world.serve(daemon);
    await mkdir(ARTIFACTS, { recursive: true });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await world?.close();
  });

  /** A phone's page that records console errors, blocked content and requests to anywhere else. */
  async function phone(): Promise<{ page: Page; problems: string[] }> {
    const page = await browser.newPage({ viewport: PHONE });
    const problems: string[] = [];
    const allowed = [new URL(world.publicUrl).origin, world.sandbox.consentUrl];
    page.on('console', (message) => {
      if (message.type() !== 'error') return;
      const where = message.location().url;
      // A page answered with its own status (410 for an expired link) is logged as a failed load, as
      // is the favicon the browser asks every origin for: the tests check the statuses themselves.
      if (
        /^Failed to load resource/.test(message.text()) &&
        (where === page.url() || where.endsWith('/favicon.ico'))
      )
        return;
      problems.push(`console: ${message.text()} (${where})`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('request', (request) => {
      if (!allowed.some((origin) => request.url().startsWith(origin)))
        problems.push(`request: ${request.url()}`);
    });
    return { page, problems };
  }

  const heading = (page: Page) => page.getByRole('heading', { level: 1 }).textContent();
  const fitsThePhone = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth <= 375);

  it('goes from the link through the sandbox consent to the success page, and the daemon syncs the account', async () => {
    const { link } = await world.invite();
    const { page, problems } = await phone();
    try {
      const opened = await page.goto(link);
      expect(opened?.status()).toBe(200);
      expect(await page.evaluate(() => document.documentElement.lang)).toBe('en');
      expect(await heading(page)).toBe('Data Lab <Utrecht> asks for a copy of your TikTok data');
      await expect(
        page.getByRole('heading', { level: 2, name: 'What will be shared' }).count(),
      ).resolves.toBe(1);
      await expect(page.getByRole('link', { name: 'lab@example.org' }).getAttribute('href')).resolves.toBe(
        'mailto:lab@example.org',
      );
      // The inline style sheet applies (its hash is in the policy): the button is the accent colour.
      const button = page.getByRole('button', { name: 'Continue to TikTok' });
      expect(await button.evaluate((element) => getComputedStyle(element).backgroundColor)).toBe(
        'rgb(31, 95, 160)',
      );
      expect(await fitsThePhone(page)).toBe(true);
      await page.screenshot({ path: path.join(ARTIFACTS, 'invite-phone.png'), fullPage: true });

      await button.click();
      await page.waitForURL((url) => url.href.startsWith(world.sandbox.consentUrl));
      expect(await heading(page)).toMatch(/asks to access your TikTok data/);
      await page.getByRole('radio', { name: 'ana' }).check();
      expect(await page.getByRole('checkbox').count()).toBe(1);
      await page.screenshot({ path: path.join(ARTIFACTS, 'sandbox-consent-phone.png'), fullPage: true });
      await page.getByRole('button', { name: 'Authorize' }).click();

      await page.waitForURL((url) => url.href.startsWith(`${world.publicUrl}/oauth/callback`));
      expect(await heading(page)).toBe('Done: your TikTok account is connected');
      expect(await page.locator('main').getAttribute('data-page')).toBe('connected');
      expect(await fitsThePhone(page)).toBe(true);
      await page.screenshot({ path: path.join(ARTIFACTS, 'connected-phone.png'), fullPage: true });
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }

    const [account] = await rows<{ account_id: string; open_id: string; connected_via: string }>(
      world.database,
      `select a.account_id::text, a.open_id, c.connected_via
         from tiktok.accounts a join tiktok_sync.credentials c using (account_id)`,
    );
    expect(account).toMatchObject({
      open_id: world.sandbox.accounts.get('ana')!.openId,
      connected_via: 'invite',
    });
    await until(
      async () => (await rows(world.database, 'select 1 from tiktok_sync.data_requests')).length === 1,
    );
    await daemon.idle();
    await step(world.clock, [daemon], 2 * MINUTE);
    expect(await rows(world.database, 'select status from tiktok_sync.data_requests')).toEqual([
      { status: 'imported' },
    ]);
    const [watched] = await rows<{ n: number }>(
      world.database,
      'select count(*)::int as n from tiktok.watch_history where account_id = $1',
      [account!.account_id],
    );
    expect(watched!.n).toBeGreaterThan(0);
  });

  it('shows an expired link’s page, and a cancelled consent’s', async () => {
    const stale = await world.invite({ expiresInMs: MINUTE });
    const fresh = await world.invite();
    await world.clock.advance(2 * MINUTE);
    const { page, problems } = await phone();
    try {
      const opened = await page.goto(stale.link);
      expect(opened?.status()).toBe(410);
      expect(await heading(page)).toBe('This link has expired');
      expect(await page.getByRole('button').count()).toBe(0);
      expect(await fitsThePhone(page)).toBe(true);
      await page.screenshot({ path: path.join(ARTIFACTS, 'expired-phone.png'), fullPage: true });

      await page.goto(fresh.link);
      await page.getByRole('button', { name: 'Continue to TikTok' }).click();
      await page.waitForURL((url) => url.href.startsWith(world.sandbox.consentUrl));
      await page.getByRole('radio', { name: 'bo' }).check();
      await page.getByRole('button', { name: 'Cancel' }).click();
      await page.waitForURL((url) => url.href.startsWith(`${world.publicUrl}/oauth/callback`));
      expect(await heading(page)).toBe('You did not agree to share your data');
      await page.screenshot({ path: path.join(ARTIFACTS, 'denied-phone.png'), fullPage: true });
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
    expect(await rows(world.database, 'select count(*)::int as n from tiktok.accounts')).toEqual([{ n: 1 }]);
  });
});
