/**
 * The invite pages and the web consent flow against the sandbox, through a reverse proxy at the
 * public URL: what each page says, what is stored (or not) for every failure, the log line and the
 * metric of each, the account syncing at once, and two daemons sharing one consent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteAccount } from '../../src/db/account-admin.js';
import { revokeInvite } from '../../src/invites/store.js';
import { parseEncryptionKey, TokenCipher } from '../../src/tiktok/tokens.js';
import { ENCRYPTION_KEY, step, type TestDaemon } from '../scheduler/support.js';
import { type InviteWorld, inviteWorld, MINUTE, rows, until } from './support.js';

const cipher = new TokenCipher(parseEncryptionKey(ENCRYPTION_KEY)!);
const TWO_SCOPES = ['portability.activity.ongoing', 'portability.directmessages.ongoing'];

/** What is stored about accounts, grants and schedules: a failure must leave it as it was. */
async function stored(world: InviteWorld) {
  const [counts] = await rows<{ accounts: number; credentials: number; schedules: number; used: number }>(
    world.database,
    `select (select count(*)::int from tiktok.accounts) as accounts,
            (select count(*)::int from tiktok_sync.credentials) as credentials,
            (select count(*)::int from tiktok_sync.sync_schedule) as schedules,
            (select count(*)::int from tiktok_sync.invites where used_at is not null) as used`,
  );
  return counts!;
}

/** The log lines whose message matches, from line `since` on (the current test's). */
function logLines(world: InviteWorld, message: RegExp, since = 0) {
  return world.logs
    .slice(since)
    .map((line) => JSON.parse(line))
    .filter((line) => message.test(line.msg));
}

/** Every secret the flows handled: invite tokens, states, codes, verifiers, access and refresh tokens. */
async function secrets(world: InviteWorld, inviteTokens: readonly string[]): Promise<string[]> {
  const found = new Set(inviteTokens);
  for (const url of world.urls) {
    const params = new URL(url).searchParams;
    for (const key of ['state', 'code']) {
      const value = params.get(key);
      if (value && value.length > 8) found.add(value);
    }
  }
  for (const row of await rows<Record<string, Buffer>>(
    world.database,
    'select * from tiktok_sync.oauth_states',
  )) {
    const context = `tiktok_sync.oauth_states:${row.state_sha256!.toString('hex')}:code_verifier`;
    found.add(cipher.decrypt(row.verifier_ciphertext!, row.verifier_nonce!, context).reveal());
  }
  for (const row of await rows<Record<string, Buffer | string>>(
    world.database,
    'select * from tiktok_sync.credentials',
  )) {
    for (const kind of ['access_token', 'refresh_token']) {
      const ciphertext = row[`${kind}_ciphertext`] as Buffer | null;
      if (!ciphertext) continue;
      const context = `tiktok_sync.credentials:${row.account_id}:${kind}`;
      found.add(cipher.decrypt(ciphertext, row[`${kind}_nonce`] as Buffer, context).reveal());
    }
  }
  return [...found];
}

describe('invite pages and the web consent flow', () => {
  let world: InviteWorld;
  let daemon: TestDaemon;
  const inviteTokens: string[] = [];
  let anaAccount: { account_id: string; name: string };

  beforeAll(async () => {
    world = await inviteWorld(['ana', 'bo', 'cy']);
    daemon = await world.daemon('daemon-a');
    world.serve(daemon);
  });
  afterAll(async () => {
    await world?.close();
  });

  const invite = async (options?: Parameters<InviteWorld['invite']>[0]) => {
    const made = await world.invite(options);
    inviteTokens.push(made.token);
    return made;
  };

  it('shows what will be shared and who asks, then connects the account, which syncs at once', async () => {
    const { link, inviteId } = await invite();
    expect(link).toMatch(new RegExp(`^${world.publicUrl}/connect/[A-Za-z0-9_-]{43}$`));
    const { page, tiktokUrl, callbackUrl, landing } = await world.consent(link, { account: 'ana' });

    expect(page).toMatchObject({ status: 200, kind: 'invite' });
    expect(page.title).toBe('Data Lab &lt;Utrecht&gt; asks for a copy of your TikTok data');
    expect(page.html).toMatch(/^<!doctype html>\n<html lang="en">/);
    expect(page.html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(page.html).toContain('<a href="mailto:lab@example.org">lab@example.org</a>');
    expect(page.html).toContain(
      'Everything TikTok keeps about your account: your profile and the videos you posted, your activity (videos watched, likes, favorites, comments, searches, shares, follows and logins) and your direct messages: copied again about every 12h, until you withdraw your consent.',
    );
    expect(page.html).toContain(`<form method="post" action="${link}">`);
    expect(page.html).toContain('<button class="button" type="submit">Continue to TikTok</button>');
    expect(page.html).not.toMatch(/<script|<link|<img|src=/);
    expect(page.headers.get('content-security-policy')).toMatch(
      new RegExp(
        `^default-src 'none'; style-src 'sha256-[^']+'; form-action ${new URL(world.publicUrl).origin} ${world.sandbox.consentUrl}; frame-ancestors 'none'; base-uri 'none'$`,
      ),
    );
    expect(page.headers.get('referrer-policy')).toBe('same-origin');
    expect(page.headers.get('cache-control')).toBe('no-store');

    const consent = new URL(tiktokUrl);
    expect(`${consent.origin}${consent.pathname}`).toBe(`${world.sandbox.consentUrl}/v2/auth/authorize/`);
    expect(Object.fromEntries(consent.searchParams)).toMatchObject({
      client_key: world.sandbox.clientKey,
      scope: 'portability.all.ongoing',
      response_type: 'code',
      redirect_uri: `${world.publicUrl}/oauth/callback`,
      code_challenge_method: 'S256',
      state: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    expect(callbackUrl.startsWith(`${world.publicUrl}/oauth/callback?`)).toBe(true);
    expect(landing).toMatchObject({
      status: 200,
      kind: 'connected',
      title: 'Done: your TikTok account is connected',
    });

    const [account] = await rows<{ account_id: string; name: string; open_id: string }>(
      world.database,
      'select account_id::text, name, open_id from tiktok.accounts',
    );
    anaAccount = account!;
    expect(account).toMatchObject({
      name: expect.stringMatching(/^user-[0-9a-f]{12}$/),
      open_id: world.sandbox.accounts.get('ana')!.openId,
    });
    const [grant] = await rows(world.database, 'select * from tiktok_sync.credentials');
    expect(grant).toMatchObject({
      account_id: account!.account_id,
      connected_via: 'invite',
      status: 'active',
      scopes: ['portability.all.ongoing'],
    });
    expect(
      await rows(
        world.database,
        'select used_at is not null as used, account_id::text from tiktok_sync.invites where invite_id = $1',
        [inviteId],
      ),
    ).toEqual([{ used: true, account_id: account!.account_id }]);
    expect(await rows(world.database, 'select started_by, used_by from tiktok_sync.oauth_states')).toEqual([
      { started_by: 'daemon-a', used_by: 'daemon-a' },
    ]);
    expect(logLines(world, /invite consent completed/)).toEqual([
      expect.objectContaining({
        outcome: 'completed',
        account: account!.name,
        created: true,
        renewed: false,
        invite: inviteId,
      }),
    ]);

    // The daemon ticked by itself: the account's first data request is made, without waiting for cron.
    await until(
      async () =>
        (
          await rows(world.database, 'select 1 from tiktok_sync.data_requests where account_id = $1', [
            account!.account_id,
          ])
        ).length === 1,
    );
    await daemon.idle();
    await step(world.clock, [daemon], 2 * MINUTE);
    expect(
      await rows(world.database, 'select status from tiktok_sync.data_requests where account_id = $1', [
        account!.account_id,
      ]),
    ).toEqual([{ status: 'imported' }]);
    expect(
      Number(
        (
          await rows<{ n: string }>(
            world.database,
            'select count(*) as n from tiktok.watch_history where account_id = $1',
            [account!.account_id],
          )
        )[0]!.n,
      ),
    ).toBeGreaterThan(0);

    // Reloading the success page replays the state; opening the link again finds it used.
    const replay = await world.get(callbackUrl);
    expect(replay).toMatchObject({
      status: 400,
      kind: 'state_used',
      title: 'This answer from TikTok was already used',
    });
    expect(replay.html).toContain('your account is connected already');
    const again = await world.get(link);
    expect(again).toMatchObject({ status: 410, kind: 'invite_used', title: 'This link was already used' });
  });

  it('renews the same account when the same TikTok user consents through another link', async () => {
    const before = await stored(world);
    const named = await invite({ accountName: 'some-other-name' });
    const { landing } = await world.consent(named.link, { account: 'ana' });
    expect(landing.kind).toBe('connected');
    expect(await stored(world)).toEqual({ ...before, used: before.used + 1 });
    expect(
      await rows(world.database, 'select account_id::text from tiktok_sync.invites where invite_id = $1', [
        named.inviteId,
      ]),
    ).toEqual([{ account_id: anaAccount.account_id }]);
    expect(logLines(world, /invite consent completed/).at(-1)).toMatchObject({
      account: anaAccount.name,
      created: false,
      renewed: true,
    });
    await daemon.idle();
  });

  it('says when a link never existed, expired or was withdrawn, and starts nothing', async () => {
    const states = (await rows(world.database, 'select count(*)::int as n from tiktok_sync.oauth_states'))[0];
    const unknown = await world.get(`${world.publicUrl}/connect/${'A'.repeat(43)}`);
    expect(unknown).toMatchObject({ status: 404, kind: 'invite_unknown', title: 'This link is not valid' });
    expect(unknown.html).toContain('ask Data Lab &lt;Utrecht&gt; (<a href="mailto:lab@example.org">');
    expect((await world.get(`${world.publicUrl}/connect/not-a-token/../x`)).kind).toBe('invite_unknown');
    expect((await world.get(`${world.publicUrl}/connect`)).kind).toBe('invite_unknown');

    const short = await invite({ expiresInMs: 30 * MINUTE });
    await world.clock.advance(31 * MINUTE);
    const expired = await world.get(short.link);
    expect(expired).toMatchObject({ status: 410, kind: 'invite_expired', title: 'This link has expired' });
    expect(expired.html).toMatch(
      /It worked until \d{4}-\d\d-\d\d \d\d:\d\d UTC\. Nothing was shared or stored\./,
    );
    const expiredPost = await world.get(short.link, {
      method: 'POST',
      headers: { origin: new URL(world.publicUrl).origin },
    });
    expect(expiredPost.kind).toBe('invite_expired');

    const withdrawn = await invite();
    await revokeInvite(world.db, withdrawn.inviteId, world.clock.now());
    expect(await world.get(withdrawn.link)).toMatchObject({
      status: 410,
      kind: 'invite_revoked',
      title: 'This link was withdrawn',
    });

    expect(
      (await rows(world.database, 'select count(*)::int as n from tiktok_sync.oauth_states'))[0],
    ).toEqual(states);
    expect(logLines(world, /invite link refused/).map((line) => line.page)).toEqual(
      expect.arrayContaining(['invite_unknown', 'invite_expired', 'invite_revoked']),
    );
  });

  it('stores nothing when the user denies, grants fewer scopes, or TikTok reports an error', async () => {
    const before = await stored(world);
    const since = world.logs.length;
    const { link } = await invite();

    const denied = await world.consent(link, { account: 'bo', deny: true });
    expect(denied.landing).toMatchObject({
      status: 200,
      kind: 'consent_denied',
      title: 'You did not agree to share your data',
    });
    expect(denied.landing.html).toContain('open your invite link again: it still works');
    expect((await world.get(link)).kind).toBe('invite');

    // TikTok's consent page answering with another error (its description is escaped).
    const tiktokUrl = await world.start(link);
    const state = new URL(tiktokUrl).searchParams.get('state')!;
    const failed = await world.get(
      `${world.publicUrl}/oauth/callback?${new URLSearchParams({ error: 'invalid_request', error_description: 'bad <b>thing</b>', state })}`,
    );
    expect(failed).toMatchObject({ status: 502, kind: 'tiktok_error', title: 'TikTok reported a problem' });
    expect(failed.html).toContain(
      'TikTok answered <code>invalid_request</code>: bad &lt;b&gt;thing&lt;/b&gt;',
    );

    // The code exchange failing at TikTok.
    world.sandbox.faults.serverErrors(1, { endpoint: 'token' });
    const exchange = await world.consent(link, { account: 'bo' });
    expect(exchange.landing).toMatchObject({ status: 502, kind: 'tiktok_error' });
    expect(exchange.landing.html).toMatch(
      /TikTok answered <code>server_error<\/code> \(TikTok log id <code>\d{14}[0-9A-F]{18}<\/code>\)/,
    );

    // A code TikTok does not know (changed on the way): invalid_grant.
    const changed = new URL(await world.answer(await world.start(link), { account: 'bo' }));
    changed.searchParams.set('code', 'not-the-code');
    const refused = await world.get(changed.toString());
    expect(refused.html).toContain('<code>invalid_grant</code>');

    // A daemon asking for two scopes, of which the user grants one.
    const partialDaemon = await world.daemon(
      'daemon-partial',
      await world.config({ tiktok: { scopes: TWO_SCOPES, downloadDir: 'downloads' } }),
    );
    world.serve(partialDaemon);
    try {
      const partial = await world.consent(link, { account: 'bo', grant: ['portability.activity.ongoing'] });
      expect(partial.landing).toMatchObject({
        status: 200,
        kind: 'consent_partial',
        title: 'Not everything asked for was allowed',
      });
      expect(partial.landing.html).toContain('<li>Your direct messages: copied again about every 12h');
      expect(partial.landing.html).not.toContain('<li>Your activity');
      // The callback without its `scopes`: the token's scopes tell the same after the exchange.
      const bare = new URL(
        await world.answer(await world.start(link), {
          account: 'bo',
          grant: ['portability.directmessages.ongoing'],
        }),
      );
      bare.searchParams.delete('scopes');
      const afterExchange = await world.get(bare.toString());
      expect(afterExchange.kind).toBe('consent_partial');
      expect(afterExchange.html).toContain('<li>Your activity on TikTok');
    } finally {
      world.serve(daemon);
      await partialDaemon.close();
    }

    expect(await stored(world)).toEqual(before);
    expect((await world.get(link)).kind).toBe('invite');
    const outcomes = logLines(world, /invite consent not completed/, since).map((line) => line.outcome);
    expect(outcomes).toEqual([
      'denied',
      'tiktok_error',
      'tiktok_error',
      'tiktok_error',
      'partial_scopes',
      'partial_scopes',
    ]);
    expect(
      logLines(world, /consent not completed: tiktok error/).map((line) => line.error ?? line.err?.code),
    ).toEqual(['invalid_request', 'server_error', 'invalid_grant']);
  });

  it('refuses a missing, forged, replayed or expired state, storing nothing', async () => {
    const before = await stored(world);
    const since = world.logs.length;
    const callback = `${world.publicUrl}/oauth/callback`;
    expect(await world.get(`${callback}?code=abc`)).toMatchObject({ status: 400, kind: 'state_missing' });
    const forged = await world.get(`${callback}?code=abc&state=${'B'.repeat(43)}`);
    expect(forged).toMatchObject({
      status: 400,
      kind: 'state_unknown',
      title: 'This answer from TikTok is not valid',
    });
    expect((await world.get(`${callback}?code=abc&state=%3Cscript%3E`)).kind).toBe('state_unknown');

    const { link } = await invite();
    const denied = await world.consent(link, { account: 'cy', deny: true });
    expect((await world.get(denied.callbackUrl)).kind).toBe('state_used');

    const slow = await world.answer(await world.start(link), { account: 'cy' });
    await world.clock.advance(16 * MINUTE);
    const late = await world.get(slow);
    expect(late).toMatchObject({ status: 400, kind: 'state_expired', title: 'This sign-in took too long' });
    expect(late.html).toContain('More than 15 minutes passed');

    expect(await stored(world)).toEqual(before);
    expect(logLines(world, /consent not completed: state refused/, since).map((line) => line.page)).toEqual([
      'state_missing',
      'state_unknown',
      'state_unknown',
      'state_used',
      'state_expired',
    ]);
  });

  it('refuses a consent whose invite was withdrawn meanwhile, or made for another user’s account', async () => {
    const before = await stored(world);
    const since = world.logs.length;
    const { link, inviteId } = await invite();
    const tiktokUrl = await world.start(link);
    await revokeInvite(world.db, inviteId, world.clock.now());
    const revoked = await world.get(await world.answer(tiktokUrl, { account: 'cy' }));
    expect(revoked).toMatchObject({ status: 410, kind: 'invite_revoked' });

    const forAna = await invite({ accountName: anaAccount.name });
    const conflict = await world.consent(forAna.link, { account: 'cy' });
    expect(conflict.landing).toMatchObject({
      status: 409,
      kind: 'account_conflict',
      title: 'This link was made for another TikTok account',
    });
    expect(await stored(world)).toEqual(before);
    expect((await world.get(forAna.link)).kind).toBe('invite');
    expect(
      logLines(world, /consent not completed: (invite refused|account conflict)/, since).map(
        (line) => line.outcome,
      ),
    ).toEqual(['invite_refused', 'account_conflict']);
  });

  it('answers HEAD, refuses other methods and cross-site posts, and works without the proxy’s path', async () => {
    const { link, token } = await invite();
    const head = await fetch(link, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const put = await world.get(link, { method: 'PUT' });
    expect(put).toMatchObject({ status: 405, kind: 'method_not_allowed' });
    expect(put.headers.get('allow')).toBe('GET, HEAD, POST');
    expect(
      (await world.get(`${world.publicUrl}/oauth/callback`, { method: 'POST' })).headers.get('allow'),
    ).toBe('GET');
    const crossSite = await world.get(link, {
      method: 'POST',
      headers: { origin: 'https://attacker.example' },
    });
    expect(crossSite).toMatchObject({ status: 403, kind: 'cross_site' });
    // A proxy that strips the public URL's path: the same page, its links still from the public URL.
    const direct = await world.get(`${daemon.url}/connect/${token}`);
    expect(direct.kind).toBe('invite');
    expect(direct.html).toContain(`action="${link}"`);
  });

  it('counts invites, consents and accounts by connection in /metrics', async () => {
    const metrics = await (await fetch(`${daemon.url}/metrics`)).text();
    expect(metrics).toMatch(/tiktok_sync_invites\{state="used"\} 2/);
    expect(metrics).toMatch(/tiktok_sync_invites\{state="outstanding"\} [1-9]/);
    expect(metrics).toMatch(/tiktok_sync_invites\{state="expired"\} 1/);
    expect(metrics).toMatch(/tiktok_sync_invites\{state="revoked"\} 2/);
    expect(metrics).toMatch(/tiktok_sync_consents_total\{outcome="completed"\} 2/);
    expect(metrics).toMatch(/tiktok_sync_consents_total\{outcome="denied"\} 2/);
    expect(metrics).toMatch(/tiktok_sync_consents_total\{outcome="tiktok_error"\} 3/);
    expect(metrics).toMatch(/tiktok_sync_consents_total\{outcome="invite_refused"\} 1/);
    expect(metrics).toMatch(/tiktok_sync_consents_total\{outcome="account_conflict"\} 1/);
    expect(metrics).toMatch(/tiktok_sync_consents_total\{outcome="state_refused"\} 6/);
    expect(metrics).toMatch(/tiktok_sync_accounts_by_connection\{via="invite"\} 1/);
  });

  it('never writes a token, state, code or verifier to a log line or a page', async () => {
    const all = await secrets(world, inviteTokens);
    expect(all.length).toBeGreaterThan(20);
    const logs = world.logs.join('\n');
    const pages = world.pages.join('\n');
    for (const secret of all) {
      expect(logs).not.toContain(secret);
      if (!inviteTokens.includes(secret)) expect(pages).not.toContain(secret);
    }
  });
});

describe('an account connected by invite, deleted', () => {
  it('goes with the invites that connected it and their consents', async () => {
    const world = await inviteWorld(['eve']);
    try {
      const daemon = await world.daemon('daemon-a');
      world.serve(daemon);
      const { link } = await world.invite();
      expect((await world.consent(link, { account: 'eve' })).landing.kind).toBe('connected');
      await until(
        async () => (await rows(world.database, 'select 1 from tiktok_sync.data_requests')).length === 1,
      );
      await daemon.idle();
      const [account] = await rows<{ name: string }>(world.database, 'select name from tiktok.accounts');
      await deleteAccount(world.database.pool, account!.name, world.clock.now());
      expect(
        await rows(
          world.database,
          `select (select count(*)::int from tiktok_sync.invites) as invites,
                  (select count(*)::int from tiktok_sync.oauth_states) as consents`,
        ),
      ).toEqual([{ invites: 0, consents: 0 }]);
    } finally {
      await world.close();
    }
  });
});

describe('two daemons behind one public URL', () => {
  let world: InviteWorld;
  beforeAll(async () => {
    world = await inviteWorld(['dee']);
  });
  afterAll(async () => {
    await world?.close();
  });

  it('completes on one daemon a consent started on the other’s page, and that one syncs it', async () => {
    const first = await world.daemon('daemon-a');
    const second = await world.daemon('daemon-b');
    const { link } = await world.invite();
    world.serve(first);
    const tiktokUrl = await world.start(link);
    const callbackUrl = await world.answer(tiktokUrl, { account: 'dee' });
    world.serve(second);
    const landing = await world.get(callbackUrl);
    expect(landing.kind).toBe('connected');
    expect(await rows(world.database, 'select started_by, used_by from tiktok_sync.oauth_states')).toEqual([
      { started_by: 'daemon-a', used_by: 'daemon-b' },
    ]);
    await until(
      async () => (await rows(world.database, 'select 1 from tiktok_sync.data_requests')).length === 1,
    );
    await second.idle();
    // The daemon that completed the consent claimed the account at once; the other never ticked.
    const claims = async (daemon: TestDaemon) => (await daemon.metrics.claims.get()).values[0]?.value;
    expect([await claims(first), await claims(second)]).toEqual([0, 1]);
    // The same callback on the first daemon now: a replay.
    world.serve(first);
    expect((await world.get(callbackUrl)).kind).toBe('state_used');
  });

  it('fails with a page, a log line and nothing stored on a daemon with another encryption key', async () => {
    const first = await world.daemon('daemon-a2');
    const otherKey = await world.daemon(
      'daemon-other-key',
      await world.config({}, { TIKTOK_SYNC_ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64') }),
    );
    const before = await rows(world.database, 'select count(*)::int as n from tiktok_sync.credentials');
    const { link } = await world.invite();
    world.serve(first);
    const callbackUrl = await world.answer(await world.start(link), { account: 'dee' });
    world.serve(otherKey);
    const since = world.logs.length;
    const landing = await world.get(callbackUrl);
    expect(landing).toMatchObject({ status: 500, kind: 'failed', title: 'Something went wrong on our side' });
    expect(landing.html).not.toMatch(/encryption|fingerprint|at .*\.ts/);
    expect(await rows(world.database, 'select count(*)::int as n from tiktok_sync.credentials')).toEqual(
      before,
    );
    const [line] = logLines(world, /invite page failed/, since);
    expect(line).toMatchObject({ level: 50, err: { code: 'encryption_key_mismatch' } });
    expect((await otherKey.metrics.consents.get()).values).toEqual([
      expect.objectContaining({ labels: { outcome: 'failed' }, value: 1 }),
    ]);
  });

  it('answers a page saying invite links are not set up on a daemon without server.publicUrl', async () => {
    const bare = await world.daemon('daemon-bare', await world.config({ server: {} }));
    const page = await world.get(`${bare.url}/connect/${'C'.repeat(43)}`);
    expect(page).toMatchObject({
      status: 404,
      kind: 'not_set_up',
      title: 'Invite links are not set up here',
    });
  });
});
