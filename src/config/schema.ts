import { z } from 'zod';
import { cronProblem, isTimezone, looksLikeCron, tickProblem } from '../cron.js';
import { DURATION_FORM, MINUTE, parseDuration, SECOND } from '../duration.js';
import { HOST_PORT, parseHostPort } from '../host-port.js';
import { isLoopback } from '../server/loopback.js';
import { decodeKeyText } from '../tiktok/secret.js';
import { CATEGORIES, PORTABILITY_SCOPES } from '../tiktok/vocabulary.js';
import { DEFAULTS } from './defaults.js';

/**
 * The config file's shape, and what the environment is mapped onto before one parse validates both
 * (src/config/env.ts). Every message starts with "expected"; src/config/load.ts puts the setting and
 * the value given in front of it. Values stay as written (durations as text): src/config/load.ts
 * turns them into a `Config`, and `npm run config-schema` turns this schema into
 * tiktok-sync.config.schema.json.
 */

const EXAMPLES = ['30s', '15m', '12h', '1d', '1h30m'];
const CRON_FORM = 'a cron expression such as "0 */12 * * *"';

/** "a duration such as …", with only examples that are long enough. */
function durationForm(minMs: number): string {
  if (minMs <= SECOND) return DURATION_FORM;
  const examples = EXAMPLES.filter((text) => parseDuration(text)! >= minMs);
  return `a duration such as ${examples.slice(0, -1).join(', ')} or ${examples.at(-1)}`;
}

/** `1m`, `1s`: how a minimum is written in messages. */
function minimumText(ms: number): string {
  return ms % MINUTE === 0 ? `${ms / MINUTE}m` : `${ms / SECOND}s`;
}

const durationText = (meaning: string, minMs = 0) => {
  const form = durationForm(minMs);
  return z
    .string({ error: `expected ${form}, as a string` })
    .superRefine((text, ctx) => {
      const ms = parseDuration(text);
      if (ms === undefined) ctx.addIssue({ code: 'custom', message: `expected ${form}` });
      else if (ms < minMs)
        ctx.addIssue({ code: 'custom', message: `expected at least ${minimumText(minMs)}, ${form}` });
    })
    .describe(meaning);
};

const MIN_INTERVAL = MINUTE;
const INTERVAL_FORM = `${durationForm(MIN_INTERVAL).replace('a duration', `a duration of at least ${minimumText(MIN_INTERVAL)}`)}, or ${CRON_FORM}`;

const intervalText = (meaning: string) =>
  z
    .string({ error: `expected ${INTERVAL_FORM}, as a string` })
    .superRefine((text, ctx) => {
      const problem = intervalProblem(text);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .describe(meaning);

/** What is wrong with an interval text, as "expected …", or undefined when it is fine. */
function intervalProblem(text: string): string | undefined {
  if (looksLikeCron(text)) {
    const problem = cronProblem(text);
    if (!problem) return undefined;
    // Only explain the cron rule broken when the text looks like an attempt at one.
    const fields = text.trim().split(/\s+/).length;
    return fields >= 5 || text.trim().startsWith('@')
      ? `expected ${INTERVAL_FORM} (as cron: ${problem})`
      : `expected ${INTERVAL_FORM}`;
  }
  const ms = parseDuration(text);
  if (ms === undefined) return `expected ${INTERVAL_FORM}`;
  if (ms < MIN_INTERVAL)
    return `expected at least ${minimumText(MIN_INTERVAL)}, ${durationForm(MIN_INTERVAL)}, or ${CRON_FORM}`;
  return undefined;
}

const wholeNumber = (min: number, max: number, meaning: string) => {
  const error = `expected a whole number from ${min} to ${max}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error }).describe(meaning);
};

const positiveNumber = (meaning: string, integer = true) => {
  const error = `expected a ${integer ? 'whole ' : ''}number above 0`;
  const number = z.number({ error }).positive({ error });
  return (integer ? number.int({ error }) : number).describe(meaning);
};

const text = (meaning: string) =>
  z
    .string({ error: 'expected a non-empty string' })
    .min(1, { error: 'expected a non-empty string' })
    .describe(meaning);

const oneOf = <const T extends readonly [string, ...string[]]>(values: T, meaning: string) =>
  z.enum(values, { error: `expected one of ${values.join(', ')}` }).describe(meaning);

const hostPort = (meaning: string) =>
  z
    .string({ error: 'expected host:port, e.g. 127.0.0.1:8724' })
    .regex(HOST_PORT, { error: 'expected host:port, e.g. 127.0.0.1:8724' })
    .refine((text) => parseHostPort(text) !== undefined, { error: 'expected a port from 0 to 65535' })
    .describe(meaning);

const httpUrl = (example: string, meaning: string) =>
  z
    .url({
      protocol: /^https?$/,
      hostname: /./,
      error: `expected an absolute http:// or https:// URL such as ${example}`,
    })
    .describe(meaning);

const timezoneText = z
  .string({ error: 'expected an IANA time zone such as UTC or Europe/Berlin' })
  .refine(isTimezone, { error: 'expected an IANA time zone such as UTC or Europe/Berlin' })
  .describe('IANA time zone of cron intervals and the tick');

const tickText = z
  .string({ error: 'expected a node-cron expression such as "*/30 * * * * *"' })
  .superRefine((expression, ctx) => {
    const problem = tickProblem(expression);
    if (problem)
      ctx.addIssue({
        code: 'custom',
        message: `expected a node-cron expression such as "*/30 * * * * *" (${problem})`,
      });
  })
  .describe('node-cron expression that wakes the daemon to look for due accounts');

const databaseUrl = z
  .string({ error: 'expected a postgres:// or postgresql:// connection string' })
  .superRefine((url, ctx) => {
    const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
    if (scheme === 'postgres' || scheme === 'postgresql') return;
    ctx.addIssue({
      code: 'custom',
      message: scheme
        ? `expected a postgres:// or postgresql:// connection string, not ${scheme}:// (only PostgreSQL is supported)`
        : 'expected a postgres:// or postgresql:// connection string',
    });
  })
  .describe('PostgreSQL server to use instead of the embedded one');

const encryptionKey = z
  .string({ error: 'expected a 32-byte key in base64 or hex' })
  .superRefine((key, ctx) => {
    const bytes = decodeKeyText(key)?.length ?? 0;
    if (bytes !== 32)
      ctx.addIssue({
        code: 'custom',
        message: `expected a 32-byte key in base64 or hex (this one decodes to ${bytes} bytes); create one with \`openssl rand -base64 32\``,
      });
  })
  .describe('32-byte key (base64 or hex) that encrypts TikTok tokens at rest');

const PUBLIC_URL_FORM =
  'expected the https:// address people reach the daemon at, such as https://sync.example.org (http:// only on 127.0.0.1 or localhost), without query or fragment';

/** What is wrong with a public URL, as "expected …", or undefined when it is fine. */
export function publicUrlProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return PUBLIC_URL_FORM;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return PUBLIC_URL_FORM;
  if (url.search || url.hash || /[?#]/.test(text) || url.username || url.password) return PUBLIC_URL_FORM;
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    return `${PUBLIC_URL_FORM}: TikTok redirects only to https, and invite links carry consent`;
  }
  return undefined;
}

const publicUrl = z
  .string({ error: PUBLIC_URL_FORM })
  .superRefine((text, ctx) => {
    const problem = publicUrlProblem(text);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .describe(
    'the address people reach the daemon’s pages at (invite links, /oauth/callback); behind a reverse proxy, its public address',
  );

const serverSchema = z
  .object({
    publicUrl: publicUrl.optional(),
    operatorName: text('who asks for the data: the name invite pages show').optional(),
    operatorContact: text(
      'how people reach that operator (an email address or a URL), shown on invite pages',
    ).optional(),
  })
  .strict()
  .superRefine((server, ctx) => {
    if (server.publicUrl === undefined) return;
    for (const key of ['operatorName', 'operatorContact'] as const) {
      if (server[key] === undefined)
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `expected a non-empty string when server.publicUrl is set: invite pages say who asks for the data and how to reach them`,
        });
    }
  });

const KEEP_FORM = 'expected "all", "none" or the number of archives to keep per account (1 or more)';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'silent'] as const;
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
export const DATA_FORMATS = ['json', 'text'] as const;
export const ON_AUTHORIZATION_REMOVED = ['keep', 'forget'] as const;

const accountSyncSchema = z
  .object({
    interval: intervalText('this account’s interval').optional(),
    categories: z
      .array(z.enum(CATEGORIES, { error: `expected one of ${CATEGORIES.join(', ')}` }), {
        error: `expected a non-empty list of ${CATEGORIES.join(', ')}`,
      })
      .min(1, { error: `expected a non-empty list of ${CATEGORIES.join(', ')}` })
      .describe('data categories to request for this account')
      .optional(),
    dataFormat: oneOf(DATA_FORMATS, 'export format for this account').optional(),
    paused: z
      .boolean({ error: 'expected true or false' })
      .describe('true: the daemon does not sync this account')
      .optional(),
    acceptRemovals: z
      .boolean({ error: 'expected true or false' })
      .describe('true: store this account’s exports even when the removal guard would hold them back')
      .optional(),
  })
  .strict();

const syncSchema = z
  .object({
    interval: intervalText('how often each account’s export is requested').optional(),
    timezone: timezoneText.optional(),
    jitter: durationText('random delay up to this added to each due time').optional(),
    tick: tickText.optional(),
    concurrency: wholeNumber(1, 256, 'accounts one daemon works on at once').optional(),
    lease: durationText('how long a claim on an account lasts without a heartbeat', SECOND).optional(),
    pendingLimit: durationText('a request pending longer than this is made again', MINUTE).optional(),
    checkWait: durationText('how long one claim waits for TikTok to prepare the data').optional(),
    retryInitial: durationText('first backoff after a transient failure', SECOND).optional(),
    retryMax: durationText('longest backoff after transient failures', SECOND).optional(),
    shutdownGrace: durationText('on SIGTERM, time given to the current stage').optional(),
    shutdownTimeout: durationText('on SIGTERM, bound on the whole shutdown', SECOND).optional(),
    listen: hostPort('host:port of the daemon’s HTTP server (/healthz, /metrics, webhook)').optional(),
    onAuthorizationRemoved: oneOf(
      ON_AUTHORIZATION_REMOVED,
      'what TikTok’s `authorization.removed` webhook does to the account: `keep` stops syncing it and keeps its data; `forget` forgets it as `tiktok-sync forget` does (TikTok has revoked the grant already)',
    ).optional(),
    owner: z
      .string({ error: 'expected a name of 1 to 200 characters' })
      .min(1, { error: 'expected a name of 1 to 200 characters' })
      .max(200, { error: 'expected a name of 1 to 200 characters' })
      .describe('name of this daemon in leases and logs')
      .optional(),
    accounts: z
      .record(z.string(), accountSyncSchema, { error: 'expected an object keyed by account name' })
      .describe('per-account settings, by account name')
      .optional(),
  })
  .strict()
  .superRefine((sync, ctx) => {
    const initial = parseDuration(sync.retryInitial ?? DEFAULTS['sync.retryInitial']);
    const max = sync.retryMax === undefined ? undefined : parseDuration(sync.retryMax);
    if (initial !== undefined && max !== undefined && max < initial)
      ctx.addIssue({
        code: 'custom',
        path: ['retryMax'],
        message: `expected at least sync.retryInitial (\`${sync.retryInitial ?? DEFAULTS['sync.retryInitial']}\`)`,
      });
  });

/** Everything the config file may hold; the environment is mapped onto the same shape. */
export const fileSchema = z
  .object({
    $schema: z.string().describe('JSON Schema of this file, for editors').optional(),
    dataDir: text('where the embedded Postgres, downloads and archives live').optional(),
    databaseUrl: databaseUrl.optional(),
    embeddedPort: wholeNumber(1024, 65535, 'port of the embedded Postgres').optional(),
    archive: z
      .object({
        quarantineDir: text('where archives that cannot be imported are put aside').optional(),
        maxUncompressedBytes: positiveNumber('largest total uncompressed size of an archive').optional(),
        maxCompressionRatio: positiveNumber(
          'largest compression ratio of an archive member',
          false,
        ).optional(),
        maxEntries: positiveNumber('most members an archive may have').optional(),
        retention: durationText('how long downloaded archives stay after their import').optional(),
        keep: z
          .union(
            [z.enum(['all', 'none']), z.number().int({ error: KEEP_FORM }).min(1, { error: KEEP_FORM })],
            {
              error: KEEP_FORM,
            },
          )
          .describe('imported archives kept for `reprocess`: all, none, or the last N per account')
          .optional(),
        keptDir: text('where kept archives are stored').optional(),
        maxRemovedShare: z
          .number({ error: 'expected a number from 0 to 1' })
          .min(0, { error: 'expected a number from 0 to 1' })
          .max(1, { error: 'expected a number from 0 to 1' })
          .describe(
            'share of a section’s records an export may mark removed before the import is held back (removal guard)',
          )
          .optional(),
        guardMinRecords: wholeNumber(
          0,
          Number.MAX_SAFE_INTEGER,
          'sections with fewer records are not held back for their removals',
        ).optional(),
      })
      .strict()
      .describe('archive limits, quarantine, retention of downloads and kept archives')
      .optional(),
    logLevel: oneOf(LOG_LEVELS, 'log level').optional(),
    logFormat: oneOf(
      LOG_FORMATS,
      'log lines: readable on a terminal and JSON otherwise (`auto`), or always one of them',
    ).optional(),
    tiktok: z
      .object({
        clientKey: text('client key of the TikTok app').optional(),
        clientSecret: text('client secret of the TikTok app').optional(),
        apiBaseUrl: httpUrl('https://open.tiktokapis.com', 'where TikTok’s API is').optional(),
        authBaseUrl: httpUrl('https://www.tiktok.com', 'where TikTok’s consent page is').optional(),
        redirectUri: httpUrl('http://127.0.0.1:8723/callback/', 'loopback redirect URI').optional(),
        pkceEncoding: oneOf(['hex', 'base64url'], 'PKCE challenge encoding').optional(),
        scopes: z
          .array(z.enum(PORTABILITY_SCOPES, { error: `expected some of ${PORTABILITY_SCOPES.join(', ')}` }), {
            error: `expected a non-empty list of ${PORTABILITY_SCOPES.join(', ')}`,
          })
          .min(1, { error: `expected a non-empty list of ${PORTABILITY_SCOPES.join(', ')}` })
          .describe('Data Portability scopes to ask for')
          .optional(),
        dataFormat: oneOf(DATA_FORMATS, 'export format').optional(),
        encryptionKey: encryptionKey.optional(),
        webhookListen: hostPort('host:port where `sync` serves TikTok’s webhook').optional(),
        webhookPath: z
          .string({ error: 'expected a path starting with /' })
          .startsWith('/', { error: 'expected a path starting with /' })
          .describe('path of the webhook')
          .optional(),
        downloadMaxBytes: positiveNumber('largest archive download').optional(),
        downloadDir: text('where archives are downloaded').optional(),
        pollInitialSeconds: positiveNumber('first wait between status checks, in seconds', false).optional(),
        pollMaxSeconds: positiveNumber('longest wait between status checks, in seconds', false).optional(),
        waitSeconds: positiveNumber('how long `sync` waits for an export, in seconds', false).optional(),
      })
      .strict()
      .describe('the TikTok app, its API and the downloads')
      .optional(),
    sync: syncSchema.describe('the daemon: schedule, concurrency, leases, its HTTP server').optional(),
    server: serverSchema
      .describe('the pages the daemon serves to people: invite links and the OAuth callback')
      .optional(),
  })
  .strict();

/** The config file as written (and the environment mapped onto it), validated. */
export type FileConfig = z.infer<typeof fileSchema>;

/** Keys whose values never appear in messages. */
export const SECRET_KEYS = ['databaseUrl', 'tiktok.clientSecret', 'tiktok.encryptionKey'];
