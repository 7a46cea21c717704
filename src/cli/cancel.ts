import { systemClock } from '../tiktok/clock.js';
import { cancelInFlight } from '../tiktok/lifecycle.js';
import type { CommandContext } from './context.js';
import type { Output } from './output.js';
import { tiktokServices } from './sync.js';
import { requireAccount } from './tiktok-app.js';

/** `tiktok-sync cancel --account <name>`: withdraws the account's data request in flight, if any. */
export async function cmdCancel(context: CommandContext, output: Output, options: { account: string }) {
  const services = await tiktokServices(context, output);
  const account = await requireAccount(services.db, options.account);
  const requestId = await cancelInFlight(
    {
      db: services.db,
      client: services.clientFor(account.accountId),
      clock: systemClock,
      logger: context.logger,
      signal: context.signal,
    },
    account.accountId,
  );
  output.out(
    requestId
      ? `Cancelled request ${requestId} of account \`${account.name}\`; the next sync makes a new one.`
      : `Account \`${account.name}\` has no data request in flight; nothing to cancel.`,
  );
}
