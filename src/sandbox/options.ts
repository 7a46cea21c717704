import type { Logger } from '../logger.js';
import type { Clock } from '../tiktok/clock.js';
import type { Faults } from './faults.js';
import type { SandboxAccountOptions } from './state.js';

export interface SandboxOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  clientKey?: string;
  clientSecret?: string;
  /** Registered redirect URIs; a `*` port matches any port (desktop apps). Default `http://127.0.0.1:*\/callback/`. */
  redirectUris?: readonly string[];
  /** Default: a {@link SimulatedClock} that tests advance. */
  clock?: Clock;
  accounts?: readonly SandboxAccountOptions[];
  /** From Add to `downloading` (default 60 s). */
  readyDelayMs?: number;
  /** From `downloading` to `expired` (default 4 days, as documented). */
  expiryMs?: number;
  accessTokenTtlSeconds?: number;
  refreshTokenTtlSeconds?: number;
  /** Hand out a new refresh token on every refresh, invalidating the old one (default true). */
  rotateRefreshTokens?: boolean;
  /** Challenge encoding the token endpoint checks: TikTok's desktop doc says hex (default). */
  pkceEncoding?: 'hex' | 'base64url' | 'either';
  requirePkce?: boolean;
  /** The first request id (default 7412345678901234567, above 2^53). */
  firstRequestId?: bigint;
  /** Refuse an Add while the user has a request still pending (default true; TikTok's rule is UNVERIFIED). */
  oneRequestAtATime?: boolean;
  webhook?: {
    url?: string;
    maxAttempts?: number;
    initialDelayMs?: number;
    /** TikTok's example of download.ready has no user_openid (default false, like the docs). */
    includeOpenId?: boolean;
    /** Send `authorization.removed` when a grant is revoked (default true). */
    authorizationRemoved?: boolean;
  };
  /** Requests per endpoint per minute before 429 (default 1000, as documented). */
  rateLimitPerMinute?: number;
  /** Advertise `Accept-Ranges: bytes` on Download and honour Range (undocumented at TikTok; default false). */
  acceptRanges?: boolean;
  /** With `acceptRanges`, still answer Range requests with the whole file (200), as some servers do. */
  ignoreRangeRequests?: boolean;
  faults?: Faults;
  logger?: Logger;
}

export interface ConsentDecision {
  /** Which sandbox user signs in (default the first). */
  account?: string;
  /** Scopes granted; default: the requested ones the user agrees to. */
  grant?: readonly string[];
  /** Answer `error=access_denied`. */
  deny?: boolean;
}
