/**
 * Forgetting an account (`tiktok-sync forget`, or TikTok's `authorization.removed` under the
 * `forget` policy): everything of it goes, at TikTok, in the database and on disk, and a tombstone
 * keeps it from coming back (src/db/forgotten.ts). In this order:
 *
 * 1. A lease on the account, as a daemon's claim (src/scheduler/claims.ts), so no daemon starts a
 *    sync of it meanwhile; a daemon holding it now refuses the forgetting (`account_busy`).
 * 2. At TikTok, best-effort: the data request in flight is cancelled, then the grant is revoked
 *    (docs/tiktok-api.md §1.4, §2.3). Cancel comes first because it needs the user's access token,
 *    which the revoke ends. A failure (network, a grant TikTok already ended, no app configured) is
 *    reported and the forgetting goes on: the tokens are deleted here in any case.
 * 3. One transaction: every row with the account's id in every schema, the webhook events of its
 *    TikTok user, and the tombstone (src/db/forgotten.ts).
 * 4. Files: its kept archives, the downloads of its requests, and the quarantined copies of its
 *    failed runs (a copy stays while another run's reason file points at it).
 */
import { hostname } from 'node:os';
import path from 'node:path';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import {
  type ForgetReason,
  fenceAccount,
  forgetAccountRows,
  type RevokeOutcome,
  releaseFence,
} from '../db/forgotten.js';
import { MINUTE } from '../duration.js';
import { ConfigError, coerceError } from '../errors.js';
import { removeKeptArchives } from '../ingest/kept-archives.js';
import { forgetQuarantined } from '../ingest/quarantine.js';
import type { Logger } from '../logger.js';
import { removeDownloads } from '../scheduler/retention.js';
import { findInFlight } from '../sync/request.js';
import type { Clock } from '../tiktok/clock.js';
import type { TikTokDatabase } from '../tiktok/db-types.js';

/** How long the lease taken for forgetting lasts: longer than a cancel and a revoke with their retries. */
const FENCE_MS = 15 * MINUTE;

/** What talks to TikTok for the forgetting. */
export interface ForgetTikTok {
  /** Cancels the account's request in flight; its id, or undefined when there was none. */
  cancelInFlight(accountId: string): Promise<string | undefined>;
  /** Revokes the grant (src/tiktok/tokens.ts, `revokeGrant`). */
  revokeGrant(
    accountId: string,
  ): Promise<{ outcome: Exclude<RevokeOutcome, 'removed_by_tiktok'>; error?: Error }>;
}

export interface ForgetContext {
  pool: pg.Pool;
  db: Kysely<TikTokDatabase>;
  /** `archive.keptDir`, `archive.quarantineDir`, `tiktok.downloadDir`. */
  dirs: { readonly kept: string; readonly quarantine: string; readonly downloads: string };
  clock: Clock;
  logger: Logger;
  /**
   * Builds what talks to TikTok, only when the account has a grant. It may throw (no app or
   * encryption key configured): the grant is then reported as not revoked.
   */
  tiktok?: (() => Promise<ForgetTikTok>) | undefined;
  /** Who holds the lease meanwhile; default `forget:<host>:<pid>`. */
  owner?: string | undefined;
}

export interface ForgetResult {
  accountId: string;
  name: string;
  /** The request that was in flight, and why it could not be cancelled, if it could not. */
  cancel?: { requestId: string; error?: string };
  revoke: { outcome: RevokeOutcome; message?: string };
  /** Rows deleted per table (the account row not counted). */
  rows: Record<string, number>;
  files: { kept: number; downloads: number; quarantine: number };
  /** Files that could not be removed (the database part is done). */
  leftovers: { path: string; error: string }[];
}

/**
 * Forgets the account (see the module comment). `revoke` false when TikTok removed the grant itself.
 * Returns undefined when the account is gone already (forgotten meanwhile); throws `account_busy`
 * while a daemon holds it.
 */
export async function forgetAccount(
  context: ForgetContext,
  options: { accountId: string; reason: ForgetReason; revoke: boolean },
): Promise<ForgetResult | undefined> {
  const { accountId } = options;
  const owner = context.owner ?? `forget:${hostname()}:${process.pid}`;
  const fenced = await fenceAccount(context.pool, {
    accountId,
    owner,
    now: context.clock.now(),
    leaseMs: FENCE_MS,
  });
  if (fenced === undefined) return undefined;
  if (!fenced) await busy(context.pool, accountId);
  let forgotten: Awaited<ReturnType<typeof forgetAccountRows>>;
  let cancel: ForgetResult['cancel'];
  let revoke: ForgetResult['revoke'];
  try {
    ({ cancel, revoke } = options.revoke
      ? await endAtTikTok(context, accountId)
      : { cancel: undefined, revoke: { outcome: 'removed_by_tiktok' as const } });
    forgotten = await forgetAccountRows(context.pool, {
      accountId,
      now: context.clock.now(),
      reason: options.reason,
      revoke: revoke.outcome,
      fenceOwner: owner,
    });
  } catch (error) {
    await releaseFence(context.pool, accountId, owner).catch(() => {});
    throw error;
  }
  if (!forgotten) return undefined;

  const leftovers: ForgetResult['leftovers'] = [];
  let kept = 0;
  try {
    kept = await removeKeptArchives(context.dirs.kept, accountId);
  } catch (error) {
    leftovers.push({ path: path.join(context.dirs.kept, accountId), error: coerceError(error).message });
  }
  const downloads = await removeDownloads(context.dirs.downloads, forgotten.requestIds);
  const quarantine = await forgetQuarantined(
    context.dirs.quarantine,
    forgotten.runIds,
    forgotten.quarantinedTo,
    async (copy) => {
      const { rows } = await context.pool.query(
        'select 1 from tiktok_sync.sync_runs where quarantined_to = any($1::text[]) limit 1',
        [[copy, path.resolve(copy)]],
      );
      return rows.length > 0;
    },
  );
  leftovers.push(...downloads.failed, ...quarantine.failed);
  context.logger.info(
    {
      accountId,
      reason: options.reason,
      revoke: revoke.outcome,
      rows: Object.values(forgotten.rows).reduce((sum, n) => sum + n, 0),
      files: kept + downloads.removed + quarantine.removed,
      leftovers: leftovers.length,
    },
    'account forgotten',
  );
  return {
    accountId,
    name: forgotten.name,
    ...(cancel ? { cancel } : {}),
    revoke,
    rows: forgotten.rows,
    files: { kept, downloads: downloads.removed, quarantine: quarantine.removed },
    leftovers,
  };
}

/** Step 2: cancel the request in flight, then revoke the grant; failures are returned, not thrown. */
async function endAtTikTok(
  context: ForgetContext,
  accountId: string,
): Promise<Pick<ForgetResult, 'cancel' | 'revoke'>> {
  const grant = await context.db
    .selectFrom('tiktok_sync.credentials')
    .select('status')
    .where('account_id', '=', accountId)
    .executeTakeFirst();
  const inFlight = await findInFlight(context.db, accountId);
  if (!grant) {
    return {
      revoke: { outcome: 'not_connected' },
      ...(inFlight ? { cancel: { requestId: inFlight.request_id, error: 'the account has no grant' } } : {}),
    };
  }
  let tiktok: ForgetTikTok;
  try {
    if (!context.tiktok) throw new ConfigError('tiktok_not_configured', 'No TikTok app is configured.');
    tiktok = await context.tiktok();
  } catch (error) {
    const message = failureText(error);
    return {
      revoke: { outcome: 'failed', message },
      ...(inFlight ? { cancel: { requestId: inFlight.request_id, error: message } } : {}),
    };
  }
  let cancel: ForgetResult['cancel'];
  if (inFlight) {
    try {
      await tiktok.cancelInFlight(accountId);
      cancel = { requestId: inFlight.request_id };
    } catch (error) {
      cancel = { requestId: inFlight.request_id, error: failureText(error) };
    }
  }
  const revoked = await tiktok.revokeGrant(accountId);
  return {
    ...(cancel ? { cancel } : {}),
    revoke: {
      outcome: revoked.outcome,
      ...(revoked.error ? { message: failureText(revoked.error) } : {}),
    },
  };
}

/** The failure in words, without the "it will be retried" of the clients: nothing retries it here. */
function failureText(error: unknown): string {
  return coerceError(error).message.replace(/;? it will be retried/g, '');
}

/** Throws `account_busy`, naming the daemon that holds the account. */
async function busy(pool: pg.Pool, accountId: string): Promise<never> {
  const { rows } = await pool.query<{ name: string; lease_owner: string; lease_expires_at: Date }>(
    `select a.name, s.lease_owner, s.lease_expires_at from tiktok_sync.sync_schedule s
       join tiktok.accounts a using (account_id) where s.account_id = $1`,
    [accountId],
  );
  const row = rows[0];
  throw new ConfigError(
    'account_busy',
    `Account \`${row?.name ?? accountId}\` is being synced by daemon \`${row?.lease_owner ?? '?'}\` (lease until ${row?.lease_expires_at?.toISOString() ?? '?'}); nothing was forgotten. Pause it in the config file or stop that daemon, then try again.`,
  );
}
