import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { parseFaultFlags, type Sandbox, type SandboxOptions, startSandbox } from '../../src/sandbox/index.js';
import { SimulatedClock } from '../../src/tiktok/clock.js';
import { connect } from '../tiktok/support.js';

let sandbox: Sandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

async function start(options: SandboxOptions = {}) {
  sandbox = await startSandbox({ clock: new SimulatedClock(), readyDelayMs: 60_000, ...options });
  return sandbox;
}

async function api(path: string, token: string | undefined, body: string) {
  const response = await fetch(`${sandbox!.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body,
  });
  const bytes = Buffer.from(await response.arrayBuffer());
  return { status: response.status, headers: response.headers, text: bytes.toString('utf8'), bytes };
}

async function tokenFor(scopes: string[], account?: string) {
  const { tokens } = await connect(sandbox!, { scopes, ...(account ? { account } : {}) });
  return tokens.accessToken.reveal();
}

describe('sandbox', () => {
  it('validates Add as documented and answers the id as a bare int64', async () => {
    await start();
    const token = await tokenFor(['portability.all.ongoing']);
    const good = '{"data_format":"json","category_selection_list":["all_data"]}';

    const noToken = await api('/v2/user/data/add/?fields=request_id', undefined, good);
    expect(noToken.status).toBe(401);
    expect(JSON.parse(noToken.text)).toMatchObject({ data: {}, error: { code: 'access_token_invalid' } });

    const noFields = await api('/v2/user/data/add/', token, good);
    expect(noFields.status).toBe(400);
    expect(JSON.parse(noFields.text).error.code).toBe('invalid_params');

    const badFormat = await api(
      '/v2/user/data/add/?fields=request_id',
      token,
      '{"data_format":"csv","category_selection_list":["all_data"]}',
    );
    expect(JSON.parse(badFormat.text).error).toMatchObject({
      code: 'invalid_params',
      message: expect.stringContaining('data_format'),
    });

    for (const list of ['[]', '["photos"]', '"all_data"']) {
      const bad = await api(
        '/v2/user/data/add/?fields=request_id',
        token,
        `{"data_format":"json","category_selection_list":${list}}`,
      );
      expect(bad.status).toBe(400);
    }

    const ok = await api('/v2/user/data/add/?fields=request_id', token, good);
    expect(ok.status).toBe(200);
    expect(ok.text).toMatch(
      /^\{"data":\{"request_id":7412345678901234567\},"error":\{"code":"ok","message":"","log_id":"\d{14}[0-9A-F]{18}"\}\}$/,
    );
  });

  it('answers Check with only the requested fields and moves pending → downloading → expired on its clock', async () => {
    const box = await start({ expiryMs: 4 * 24 * 3600_000, accessTokenTtlSeconds: 10 * 86_400 });
    const clock = box.clock as SimulatedClock;
    const token = await tokenFor(['portability.all.ongoing']);
    await api(
      '/v2/user/data/add/?fields=request_id',
      token,
      '{"data_format":"text","category_selection_list":["video","profile","video"]}',
    );
    const id = '7412345678901234567';

    const missing = await api('/v2/user/data/check/', token, `{"request_id":${id}}`);
    expect(JSON.parse(missing.text).error.code).toBe('invalid_params');
    const unknownField = await api('/v2/user/data/check/?fields=status,size', token, `{"request_id":${id}}`);
    expect(JSON.parse(unknownField.text).error.code).toBe('invalid_params');
    const asString = await api('/v2/user/data/check/?fields=status', token, `{"request_id":"${id}"}`);
    expect(JSON.parse(asString.text).error.code).toBe('invalid_params');
    const rounded = await api('/v2/user/data/check/?fields=status', token, `{"request_id":${Number(id)}}`);
    expect(JSON.parse(rounded.text).error.code).toBe('invalid_params');

    const check = async (fields: string) =>
      (await api(`/v2/user/data/check/?fields=${fields}`, token, `{"request_id":${id}}`)).text;
    expect(await check('status')).toMatch(/^\{"data":\{"status":"pending"\},/);
    const full = await check('request_id,apply_time,collect_time,status,data_format,category_selection_list');
    expect(full).toContain(`"request_id":${id}`);
    expect(full).toContain('"category_selection_list":["video","profile","video"]');
    expect(full).toContain(`"apply_time":${Math.floor(clock.now() / 1000)}`);
    expect(full).toContain('"data_format":"text"');

    await clock.advance(60_000);
    expect(await check('status')).toContain('"status":"downloading"');
    await clock.advance(4 * 24 * 3600_000);
    expect(await check('status')).toContain('"status":"expired"');
    const late = await api('/v2/user/data/download/', token, `{"request_id":${id}}`);
    expect(late.status).toBe(400);
    expect(JSON.parse(late.text)).toMatchObject({
      data: {},
      error: { code: 'invalid_params', http_status_code: 400 },
    });
  });

  it('consumes the broadest single scope, one request at a time', async () => {
    await start({ accounts: [{ username: 'ana' }] });
    const token = await tokenFor(['portability.all.single', 'portability.activity.single']);
    const add = (list: string) =>
      api(
        '/v2/user/data/add/?fields=request_id',
        token,
        `{"data_format":"json","category_selection_list":${list}}`,
      );
    expect((await add('["activity","video"]')).status).toBe(200);
    const busy = await add('["activity"]');
    expect(JSON.parse(busy.text).error.code).toBe('invalid_params');
    await (sandbox!.clock as SimulatedClock).advance(60_000);
    expect((await add('["video"]')).status).toBe(401);
    expect((await add('["activity"]')).status).toBe(200);
    await (sandbox!.clock as SimulatedClock).advance(60_000);
    const spent = await add('["activity"]');
    expect(spent.status).toBe(401);
    expect(JSON.parse(spent.text).error.code).toBe('scope_not_authorized');
  });

  it('cancels with an error-only body and refuses cancelled requests afterwards', async () => {
    await start();
    const token = await tokenFor(['portability.all.ongoing']);
    await api(
      '/v2/user/data/add/?fields=request_id',
      token,
      '{"data_format":"json","category_selection_list":["all_data"]}',
    );
    const cancelled = await api('/v2/user/data/cancel/', token, '{"request_id":7412345678901234567}');
    expect(cancelled.status).toBe(200);
    expect(Object.keys(JSON.parse(cancelled.text))).toEqual(['error']);
    expect(
      JSON.parse((await api('/v2/user/data/cancel/', token, '{"request_id":7412345678901234567}')).text).error
        .code,
    ).toBe('invalid_params');
  });

  it('serves the full export of an evolving user, as JSON or a TXT tree with only the requested categories', async () => {
    const box = await start({
      accounts: [{ username: 'ana', scale: 200 }],
      accessTokenTtlSeconds: 10 * 86_400,
    });
    const clock = box.clock as SimulatedClock;
    const token = await tokenFor(['portability.all.ongoing']);
    const download = async (format: string, list: string) => {
      const added = await api(
        '/v2/user/data/add/?fields=request_id',
        token,
        `{"data_format":"${format}","category_selection_list":${list}}`,
      );
      const id = /"request_id":(\d+)/.exec(added.text)?.[1];
      if (!id) throw new Error(added.text);
      await clock.advance(60_000);
      return api('/v2/user/data/download/', token, `{"request_id":${id}}`);
    };
    const first = await download('json', '["all_data"]');
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('application/zip');
    expect(first.bytes.subarray(0, 4).toString('latin1')).toBe('PK\x03\x04');
    expect(first.bytes.includes('user_data_tiktok.json')).toBe(true);

    await clock.advance(2 * 24 * 3600_000);
    const second = await download('json', '["all_data"]');
    expect(sha(second.bytes)).not.toBe(sha(first.bytes));
    expect(second.bytes.length).toBeGreaterThan(first.bytes.length * 0.9);

    const text = await download('text', '["activity"]');
    expect(text.bytes.includes('.txt')).toBe(true);
    expect(text.bytes.includes('Direct Messages')).toBe(false);
    expect(text.bytes.includes('user_data_tiktok.json')).toBe(false);
  });

  it('follows the OAuth error shape on the token endpoint', async () => {
    await start();
    const post = async (body: string, type = 'application/x-www-form-urlencoded') => {
      const response = await fetch(`${sandbox!.url}/v2/oauth/token/`, {
        method: 'POST',
        headers: { 'content-type': type },
        body,
      });
      return { status: response.status, json: (await response.json()) as Record<string, string> };
    };
    const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
    const base = { client_key: sandbox!.clientKey, client_secret: sandbox!.clientSecret };
    expect((await post(form({ ...base, grant_type: 'password' }))).json).toMatchObject({
      error: 'unsupported_grant_type',
      log_id: expect.any(String),
    });
    expect((await post(form({ ...base, client_secret: 'x', grant_type: 'refresh_token' }))).json.error).toBe(
      'invalid_client',
    );
    expect(
      (await post(form({ ...base, grant_type: 'refresh_token', refresh_token: 'rft.nope' }))).json.error,
    ).toBe('invalid_grant');
    expect((await post(JSON.stringify(base), 'application/json')).json.error).toBe('invalid_request');
  });

  it('redirects consent errors back with state, and refuses unregistered redirect URIs', async () => {
    await start();
    const url = (params: Record<string, string>) =>
      `${sandbox!.consentUrl}/v2/auth/authorize/?${new URLSearchParams(params)}`;
    const base = {
      client_key: sandbox!.clientKey,
      response_type: 'code',
      redirect_uri: 'http://127.0.0.1:4567/callback/',
      state: 'st',
      code_challenge: 'a'.repeat(64),
      code_challenge_method: 'S256',
    };
    const unknownScope = await fetch(url({ ...base, scope: 'portability.everything' }), {
      redirect: 'manual',
    });
    expect(unknownScope.status).toBe(302);
    const location = new URL(unknownScope.headers.get('location')!);
    expect(location.searchParams.get('error')).toBe('invalid_scope');
    expect(location.searchParams.get('state')).toBe('st');
    const noPkce = await fetch(url({ ...base, scope: 'portability.all.ongoing', code_challenge: '' }), {
      redirect: 'manual',
    });
    expect(new URL(noPkce.headers.get('location')!).searchParams.get('error')).toBe('invalid_request');
    const elsewhere = await fetch(
      url({ ...base, scope: 'portability.all.ongoing', redirect_uri: 'https://evil.example/cb' }),
      { redirect: 'manual' },
    );
    expect(elsewhere.status).toBe(400);
  });

  it('parses fault flags', () => {
    const faults = parseFaultFlags(
      '5xx=3:503@check,429=2:9,reset-download=1:100,truncate-download=1,json-body=1,slow-download=1024:5',
    );
    expect(faults.serverErrorFaults).toEqual([{ endpoint: 'check', remaining: 3, status: 503 }]);
    expect(faults.rateLimitFaults[0]).toMatchObject({ remaining: 2, retryAfterSeconds: 9 });
    expect(faults.downloadResets).toEqual([{ remaining: 1, afterBytes: 100 }]);
    expect(faults.slow).toMatchObject({ chunkBytes: 1024, delayMs: 5 });
    expect(() => parseFaultFlags('explode=1')).toThrow(/Unknown fault/);
  });
});

function sha(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
