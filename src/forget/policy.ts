/**
 * What TikTok's `authorization.removed` webhook (docs/tiktok-api.md §3) does to the account, as
 * `sync.onAuthorizationRemoved` says:
 *
 * - `keep` (the default): the grant is marked revoked and its tokens wiped; syncing stops, the data
 *   stays, and connecting again resumes it.
 * - `forget`: the same first (so no daemon claims the account again), then the account is forgotten
 *   as `tiktok-sync forget` does, without the revoke: TikTok removed the grant already. While a
 *   daemon is still syncing the account, the event stays unprocessed and the daemon's next tick
 *   tries again (src/tiktok/webhook-events.ts, `retryAuthorizationRemovals`).
 */
import { PipelineError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { TokenStore } from '../tiktok/tokens.js';
import { type ForgetContext, forgetAccount } from './forget-account.js';

export type AuthorizationRemovedPolicy = 'keep' | 'forget';

export function authorizationRemovedHandler(options: {
  policy: AuthorizationRemovedPolicy;
  grants: Pick<TokenStore, 'markRevoked'>;
  forget: ForgetContext;
  logger: Logger;
}): (accountId: string, reason: string) => Promise<'later' | undefined> {
  return async (accountId, reason) => {
    await options.grants.markRevoked(accountId, reason);
    if (options.policy === 'keep') return;
    try {
      const result = await forgetAccount(options.forget, {
        accountId,
        reason: 'authorization_removed',
        revoke: false,
      });
      if (result && result.leftovers.length > 0) {
        options.logger.error(
          { accountId, leftovers: result.leftovers },
          'the forgotten account left files that could not be removed; delete them by hand',
        );
      }
    } catch (error) {
      if (!(error instanceof PipelineError && error.code === 'account_busy')) throw error;
      options.logger.warn(
        { accountId },
        'a daemon is still syncing the account TikTok removed: it is forgotten at a later tick',
      );
      return 'later';
    }
  };
}
