import { afterEach, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../src/sandbox/index.js';
import { SimulatedClock } from '../../src/tiktok/clock.js';
import { oauthFor } from '../tiktok/support.js';

const REDIRECT = 'http://127.0.0.1:4567/oauth/callback';
const SCOPES = ['portability.activity.ongoing', 'portability.directmessages.ongoing'];
const HTML = 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8';

let sandbox: Sandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

async function start() {
  sandbox = await startSandbox({
    clock: new SimulatedClock(),
    redirectUris: ['http://127.0.0.1:*/oauth/callback'],
    accounts: [{ username: 'ana' }, { username: 'bo' }],
  });
  const oauth = oauthFor(sandbox, REDIRECT);
  return { sandbox, oauth, authorization: oauth.createAuthorization({ scopes: SCOPES, state: 'st-1' }) };
}

/** The screen's form as a browser submits it: its hidden fields, then the person's choices. */
function submitted(screen: string, choices: [string, string][]): string {
  const fields = [...screen.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map(
    ([, name, value]) => [name!, value!.replaceAll('&amp;', '&')] as [string, string],
  );
  return `${sandbox!.consentUrl}/v2/auth/authorize/?${new URLSearchParams([...fields, ...choices])}`;
}

async function redirectOf(url: string): Promise<URLSearchParams> {
  const response = await fetch(url, { redirect: 'manual' });
  await response.arrayBuffer();
  expect(response.status).toBe(302);
  const location = new URL(response.headers.get('location')!);
  expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
  return location.searchParams;
}

describe('the sandbox consent screen', () => {
  it('shows a browser who may sign in and what is asked, carrying the consent URL in the form', async () => {
    const { authorization } = await start();
    const page = await fetch(authorization.url, { headers: { accept: HTML }, redirect: 'manual' });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toMatch(/<html lang="en">/);
    expect(html).not.toMatch(/<script|https?:\/\/(?!127\.0\.0\.1)/);
    expect(html).toContain('value="ana" id="user-0" checked');
    expect(html).toContain('value="bo" id="user-1">');
    for (const scope of SCOPES) expect(html).toContain(`name="sandbox_scope" value="${scope}" checked`);
    expect(html).toContain('a copy of your direct messages, again and again');
    for (const [key] of new URL(authorization.url).searchParams)
      expect(html).toContain(`<input type="hidden" name="${key}"`);
  });

  it('answers the callback URL with the scopes ticked, as the user chosen, or with access_denied', async () => {
    const { authorization, oauth } = await start();
    const screen = await (await fetch(authorization.url, { headers: { accept: HTML } })).text();

    const partial = await redirectOf(
      submitted(screen, [
        ['sandbox_user', 'bo'],
        ['sandbox_scope', 'portability.activity.ongoing'],
        ['sandbox_decision', 'allow'],
      ]),
    );
    expect(partial.get('state')).toBe('st-1');
    expect(partial.get('scopes')).toBe('portability.activity.ongoing');
    const tokens = await oauth.exchangeCode(partial.get('code')!, authorization.codeVerifier);
    expect(tokens.scopes).toEqual(['portability.activity.ongoing']);
    expect(tokens.openId).toBe(sandbox!.accounts.get('bo')!.openId);

    const denied = await redirectOf(submitted(screen, [['sandbox_decision', 'deny']]));
    expect(Object.fromEntries(denied)).toMatchObject({ error: 'access_denied', state: 'st-1' });
    expect(denied.get('code')).toBeNull();

    const nothingTicked = await redirectOf(
      submitted(screen, [
        ['sandbox_user', 'ana'],
        ['sandbox_decision', 'allow'],
      ]),
    );
    expect(nothingTicked.get('error')).toBe('access_denied');
  });

  it('still consents at once for a program, as the queued decision says', async () => {
    const { authorization } = await start();
    sandbox!.consent({ account: 'bo', grant: ['portability.directmessages.ongoing'] });
    const answer = await redirectOf(authorization.url);
    expect(answer.get('scopes')).toBe('portability.directmessages.ongoing');
  });
});
