/**
 * The composition root: the one place that builds what a command or the daemon needs from the
 * configuration — the import context, the TikTok app's token store, a Portability client per account,
 * the context of a sync, and what forgetting an account and the `authorization.removed` policy use.
 * `tiktok-sync import`, `reprocess`, `sync`, `demo`, `forget` and `run` all get their services here;
 * nothing else constructs a client or a token store.
 */
import type { Kysely } from 'kysely';
import type { Config } from './config.js';
import type { DatabaseHandle } from './db/connect.js';
import type { ForgetContext, ForgetTikTok } from './forget/forget-account.js';
import { authorizationRemovedHandler } from './forget/policy.js';
import { type ImportContext, type ImportResult, importArchive } from './ingest/import-archive.js';
import type { Logger } from './logger.js';
import { makePrivateDir } from './private-files.js';
import { cancelInFlight, type PortabilityApi } from './sync/request.js';
import type { ImportExportFn, SyncContext } from './sync/run-sync.js';
import {
  oauthClientFor,
  requireEncryptionKey,
  requireTikTokApp,
  type TikTokApp,
  tiktokDb,
} from './tiktok/app.js';
import { type Clock, systemClock } from './tiktok/clock.js';
import type { TikTokDatabase } from './tiktok/db-types.js';
import { PortabilityClient } from './tiktok/portability-client.js';
import { TokenStore, type TokenStoreOptions } from './tiktok/tokens.js';
import type { RequestNotifier } from './tiktok/webhook.js';

/** What an import needs, from the configuration. */
export function importContextFor(
  config: Config,
  database: DatabaseHandle,
  logger: Logger,
  signal?: AbortSignal,
): ImportContext {
  return {
    database,
    logger,
    limits: config.archive,
    signal,
    quarantineDir: config.archive.quarantineDir,
    kept: config.archive.kept,
    guard: config.archive.guard,
  };
}

/** What forgetting an account needs besides TikTok (src/forget/forget-account.ts). */
export function forgetContextFor(
  config: Config,
  database: DatabaseHandle,
  logger: Logger,
  options: { clock?: Clock | undefined; tiktok?: ForgetContext['tiktok'] } = {},
): ForgetContext {
  return {
    pool: database.pool,
    db: tiktokDb(database),
    dirs: {
      kept: config.archive.kept.dir,
      quarantine: config.archive.quarantineDir,
      downloads: config.tiktok.download.directory,
    },
    clock: options.clock ?? systemClock,
    logger,
    tiktok: options.tiktok,
  };
}

export interface ServiceOptions {
  clock?: Clock | undefined;
  random?: (() => number) | undefined;
  /** The app to act as; the configured one by default (the demo passes its sandbox's). */
  app?: TikTokApp | undefined;
  /** The token encryption key; the configured one by default. */
  encryptionKey?: Buffer | undefined;
  /** Builds the token store (the daemon's counts refreshes in its metrics). */
  tokenStore?: ((options: TokenStoreOptions) => TokenStore) | undefined;
  /** Replaces the import of downloaded archives (tests of the daemon's failure handling). */
  importExport?:
    | ((options: Parameters<ImportExportFn>[0], signal?: AbortSignal) => Promise<ImportResult>)
    | undefined;
}

export interface TikTokServices {
  readonly app: TikTokApp;
  readonly db: Kysely<TikTokDatabase>;
  readonly grants: TokenStore;
  readonly clock: Clock;
  /** A Portability client bound to the account's tokens. */
  clientFor(accountId: string): PortabilityClient;
  /** The import of a downloaded archive, with the configured limits, quarantine and kept archives. */
  importExport(options: Parameters<ImportExportFn>[0], signal?: AbortSignal): Promise<ImportResult>;
  /** Cancels a request in flight and revokes a grant, for forgetting an account. */
  readonly forgetTikTok: ForgetTikTok;
  /** What TikTok's `authorization.removed` does, as `sync.onAuthorizationRemoved` says (src/forget/policy.ts). */
  onAuthorizationRemoved(accountId: string, reason: string): Promise<'later' | undefined>;
  /** Everything {@link runSync} needs for one account. */
  syncContext(
    accountId: string,
    options: {
      signal?: AbortSignal | undefined;
      notifier?: RequestNotifier | undefined;
      client?: PortabilityApi;
    },
  ): SyncContext;
}

/** The services of the TikTok half (see the module comment). */
export async function createServices(
  config: Config,
  database: DatabaseHandle,
  logger: Logger,
  options: ServiceOptions = {},
): Promise<TikTokServices> {
  const app = options.app ?? requireTikTokApp(config);
  const encryptionKey = options.encryptionKey ?? requireEncryptionKey(config);
  const clock = options.clock ?? systemClock;
  const db = tiktokDb(database);
  const storeOptions: TokenStoreOptions = {
    db,
    oauth: oauthClientFor(app, clock),
    encryptionKey,
    clock,
    logger,
  };
  const grants = options.tokenStore ? options.tokenStore(storeOptions) : new TokenStore(storeOptions);
  await makePrivateDir(config.tiktok.download.directory);

  const clientFor = (accountId: string) =>
    new PortabilityClient({
      tokens: grants.forAccount(accountId),
      endpoints: { apiBaseUrl: app.apiBaseUrl, authBaseUrl: app.authBaseUrl },
      clock,
      logger,
      ...(options.random ? { random: options.random } : {}),
      download: {
        directory: config.tiktok.download.directory,
        maxBytes: config.tiktok.download.maxBytes,
      },
    });
  const importExport: TikTokServices['importExport'] = (importOptions, signal) =>
    options.importExport
      ? options.importExport(importOptions, signal)
      : importArchive(importContextFor(config, database, logger, signal), importOptions);

  const syncContext: TikTokServices['syncContext'] = (accountId, { signal, notifier, client }) => ({
    db,
    client: client ?? clientFor(accountId),
    grants,
    clock,
    logger,
    signal,
    notifier,
    importExport: (importOptions) => importExport(importOptions, signal),
  });
  const forgetTikTok: ForgetTikTok = {
    cancelInFlight: (accountId) => cancelInFlight(syncContext(accountId, {}), accountId),
    revokeGrant: (accountId) =>
      grants.revokeGrant(accountId, 'Revoked at TikTok while the account is being forgotten.'),
  };
  const forget = forgetContextFor(config, database, logger, { clock, tiktok: async () => forgetTikTok });
  return {
    app,
    db,
    grants,
    clock,
    clientFor,
    importExport,
    forgetTikTok,
    onAuthorizationRemoved: authorizationRemovedHandler({
      policy: config.sync.onAuthorizationRemoved,
      grants,
      forget,
      logger,
    }),
    syncContext,
  };
}
