import { randomBytes } from 'node:crypto';
import { type Era, evolve, generateUser, type SyntheticUser } from '../synthetic/index.js';

export const SCOPES = [
  'portability.all.single',
  'portability.all.ongoing',
  'portability.activity.single',
  'portability.activity.ongoing',
  'portability.directmessages.single',
  'portability.directmessages.ongoing',
  'portability.postsandprofile.single',
  'portability.postsandprofile.ongoing',
] as const;

export const CATEGORY_TYPE: Record<string, string> = {
  activity: 'activity',
  video: 'postsandprofile',
  profile: 'postsandprofile',
  direct_message: 'directmessages',
  all_data: 'all',
};

export interface SandboxAccountOptions {
  username: string;
  seed?: number;
  /** About how many records the user's full export holds (default 300). */
  scale?: number;
  /** Layout of the exports (default 2025). */
  era?: Era;
  openId?: string;
  /** Scopes this user agrees to on the consent page; default: whatever the app asks. */
  grants?: readonly string[];
  /** Days the user lives between two requests when less simulated time passed (default 1). */
  evolveDays?: number;
}

export interface SandboxAccount {
  username: string;
  openId: string;
  era: Era;
  grants: readonly string[] | undefined;
  evolveDays: number;
  seed: number;
  /** The user as of the latest request; evolved at every Add after the first. */
  user: SyntheticUser;
  requests: number;
}

export interface Grant {
  id: number;
  account: SandboxAccount;
  scopes: Set<string>;
  consumed: Set<string>;
  revoked: boolean;
  refreshToken: string;
  refreshExpiresAt: number;
}

export interface IssuedToken {
  grant: Grant;
  expiresAt: number;
}

export interface AuthorizationCode {
  account: SandboxAccount;
  scopes: string[];
  redirectUri: string;
  challenge: string | undefined;
  expiresAt: number;
  used: boolean;
}

export interface SandboxRequest {
  id: bigint;
  account: SandboxAccount;
  grant: Grant;
  dataFormat: 'json' | 'text';
  /** Echoed back by Check exactly as sent. */
  categories: unknown[];
  /** Unix seconds. */
  applyTime: number;
  collectAt: number;
  readyAt: number;
  expireAt: number;
  cancelled: boolean;
  /** The user at the time of the request: the archive is rendered from it. */
  user: SyntheticUser;
  archive: Promise<string> | undefined;
}

export type RequestState = 'pending' | 'downloading' | 'expired' | 'cancelled';

export function requestState(request: SandboxRequest, nowMs: number): RequestState {
  if (request.cancelled) return 'cancelled';
  if (nowMs >= request.expireAt) return 'expired';
  if (nowMs >= request.readyAt) return 'downloading';
  return 'pending';
}

export function createAccount(options: SandboxAccountOptions, index: number, nowMs: number): SandboxAccount {
  const seed = options.seed ?? 1000 + index;
  return {
    username: options.username,
    openId: options.openId ?? `sbx-${randomBytes(12).toString('hex')}`,
    era: options.era ?? '2025',
    grants: options.grants,
    evolveDays: options.evolveDays ?? 1,
    seed,
    user: generateUser({
      seed,
      username: options.username,
      scale: options.scale ?? 300,
      now: Math.floor(nowMs / 1000),
    }),
    requests: 0,
  };
}

/** The user as of a new request: evolved by the simulated time since the last one (at least `evolveDays`). */
export function userForNewRequest(account: SandboxAccount, nowMs: number): SyntheticUser {
  if (account.requests > 0) {
    const elapsedDays = (nowMs / 1000 - account.user.now) / 86_400;
    const days = Math.max(elapsedDays, account.evolveDays);
    account.user = evolve(account.user, { seed: account.seed, days });
  }
  account.requests++;
  return account.user;
}

/**
 * Which `.single` scopes an Add uses up, or undefined when the grant does not allow the categories
 * (docs/tiktok-api.md §0). Ongoing scopes cover a category without being used up; otherwise
 * `portability.all.single` (the broadest) is used if granted, else one `<type>.single` per type.
 * How TikTok handles two typed single scopes in one request is UNVERIFIED.
 */
export function scopesToConsume(categories: readonly string[], grant: Grant): string[] | undefined {
  const usable = (scope: string) => grant.scopes.has(scope) && !grant.consumed.has(scope);
  const types = new Set(categories.map((category) => CATEGORY_TYPE[category]!));
  if (types.has('all')) {
    if (usable('portability.all.ongoing')) return [];
    if (usable('portability.all.single')) return ['portability.all.single'];
    return undefined;
  }
  const uncovered = [...types].filter(
    (type) => !usable('portability.all.ongoing') && !usable(`portability.${type}.ongoing`),
  );
  if (uncovered.length === 0) return [];
  if (usable('portability.all.single')) return ['portability.all.single'];
  const needed = uncovered.map((type) => `portability.${type}.single`);
  return needed.every(usable) ? needed : undefined;
}

/** A TikTok-looking log id: `YYYYMMDDhhmmss` then 18 upper-case hex digits. */
export function logId(nowMs: number): string {
  const stamp = new Date(nowMs).toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `${stamp}${randomBytes(9).toString('hex').toUpperCase()}`;
}
