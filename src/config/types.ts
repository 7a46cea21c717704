import type { Secret } from '../tiktok/secret.js';
import type { Category } from '../tiktok/vocabulary.js';

/** How often an account is synced: every fixed duration, or at the times a cron expression names. */
export type SyncInterval =
  | { readonly kind: 'every'; readonly ms: number; readonly text: string }
  | { readonly kind: 'cron'; readonly expression: string; readonly timezone: string; readonly text: string };

/**
 * Everything the service can be told, validated once at start and frozen (src/config/load.ts).
 */
export interface Config {
  /** Where the embedded Postgres, downloaded archives and quarantined archives live. */
  readonly dataDir: string;
  readonly database: DatabaseConfig;
  readonly archive: {
    readonly maxUncompressedBytes: number;
    readonly maxCompressionRatio: number;
    readonly maxEntries: number;
    /** How long downloaded archives are kept after their import; 0 deletes them at once. */
    readonly retentionMs: number;
    /** Where archives that can never be imported are put aside, with the reason. */
    readonly quarantineDir: string;
    /** Which imported archives are kept for `tiktok-sync reprocess`, and where. */
    readonly kept: KeptArchivesConfig;
    /** How much an export may remove before it is held back (src/ingest/removal-guard.ts). */
    readonly guard: { readonly maxRemovedShare: number; readonly minRecords: number };
  };
  readonly tiktok: TikTokConfig;
  /** The daemon (`tiktok-sync run`): when accounts are synced, how many at once, and how work is shared. */
  readonly sync: SyncConfig;
  /** The pages the daemon serves to people (invite links, the OAuth callback). */
  readonly server: ServerConfig;
  /** Unset means: the command decides (quiet one-shot commands, informative daemon). */
  readonly logLevel: LogLevel | undefined;
  readonly logFormat: LogFormat;
}

/** `all`, `none`, or the last N archives of each account (N ≥ 1). */
export type KeepPolicy = 'all' | 'none' | number;

export interface KeptArchivesConfig {
  readonly keep: KeepPolicy;
  /** `<dataDir>/archives` unless set; files 0600 in folders 0700 (they hold private data). */
  readonly dir: string;
}

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent';
export type LogFormat = 'auto' | 'json' | 'pretty';

/** The TikTok app (or the sandbox standing in for it) and how syncs talk to it. */
export interface TikTokConfig {
  readonly clientKey: string | undefined;
  readonly clientSecret: Secret | undefined;
  /** Where `open.tiktokapis.com` is: TikTok, the sandbox, or any server implementing the documented API. */
  readonly apiBaseUrl: string;
  /** Where the consent page `www.tiktok.com/v2/auth/authorize/` is. */
  readonly authBaseUrl: string;
  /** A loopback URI registered with the app; `connect` listens on it. */
  readonly redirectUri: string;
  readonly pkceEncoding: 'hex' | 'base64url';
  readonly scopes: readonly string[];
  readonly dataFormat: 'json' | 'text';
  /** 32-byte AES-256-GCM key for tokens at rest; without it, tokens cannot be stored. */
  readonly encryptionKey: Buffer | undefined;
  readonly webhook: { readonly listen: string | undefined; readonly path: string };
  readonly download: { readonly maxBytes: number; readonly directory: string };
  readonly poll: { readonly initialMs: number; readonly maxMs: number; readonly waitMs: number };
}

/** The daemon's schedule, concurrency, leases and failure policy. */
export interface SyncConfig {
  /** How often each account's full export is requested. */
  readonly interval: SyncInterval;
  /** IANA zone for cron intervals and the tick (default UTC). */
  readonly timezone: string;
  /** Each due time is pushed back by a random delay up to this, so accounts do not all hit TikTok at once. */
  readonly jitterMs: number;
  /** node-cron expression that wakes the daemon to look for due accounts (default every 30 s). */
  readonly tick: string;
  /** Accounts one daemon works on at once. */
  readonly concurrency: number;
  /** How long a claim on an account lasts without a heartbeat; another daemon takes over after it. */
  readonly leaseMs: number;
  /** A request TikTok keeps `pending` longer than this is cancelled and made again. */
  readonly pendingLimitMs: number;
  /** How long one claim waits for TikTok to prepare the data before releasing the account (0: one Check). */
  readonly checkWaitMs: number;
  /** Backoff of transient failures: doubles from `initialMs` up to `maxMs`, with jitter. */
  readonly retry: { readonly initialMs: number; readonly maxMs: number };
  /** On SIGTERM: time given to the current stage to finish before it is abandoned. */
  readonly shutdownGraceMs: number;
  /** On SIGTERM: the bound on the whole shutdown (claims are released before it). */
  readonly shutdownTimeoutMs: number;
  /** `host:port` of the daemon's HTTP server: /healthz, /metrics and the TikTok webhook. */
  readonly listen: string;
  /** Name of this daemon in leases and logs; default `<hostname>:<pid>:<random>`. */
  readonly owner: string | undefined;
  /**
   * What TikTok's `authorization.removed` webhook does: `keep` marks the grant revoked (syncing
   * stops, the data stays); `forget` forgets the account (src/forget/forget-account.ts).
   */
  readonly onAuthorizationRemoved: 'keep' | 'forget';
  /** Per-account settings, by account name. */
  readonly accounts: Readonly<Record<string, AccountSyncConfig>>;
}

/** Where people reach the daemon's pages, and who they are told asks for their data. */
export interface ServerConfig {
  /** `https://…` (or `http://` on loopback) without a trailing slash; unset: no invite pages. */
  readonly publicUrl: string | undefined;
  /** `<publicUrl>/oauth/callback`: the redirect URI to register with the TikTok app. */
  readonly redirectUri: string | undefined;
  /** Set whenever `publicUrl` is (the schema requires both). */
  readonly operator: { readonly name: string; readonly contact: string } | undefined;
}

export interface AccountSyncConfig {
  readonly interval?: SyncInterval;
  readonly categories?: readonly Category[];
  readonly dataFormat?: 'json' | 'text';
  readonly paused?: boolean;
  /** Store this account's exports even when the removal guard would hold them back. */
  readonly acceptRemovals?: boolean;
}

export type DatabaseConfig =
  /** A server named by `DATABASE_URL`, the config file, or libpq `PG*` variables (read by node-postgres). */
  | { readonly kind: 'external'; readonly connectionString: string | undefined; readonly source: string }
  /** The bundled Postgres, started on demand in `<dataDir>/postgres`. */
  | { readonly kind: 'embedded'; readonly port: number };
