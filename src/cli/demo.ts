import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { redactConnectionString } from '../db/connect.js';
import { DAY, HOUR, MINUTE } from '../duration.js';
import { startSandbox } from '../sandbox/index.js';
import { createServices } from '../services.js';
import { SimulatedClock } from '../tiktok/clock.js';
import { Secret } from '../tiktok/secret.js';
import { connectAccount, printConnected } from './connect.js';
import type { CommandContext } from './context.js';
import type { Output } from './output.js';
import { writeReport } from './report.js';
import { firstRequestId } from './sandbox.js';
import { type SyncDependencies, syncOnce } from './sync.js';
import { dbCommand, type TikTokApp, tiktokDb } from './tiktok-app.js';

const DEMO_ACCOUNT = 'demo';
const DEMO_USER = 'demo.user';
/** Fixed, so every demo run reconnects the same TikTok user to the same account. */
const DEMO_OPEN_ID = 'sbx-demo-000000000000000001';
const DAYS_BETWEEN_SYNCS = 5;

/**
 * `tiktok-sync demo`: the whole API path without a TikTok app. An in-process sandbox on a simulated
 * clock stands in for TikTok; the account connects through the real OAuth flow (the sandbox plays
 * the browser), then syncs twice, some simulated days apart, while the synthetic user keeps watching,
 * liking, messaging, and withdraws a few likes and follows.
 */
export async function cmdDemo(context: CommandContext, output: Output): Promise<void> {
  const { config, database, logger, signal } = context;
  const db = tiktokDb(database);
  const clock = new SimulatedClock();
  const sandbox = await startSandbox({
    clock,
    accounts: [{ username: DEMO_USER, openId: DEMO_OPEN_ID, seed: 20_251_124, scale: 1200, era: '2025' }],
    readyDelayMs: 12 * MINUTE,
    firstRequestId: firstRequestId(),
    logger,
  });
  let connectedId: string | undefined;
  try {
    output.out(
      `A local TikTok sandbox runs on ${sandbox.url} with the synthetic user \`${DEMO_USER}\` on a simulated clock; nothing reaches TikTok.`,
    );
    const app: TikTokApp = {
      clientKey: sandbox.clientKey,
      clientSecret: new Secret(sandbox.clientSecret),
      apiBaseUrl: sandbox.url,
      authBaseUrl: sandbox.consentUrl,
      // Any free port: the sandbox app, like a desktop app, registered `http://127.0.0.1:*/callback/`.
      redirectUri: 'http://127.0.0.1:0/callback/',
      pkceEncoding: 'hex',
    };
    // Throwaway: the sandbox's grants die with this process, so the key need not outlive it either.
    const encryptionKey = randomBytes(32);

    heading(output, '1. Connect the account (OAuth with PKCE; the sandbox plays the browser and consents)');
    const connected = await connectAccount(
      { tiktokDb: db, app, encryptionKey, logger, signal, output, clock },
      {
        accountName: DEMO_ACCOUNT,
        scopes: ['portability.all.ongoing'],
        openUrl: async (url) => {
          await sandbox.browse(url);
        },
        timeoutMs: 30_000,
      },
    );
    connectedId = connected.accountId;
    printConnected(output, connected);
    if (!connected.created) {
      output.out(
        `Account \`${DEMO_ACCOUNT}\` keeps the data of an earlier demo run. The sandbox user starts over each run, so the first sync below reverses what that run's second sync changed.`,
      );
    }
    await abandonEarlierRequests(context, connected.accountId, clock.now());

    const services = await createServices(config, database, logger, { app, encryptionKey, clock });
    const deps: SyncDependencies = {
      services,
      signal,
      output,
      // The demo is one story, told on stdout.
      progress: (line) => output.out(line),
      drive: (work) => clock.run(work),
    };
    const account = { accountId: connected.accountId, name: connected.accountName, openId: connected.openId };
    const options = {
      resume: false,
      dataFormat: config.tiktok.dataFormat,
      poll: { initialMs: MINUTE, maxMs: 15 * MINUTE, waitMs: 6 * HOUR },
    };

    heading(output, '2. First sync: Add → Check until ready → Download → import');
    await syncOnce(deps, account, options);

    await clock.advance(DAYS_BETWEEN_SYNCS * DAY);
    heading(
      output,
      `3. ${DAYS_BETWEEN_SYNCS} simulated days later, the second sync: only what changed is written`,
    );
    await syncOnce(deps, account, options);

    const connection = database.embeddedDataDir
      ? database.connectionString
      : redactConnectionString(database.connectionString);
    heading(output, `4. Look at the data: psql '${connection}', then try`);
    for (const line of EXAMPLE_QUERIES) output.out(line && `  ${line}`);
    output.out();
    if (database.embeddedDataDir) {
      output.out(`Connection string: ${database.connectionString}`);
      output.out(
        `The embedded Postgres stops when the demo ends; \`${dbCommand(path.dirname(database.embeddedDataDir))}\` serves it again for psql or a BI tool.`,
      );
    } else {
      output.out(`Database: ${connection}`);
    }

    heading(
      output,
      '5. The report: activity, watch sessions, what the second sync changed, followers, searches, messages, logins',
    );
    const report = await writeReport(context, {
      account: DEMO_ACCOUNT,
      out: path.join(config.dataDir, 'report-demo.html'),
    });
    output.out(
      'Open it in a browser; it needs no network. `npx tiktok-sync report` writes it again, `npx tiktok-sync serve` serves it live.',
    );
    output.out(`Report: ${report}`);
  } finally {
    if (connectedId !== undefined) await forgetSandboxGrant(context, connectedId);
    await sandbox.close();
  }
}

/**
 * The demo's grant is encrypted under a throwaway key and issued by a sandbox that dies with this
 * process: kept, it would make the next \`tiktok-sync run\` stop the account on a key it cannot read.
 * So the demo leaves the account's data and forgets its grant (and with it its schedule): \`status\`
 * shows it as not connected, and the daemon never claims it.
 */
async function forgetSandboxGrant(context: CommandContext, accountId: string): Promise<void> {
  await context.database.pool.query(
    `with schedule as (delete from tiktok_sync.sync_schedule where account_id = $1)
     delete from tiktok_sync.credentials where account_id = $1`,
    [accountId],
  );
}

const DEMO_ACCOUNT_ID = `(select account_id from tiktok.accounts where name = '${DEMO_ACCOUNT}')`;
const EXAMPLE_QUERIES = [
  '-- what the user did, day by day',
  'select day, videos_watched, videos_liked, messages from tiktok.daily_activity',
  `  where account_id = ${DEMO_ACCOUNT_ID} order by day desc limit 7;`,
  '',
  '-- likes withdrawn and follows ended between the two syncs: kept, marked removed',
  "select 'unliked' as change, link as item, removed_at from tiktok.likes",
  `  where account_id = ${DEMO_ACCOUNT_ID} and removed_at is not null`,
  "union all select 'unfollowed', username, removed_at from tiktok.following",
  `  where account_id = ${DEMO_ACCOUNT_ID} and removed_at is not null;`,
  '',
  '-- who the user messages most',
  'select conversation, messages, last_message_at from tiktok.dm_conversation_summary',
  `  where account_id = ${DEMO_ACCOUNT_ID} order by messages desc limit 5;`,
];

function heading(output: Output, text: string): void {
  output.out();
  output.out(text);
}

/**
 * A request left in flight by an earlier, interrupted demo belongs to a sandbox that is gone; it is
 * closed as failed so this run makes a fresh one instead of resuming it.
 */
async function abandonEarlierRequests(context: CommandContext, accountId: string, nowMs: number) {
  await tiktokDb(context.database)
    .updateTable('tiktok_sync.data_requests')
    .set({
      status: 'failed',
      finished_at: new Date(nowMs),
      error_code: 'sandbox_gone',
      error_message: 'Made by an earlier demo run whose sandbox has stopped.',
    })
    .where('account_id', '=', accountId)
    .where('finished_at', 'is', null)
    .execute();
}
