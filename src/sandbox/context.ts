import { randomBytes } from 'node:crypto';
import { DAY, SECOND } from '../duration.js';
import type { Logger } from '../logger.js';
import type { Clock } from '../tiktok/clock.js';
import type { Faults } from './faults.js';
import type { ConsentDecision, SandboxOptions } from './options.js';
import {
  type AuthorizationCode,
  createAccount,
  type Grant,
  type IssuedToken,
  type SandboxAccount,
  type SandboxRequest,
} from './state.js';
import type { WebhookSender } from './webhooks.js';

export { DAY, MINUTE, SECOND } from '../duration.js';

/** {@link SandboxOptions} with the defaults filled in. */
export interface SandboxSettings {
  clientKey: string;
  clientSecret: string;
  redirectUris: readonly string[];
  readyDelayMs: number;
  expiryMs: number;
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
  rotateRefreshTokens: boolean;
  pkceEncoding: 'hex' | 'base64url' | 'either';
  requirePkce: boolean;
  oneRequestAtATime: boolean;
  rateLimitPerMinute: number;
  acceptRanges: boolean;
  ignoreRangeRequests: boolean;
  /** Whether `portability.download.ready` carries `user_openid`. */
  readyEventOpenId: boolean;
  authorizationRemovedEvent: boolean;
}

export function resolveSettings(options: SandboxOptions): SandboxSettings {
  return {
    clientKey: options.clientKey ?? 'sbxclientkey0001',
    clientSecret: options.clientSecret ?? randomBytes(16).toString('hex'),
    redirectUris: options.redirectUris ?? ['http://127.0.0.1:*/callback/'],
    readyDelayMs: options.readyDelayMs ?? 60 * SECOND,
    expiryMs: options.expiryMs ?? 4 * DAY,
    accessTtlSeconds: options.accessTokenTtlSeconds ?? 86_400,
    refreshTtlSeconds: options.refreshTokenTtlSeconds ?? 31_536_000,
    rotateRefreshTokens: options.rotateRefreshTokens ?? true,
    pkceEncoding: options.pkceEncoding ?? 'hex',
    requirePkce: options.requirePkce ?? true,
    oneRequestAtATime: options.oneRequestAtATime ?? true,
    rateLimitPerMinute: options.rateLimitPerMinute ?? 1000,
    acceptRanges: options.acceptRanges ?? false,
    ignoreRangeRequests: options.ignoreRangeRequests ?? false,
    readyEventOpenId: options.webhook?.includeOpenId ?? false,
    authorizationRemovedEvent: options.webhook?.authorizationRemoved ?? true,
  };
}

/** What the sandbox remembers between requests: users, codes, tokens, grants and data requests. */
export interface SandboxState {
  readonly accounts: Map<string, SandboxAccount>;
  readonly codes: Map<string, AuthorizationCode>;
  readonly accessTokens: Map<string, IssuedToken>;
  readonly refreshTokens: Map<string, Grant>;
  readonly grants: Grant[];
  /** By request id as a decimal string. */
  readonly requests: Map<string, SandboxRequest>;
  /** How the next consents are answered, oldest first. */
  readonly consentQueue: ConsentDecision[];
  nextRequestId: bigint;
}

export function createState(options: SandboxOptions, nowMs: number): SandboxState {
  const accounts = new Map<string, SandboxAccount>();
  (options.accounts ?? [{ username: 'sandbox.user' }]).forEach((account, index) => {
    accounts.set(account.username, createAccount(account, index, nowMs));
  });
  return {
    accounts,
    codes: new Map(),
    accessTokens: new Map(),
    refreshTokens: new Map(),
    grants: [],
    requests: new Map(),
    consentQueue: [],
    nextRequestId: options.firstRequestId ?? 7_412_345_678_901_234_567n,
  };
}

/** Everything an endpoint handler works with; one per sandbox. */
export interface SandboxContext {
  readonly settings: SandboxSettings;
  readonly state: SandboxState;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly faults: Faults;
  readonly webhooks: WebhookSender;
  /** Where rendered archives are written; removed on close. */
  readonly workDir: string;
  /** Aborted when the sandbox closes: stops timers and webhook retries. */
  readonly signal: AbortSignal;
}
