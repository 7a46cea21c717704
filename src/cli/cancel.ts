import { createServices } from '../services.js';
import { cancelInFlight } from '../sync/request.js';
import type { CommandContext } from './context.js';
import type { Output } from './output.js';
import { requireAccount } from './tiktok-app.js';

/** `tiktok-sync cancel --account <name>`: withdraws the account's data request in flight, if any. */
export async function cmdCancel(context: CommandContext, output: Output, options: { account: string }) {
  const services = await createServices(context.config, context.database, context.logger);
  const account = await requireAccount(services.db, options.account);
  const requestId = await cancelInFlight(
    services.syncContext(account.accountId, { signal: context.signal }),
    account.accountId,
  );
  output.out(
    requestId
      ? `Cancelled request ${requestId} of account \`${account.name}\`; the next sync makes a new one.`
      : `Account \`${account.name}\` has no data request in flight; nothing to cancel.`,
  );
}
