import { PipelineError, StageFailedError, TerminalError, TransientError } from '../errors.js';
import { createServices, type TikTokServices } from '../services.js';
import { CONSENT_CODES } from '../sync/grant-codes.js';
import { findInFlight, type PortabilityApi } from '../sync/request.js';
import { runSync, type SyncContext, type SyncResult } from '../sync/run-sync.js';
import { type Clock, systemClock } from '../tiktok/clock.js';
import type { DataFormat } from '../tiktok/portability-client.js';
import { RequestNotifier } from '../tiktok/webhook.js';
import type { CommandContext } from './context.js';
import { formatCounts, type Output } from './output.js';
import { type AccountRef, printDatabaseLocation, requireAccount } from './tiktok-app.js';
import { serveWebhooks } from './webhook-server.js';

/** Everything one sync needs: the services (services.ts) and where its story is told. */
export interface SyncDependencies {
  services: TikTokServices;
  signal: AbortSignal;
  output: Output;
  notifier?: RequestNotifier | undefined;
  /** Where progress lines go (default stderr, keeping stdout for the summary). */
  progress?: (line: string) => void;
  /** Drives the sync to completion: identity on the real clock, `SimulatedClock.run` on a simulated one. */
  drive?: <T>(work: Promise<T>) => Promise<T>;
}

export interface SyncOnceOptions {
  /** Only continue the request in flight; never make a new one. */
  resume: boolean;
  dataFormat: DataFormat;
  poll: { initialMs: number; maxMs: number; waitMs: number };
  /** Store the export even when the removal guard would hold it back. */
  acceptRemovals?: boolean | undefined;
}

export type ImportedSync = Extract<SyncResult, { state: 'imported' }>;

/**
 * One full sync of one account ({@link runSync}), with a progress line per step and the per-table
 * summary. Returns the sync's result on success; anything else (TikTok still preparing, the request
 * cancelled, a failure) is thrown as a sentence saying what to do next.
 */
export async function syncOnce(
  deps: SyncDependencies,
  account: AccountRef,
  options: SyncOnceOptions,
): Promise<ImportedSync> {
  const { output, services } = deps;
  const say = deps.progress ?? ((line: string) => output.err(line));
  const inFlight = await findInFlight(services.db, account.accountId);
  if (inFlight) {
    say(
      `Resuming request ${inFlight.request_id} (made ${iso(inFlight.added_at)}, ${inFlight.status}) instead of making a new one.`,
    );
  } else if (options.resume) {
    throw new TerminalError(
      'nothing_to_resume',
      `Account \`${account.name}\` has no data request in flight to resume; run \`tiktok-sync sync --account ${account.name} --once\` without --resume to make one.`,
    );
  }

  const base = services.syncContext(account.accountId, {
    signal: deps.signal,
    notifier: deps.notifier,
    client: withProgress(services.clientFor(account.accountId), services.clock, say),
  });
  const context: SyncContext = {
    ...base,
    importExport: (request) => {
      say(`Importing the archive of request ${request.requestId} …`);
      return base.importExport(request);
    },
  };
  const drive = deps.drive ?? (<T>(work: Promise<T>) => work);
  let outcome: SyncResult;
  try {
    outcome = await drive(
      runSync(context, {
        accountId: account.accountId,
        accountName: account.name,
        acceptRemovals: options.acceptRemovals,
        dataFormat: options.dataFormat,
        pollInitialMs: options.poll.initialMs,
        pollMaxMs: options.poll.maxMs,
        waitMs: options.poll.waitMs,
      }),
    );
  } catch (error) {
    throw explain(error, account.name);
  }

  for (const expired of outcome.replaced) {
    say(`Request ${expired} expired before it was downloaded; a new one was made.`);
  }
  if (outcome.state === 'waiting') {
    throw new TransientError(
      'still_preparing',
      `TikTok is still preparing request ${outcome.requestId} for account \`${account.name}\` after ${duration(options.poll.waitMs)} of waiting; the request stays in flight, and the next \`tiktok-sync sync --account ${account.name} --once\` resumes it.`,
      { details: { requestId: outcome.requestId } },
    );
  }
  if (outcome.state === 'cancelled') {
    throw new TerminalError(
      'request_cancelled',
      `Request ${outcome.requestId} for account \`${account.name}\` was cancelled before it was downloaded, so nothing was imported; the next sync makes a new request.`,
      { details: { requestId: outcome.requestId } },
    );
  }
  const result = outcome.imported;
  output.out(
    `Synced account \`${account.name}\`: request ${outcome.requestId}, ${outcome.archive.bytes.toLocaleString('en')} bytes ` +
      `(${result.info.format.toUpperCase()}, ${result.info.era} layout, ${result.records.toLocaleString('en')} records; run ${result.runId})` +
      `${result.newArchive ? '' : '; this exact archive had been imported before'}.`,
  );
  output.out();
  output.out(formatCounts(result.counts));
  if (result.warningCount > 0) {
    output.out(`${result.warningCount} warning(s), kept in run ${result.runId} (tiktok-sync status).`);
  }
  return outcome;
}

export interface SyncCommandOptions {
  account: string;
  once?: boolean;
  resume?: boolean;
  acceptRemovals?: boolean;
}

/** `tiktok-sync sync --account <name> --once [--resume]`. */
export async function cmdSync(
  context: CommandContext,
  output: Output,
  options: SyncCommandOptions,
): Promise<void> {
  const { config } = context;
  const services = await createServices(config, context.database, context.logger);
  const notifier = new ProgressNotifier((line) => output.err(line));
  const account = await requireAccount(services.db, options.account);
  const webhooks = config.tiktok.webhook.listen
    ? await serveWebhooks({
        listen: config.tiktok.webhook.listen,
        path: config.tiktok.webhook.path,
        db: services.db,
        app: services.app,
        onAuthorizationRemoved: services.onAuthorizationRemoved,
        notifier,
        clock: systemClock,
        logger: context.logger,
      })
    : undefined;
  if (webhooks) {
    output.err(
      `Listening for TikTok's webhook on ${webhooks.url} (TikTok reaches it through the app's HTTPS callback URL).`,
    );
  }
  try {
    await syncOnce(
      { services, signal: context.signal, output, notifier: webhooks ? notifier : undefined },
      account,
      {
        resume: options.resume ?? false,
        dataFormat: config.tiktok.dataFormat,
        poll: config.tiktok.poll,
        acceptRemovals: options.acceptRemovals ?? config.sync.accounts[account.name]?.acceptRemovals,
      },
    );
  } finally {
    await webhooks?.close();
  }
  output.out();
  printDatabaseLocation(output, context.database);
}

/** Tells the user when the webhook, rather than polling, says a request is ready. */
export class ProgressNotifier extends RequestNotifier {
  readonly #say: (line: string) => void;

  constructor(say: (line: string) => void) {
    super();
    this.#say = say;
  }

  override notify(requestId: string): void {
    this.#say(`TikTok's webhook says request ${requestId} is ready.`);
    super.notify(requestId);
  }
}

/** The client with a progress line for each step of the lifecycle. */
export function withProgress(
  client: PortabilityApi,
  clock: Clock,
  say: (line: string) => void,
): PortabilityApi {
  let checks = 0;
  return {
    async addRequest(request, signal) {
      const added = await client.addRequest(request, signal);
      say(
        `Asked TikTok for the data (${request.categories.join(', ')} as ${request.dataFormat.toUpperCase()}): request ${added.requestId}.`,
      );
      return added;
    },
    async checkStatus(requestId, options) {
      const status = await client.checkStatus(requestId, options);
      checks++;
      const since =
        status.applyTime === undefined
          ? ''
          : `, ${duration(Math.max(0, clock.now() - status.applyTime * 1000))} after the request`;
      if (status.status === 'pending') {
        say(`Request ${requestId}: TikTok is still preparing the data (check ${checks}${since}).`);
      } else if (status.status === 'downloading') {
        say(`Request ${requestId} is ready to download (check ${checks}${since}).`);
      } else {
        say(`Request ${requestId} is ${status.status ?? 'of unknown status'} (check ${checks}).`);
      }
      return status;
    },
    cancelRequest: (requestId, signal) => client.cancelRequest(requestId, signal),
    async download(requestId, options) {
      say(`Downloading the archive of request ${requestId} …`);
      const archive = await client.download(requestId, options);
      say(
        `Downloaded ${archive.bytes.toLocaleString('en')} bytes${archive.attempts > 1 ? ` in ${archive.attempts} attempts` : ''}.`,
      );
      return archive;
    },
  };
}

/** Adds the next step to a failure: connect again for grant problems, try later for transient ones. */
function explain(error: unknown, accountName: string): unknown {
  // An import failure already says where it stopped and what to do; `main` prints it with its run.
  if (!(error instanceof PipelineError) || error instanceof StageFailedError) return error;
  if (CONSENT_CODES.has(error.code)) {
    return new TerminalError(
      error.code,
      `${error.message} To connect it again: \`tiktok-sync connect --account ${accountName}\`.`,
      { cause: error, details: error.details },
    );
  }
  if (error instanceof TransientError) {
    return new TransientError(
      error.code,
      `${error.message} Run \`tiktok-sync sync --account ${accountName} --once\` later: it resumes where this one stopped.`,
      { cause: error, details: error.details },
    );
  }
  return error;
}

function duration(ms: number): string {
  if (ms < 10_000) return `${(ms / 1000).toFixed(1).replace(/\.0$/, '')} s`;
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  if (ms < 86_400_000) return `${(ms / 3_600_000).toFixed(1).replace(/\.0$/, '')} h`;
  return `${(ms / 86_400_000).toFixed(1).replace(/\.0$/, '')} days`;
}

const iso = (date: Date) => `${date.toISOString().slice(0, 19)}Z`;
