/**
 * The failures that mean an account's TikTok grant cannot be used, in one list for the sync (which
 * keeps the request in flight and marks the account), the daemon (which waits for the user instead
 * of retrying or stopping) and the CLI (which says to connect again).
 */

/** TikTok refused the access token or a scope (docs/tiktok-api.md §1): the user must consent again. */
export const GRANT_REFUSED_CODES: ReadonlySet<string> = new Set([
  'access_token_invalid',
  'scope_not_authorized',
  'scope_permission_missed',
]);

/** Every code that means "connect the account again": TikTok's, and the ones this service raises. */
export const CONSENT_CODES: ReadonlySet<string> = new Set([
  ...GRANT_REFUSED_CODES,
  'invalid_grant',
  'needs_consent',
  'revoked',
  'not_connected',
  'no_portability_scope',
]);
