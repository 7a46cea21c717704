/**
 * The `request` stage of a sync and what the other stages share about the account's data request:
 * the categories the grant allows, the request in flight, Add, Cancel, and how a failing step is
 * recorded on the request (docs/tiktok-api.md §2).
 */
import type { Kysely } from 'kysely';
import {
  ConfigError,
  coerceError,
  PipelineError,
  StageFailedError,
  TerminalError,
  TransientError,
} from '../errors.js';
import type { Logger } from '../logger.js';
import type { DataRequestsTable, TikTokDatabase } from '../tiktok/db-types.js';
import type { Category, PortabilityClient } from '../tiktok/portability-client.js';
import type { CredentialSummary } from '../tiktok/tokens.js';
import { CONSENT_CODES, GRANT_REFUSED_CODES } from './grant-codes.js';
import type { SyncContext, SyncOptions } from './run-sync.js';

/** What each portability scope type lets Add ask for (docs/tiktok-api.md §0). */
const SCOPE_CATEGORIES: ReadonlyArray<readonly [type: string, categories: readonly Category[]]> = [
  ['activity', ['activity']],
  ['postsandprofile', ['video', 'profile']],
  ['directmessages', ['direct_message']],
];

export interface CategoryPlan {
  categories: Category[];
  /** `.single` scopes this Add uses up (each allows exactly one Add). */
  consumes: string[];
}

/**
 * Categories to request given the scopes still usable: `all_data` when `portability.all.*` is
 * granted, else the categories of each granted type. Ongoing scopes are preferred to single ones,
 * so a single scope is only spent when nothing ongoing covers its categories.
 */
export function categoriesForScopes(
  granted: readonly string[],
  consumed: readonly string[] = [],
): CategoryPlan {
  const usable = new Set(granted.filter((scope) => !consumed.includes(scope)));
  if (usable.has('portability.all.ongoing')) return { categories: ['all_data'], consumes: [] };
  if (usable.has('portability.all.single'))
    return { categories: ['all_data'], consumes: ['portability.all.single'] };
  const plan: CategoryPlan = { categories: [], consumes: [] };
  for (const [type, categories] of SCOPE_CATEGORIES) {
    if (usable.has(`portability.${type}.ongoing`)) plan.categories.push(...categories);
    else if (usable.has(`portability.${type}.single`)) {
      plan.categories.push(...categories);
      plan.consumes.push(`portability.${type}.single`);
    }
  }
  return plan;
}

/** The parts of the client a sync uses. */
export type PortabilityApi = Pick<
  PortabilityClient,
  'addRequest' | 'checkStatus' | 'cancelRequest' | 'download'
>;

/** The parts of the token store a sync uses. */
export interface GrantStore {
  summary(accountId: string): Promise<CredentialSummary | undefined>;
  consumeScopes(accountId: string, scopes: readonly string[]): Promise<void>;
  markNeedsConsent(accountId: string, reason: string): Promise<void>;
}

/** The account's data request as the stages read it. */
export type RequestRow = Pick<DataRequestsTable, 'request_id' | 'status' | 'data_format' | 'categories'> & {
  account_id: string;
  added_at: Date;
};

/** The account's request that has not finished, if any (at most one: a unique index says so). */
export async function findInFlight(
  db: Kysely<TikTokDatabase>,
  accountId: string,
): Promise<RequestRow | undefined> {
  return db
    .selectFrom('tiktok_sync.data_requests')
    .select(['account_id', 'request_id', 'status', 'data_format', 'categories', 'added_at'])
    .where('account_id', '=', accountId)
    .where('finished_at', 'is', null)
    .executeTakeFirst();
}

/** Adds a data request for what the grant (and the account's settings) allow, and records it. */
export async function addRequest(
  context: SyncContext,
  options: SyncOptions,
  grant: CredentialSummary,
  log: Logger,
): Promise<RequestRow> {
  const fresh = (await context.grants.summary(options.accountId)) ?? grant;
  const plan = categoriesForScopes(fresh.scopes, fresh.consumedScopes);
  if (plan.categories.length === 0) {
    const reason = `No usable portability scope is left (granted: ${fresh.scopes.join(', ') || 'none'}; used up: ${fresh.consumedScopes.join(', ') || 'none'}); connect the account again with a portability scope.`;
    await context.grants.markNeedsConsent(options.accountId, reason);
    throw new TerminalError(
      'no_portability_scope',
      `Account \`${options.accountName}\` cannot request data: ${reason}`,
    );
  }
  if (options.categories && !options.categories.includes('all_data')) {
    const wanted = options.categories;
    if (plan.categories.includes('all_data')) plan.categories = [...wanted];
    else {
      plan.categories = plan.categories.filter((category) => wanted.includes(category));
      plan.consumes = plan.consumes.filter((scope) =>
        SCOPE_CATEGORIES.some(
          ([type, categories]) =>
            scope === `portability.${type}.single` && categories.some((c) => plan.categories.includes(c)),
        ),
      );
    }
    if (plan.categories.length === 0) {
      throw new TerminalError(
        'categories_not_granted',
        `Account \`${options.accountName}\` is configured to sync ${wanted.join(', ')}, which its grant (${fresh.scopes.join(', ')}) does not allow; change the account's categories or connect it again with the matching scopes.`,
      );
    }
  }
  const dataFormat = options.dataFormat ?? 'json';
  const added = await guard(context, options, undefined, () =>
    context.client.addRequest({ dataFormat, categories: plan.categories }, context.signal),
  );
  if (plan.consumes.length > 0) await context.grants.consumeScopes(options.accountId, plan.consumes);
  const row = {
    account_id: options.accountId,
    request_id: added.requestId,
    status: 'pending' as const,
    data_format: dataFormat,
    categories: plan.categories,
    scopes_consumed: plan.consumes,
    added_at: new Date(context.clock.now()),
  };
  try {
    await context.db.insertInto('tiktok_sync.data_requests').values(row).execute();
  } catch (error) {
    const { code, constraint } = error as { code?: string; constraint?: string };
    // Only the one-in-flight index means "another process made a request"; any other clash is a bug.
    if (code !== '23505' || constraint !== 'data_requests_one_in_flight') throw error;
    // Another process started a request for this account meanwhile: withdraw ours.
    await context.client.cancelRequest(added.requestId, context.signal).catch(() => {});
    throw new TransientError(
      'request_in_flight_elsewhere',
      `Account \`${options.accountName}\` got a data request from another process while this one made request \`${added.requestId}\` (now cancelled); the other one goes on.`,
      { cause: error },
    );
  }
  log.info(
    { requestId: added.requestId, categories: plan.categories, dataFormat, log_id: added.logId },
    'data request added',
  );
  return row;
}

/**
 * Cancels the account's in-flight request, at TikTok and in our records. Returns its id, or
 * undefined when nothing was in flight.
 */
export async function cancelInFlight(
  context: Pick<SyncContext, 'db' | 'client' | 'clock' | 'logger' | 'signal'>,
  accountId: string,
): Promise<string | undefined> {
  const row = await findInFlight(context.db, accountId);
  if (!row) return undefined;
  try {
    await context.client.cancelRequest(row.request_id, context.signal);
  } catch (error) {
    // Already over at TikTok (expired or cancelled elsewhere): record what it says.
    if (!(error instanceof TerminalError && error.code === 'invalid_params')) throw error;
    const status = await context.client.checkStatus(row.request_id, { signal: context.signal });
    if (status.status !== 'expired' && status.status !== 'cancelled') throw error;
    await finishRequest(context, accountId, row.request_id, status.status);
    return row.request_id;
  }
  await finishRequest(context, accountId, row.request_id, 'cancelled');
  context.logger.info({ accountId, requestId: row.request_id }, 'data request cancelled');
  return row.request_id;
}

/** Ends a request that TikTok expired or cancelled. */
export async function finishRequest(
  context: Pick<SyncContext, 'db' | 'clock'>,
  accountId: string,
  requestId: string,
  status: 'expired' | 'cancelled',
) {
  await context.db
    .updateTable('tiktok_sync.data_requests')
    .set({ status, finished_at: new Date(context.clock.now()) })
    .where('account_id', '=', accountId)
    .where('request_id', '=', requestId)
    .where('finished_at', 'is', null)
    .execute();
}

/**
 * Runs one step; on failure records it on the request. A failure about the grant marks the account
 * `needs_consent`; other terminal failures end the request as `failed` (the next sync makes a new
 * one); transient ones leave it in flight to be resumed.
 */
export async function guard<T>(
  context: SyncContext,
  options: SyncOptions,
  requestId: string | undefined,
  step: () => Promise<T>,
): Promise<T> {
  try {
    return await step();
  } catch (thrown) {
    if (context.signal?.aborted) throw thrown;
    const error = coerceError(thrown);
    const root =
      error instanceof StageFailedError && error.cause instanceof PipelineError ? error.cause : error;
    const code = root instanceof PipelineError ? root.code : 'unexpected_error';
    if (GRANT_REFUSED_CODES.has(code)) {
      await context.grants.markNeedsConsent(
        options.accountId,
        `TikTok answered \`${code}\`: ${root.message}`,
      );
    }
    if (requestId) {
      const failure = { code, message: root.message };
      const endsRequest =
        root instanceof TerminalError && !(root instanceof ConfigError) && !CONSENT_CODES.has(code);
      await context.db
        .updateTable('tiktok_sync.data_requests')
        .set({
          error_code: failure.code,
          error_message: failure.message,
          ...(endsRequest ? { status: 'failed' as const, finished_at: new Date(context.clock.now()) } : {}),
        })
        .where('account_id', '=', options.accountId)
        .where('request_id', '=', requestId)
        .where('finished_at', 'is', null)
        .execute();
    }
    throw error;
  }
}
