import { ConfigError } from '../errors.js';
import { type ReprocessResult, reprocessAccount } from '../ingest/reprocess.js';
import { importContextFor } from '../services.js';
import type { CommandContext } from './context.js';
import { formatCounts, type Output } from './output.js';

export interface ReprocessCommandOptions {
  account?: string | undefined;
}

/**
 * `tiktok-sync reprocess [--account <name>]`: reads the kept archives of one account (or of every
 * account) again with the current parsers and writes only what that changes.
 */
export async function cmdReprocess(
  context: CommandContext,
  output: Output,
  options: ReprocessCommandOptions,
): Promise<void> {
  const { db } = context.database;
  let query = db.selectFrom('tiktok.accounts').select(['account_id', 'name']).orderBy('account_id');
  if (options.account !== undefined) query = query.where('name', '=', options.account);
  const accounts = await query.execute();
  if (accounts.length === 0) {
    throw new ConfigError(
      'account_unknown',
      options.account !== undefined
        ? `There is no account named \`${options.account}\`; \`tiktok-sync status\` lists the accounts.`
        : 'There are no accounts yet: import or sync an export first.',
    );
  }
  const kept = context.config.archive.kept;
  for (const account of accounts) {
    const result = await reprocessAccount(
      { ...importContextFor(context.config, context.database, context.logger, context.signal), kept },
      { accountId: account.account_id, name: account.name },
    );
    report(output, account.name, result, kept.keep);
  }
}

function report(output: Output, name: string, result: ReprocessResult, keep: string | number): void {
  if (result.archives === 0) {
    output.out(
      `Account \`${name}\` has no kept archive to reprocess` +
        (keep === 'none'
          ? ' (archive.keep is `none`: set it to `all` or a number, and later imports are kept).'
          : '; archives are kept from their next import or sync on.'),
    );
    return;
  }
  const changed = Object.values(result.counts).some(
    (c) => c.inserted + c.updated + c.removed + c.restored > 0,
  );
  output.out(
    `Reprocessed ${result.archives} kept archive(s) of account \`${name}\` ` +
      `(${result.records.toLocaleString('en')} records, run ${result.runId}): ` +
      (changed ? 'what changed in the stored rows:' : 'nothing changed.'),
  );
  if (changed) {
    output.out();
    output.out(formatCounts(result.counts));
  }
  if (result.warningCount > 0) {
    output.out(
      `${result.warningCount} warning(s), kept in run ${result.runId} (tiktok-sync status --run ${result.runId}).`,
    );
  }
  output.out();
}
