import { access } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { findAccountByName, unknownAccount } from '../db/account-admin.js';
import { ConfigError } from '../errors.js';
import { type ForgetResult, forgetAccount } from '../forget/forget-account.js';
import { createServices, forgetContextFor } from '../services.js';
import { type AccountCommandDeps, confirmByName, type DeleteOptions, terminalPrompt } from './account.js';
import { type CommandContext, withDatabase } from './context.js';
import type { Output } from './output.js';

/** Registers `tiktok-sync forget --account <name> [--yes]`. */
export function registerForgetCommand(program: Command, deps: AccountCommandDeps): void {
  program
    .command('forget')
    .description(
      "forget a TikTok user: revoke the grant at TikTok, cancel the request in flight, delete the account's rows in every schema, its tokens, kept archives, downloads and quarantined copies, and leave a tombstone",
    )
    .requiredOption('-a, --account <name>', 'the account')
    .option('-y, --yes', 'do not ask for confirmation')
    .action((options: { account: string; yes?: boolean }) => {
      const { config, logger } = deps.context();
      return withDatabase(config, logger, deps.signal, (context) =>
        cmdForget(context, deps.output, options.account, {
          yes: options.yes ?? false,
          prompt: deps.prompt ?? terminalPrompt(deps.output),
        }),
      );
    });
}

/**
 * `tiktok-sync forget --account <name>` (src/forget/forget-account.ts): at TikTok, then one
 * transaction, then the files. A cancel or revoke TikTok refuses is a warning, not a failure: the
 * account is forgotten here all the same. Files that could not be removed fail the command, naming them.
 */
export async function cmdForget(
  context: CommandContext,
  output: Output,
  name: string,
  options: DeleteOptions,
): Promise<void> {
  const { config, database, logger } = context;
  const found = await findAccountByName(database.pool, name);
  if (!found) throw unknownAccount(name);
  await confirmByName(output, options, name, {
    doing: 'Forgetting',
    done: 'forgotten',
    what: `This forgets account \`${name}\` (account id ${found.accountId}): its TikTok grant is revoked, its request in flight cancelled, and all its data, runs, tokens, requests, schedule, kept archives, downloads and quarantined copies deleted. It cannot be undone.`,
  });
  const result = await forgetAccount(
    forgetContextFor(config, database, logger, {
      tiktok: async () => (await createServices(config, database, logger)).forgetTikTok,
    }),
    { accountId: found.accountId, reason: 'requested', revoke: true },
  );
  if (!result) {
    throw new ConfigError(
      'account_unknown',
      `Account \`${name}\` was forgotten or deleted by another process meanwhile; nothing more to do.`,
    );
  }
  printAtTikTok(output, result);
  const count = (table: string) => result.rows[table] ?? 0;
  const dataRows = Object.entries(result.rows)
    .filter(([table]) => !table.startsWith('tiktok_sync.'))
    .reduce((sum, [, n]) => sum + n, 0);
  output.out(
    `Forgot account \`${name}\` (account id ${result.accountId}): ${dataRows.toLocaleString('en')} data rows, ${count('tiktok_sync.sync_runs')} run(s), ${count('tiktok_sync.archives')} archive record(s), ${count('tiktok_sync.data_requests')} request(s), ${count('tiktok_sync.webhook_events')} webhook event(s), its tokens and schedule; ${result.files.kept} kept archive(s), ${result.files.downloads} download(s) and ${result.files.quarantine} quarantined file(s).`,
  );
  output.out(
    'A tombstone keeps only the account id, a SHA-256 of its TikTok open_id and the time: webhooks for that TikTok user store nothing, and connecting the user again starts a new account.',
  );
  for (const report of ['report.html', 'report-demo.html'].map((file) => path.join(config.dataDir, file))) {
    if (
      await access(report).then(
        () => true,
        () => false,
      )
    ) {
      output.err(
        `note: ${report} was written before and may show this account's data; write it again (\`tiktok-sync report\`) or delete it.`,
      );
    }
  }
  if (result.leftovers.length > 0) {
    throw new ConfigError(
      'forget_files_left',
      `The account is forgotten in the database, but these files could not be removed; delete them by hand: ${result.leftovers.map((left) => `${left.path} (${left.error})`).join('; ')}.`,
    );
  }
}

function printAtTikTok(output: Output, result: ForgetResult): void {
  if (result.cancel) {
    if (result.cancel.error) {
      output.err(
        `warning: request ${result.cancel.requestId} was not cancelled at TikTok (${result.cancel.error}); its record is deleted here, and TikTok lets it expire.`,
      );
    } else {
      output.out(`Cancelled request ${result.cancel.requestId} at TikTok.`);
    }
  }
  switch (result.revoke.outcome) {
    case 'revoked':
      output.out("Revoked the account's grant at TikTok.");
      return;
    case 'already_ended':
      output.out('TikTok no longer honoured its grant (revoked or expired before): nothing to revoke.');
      return;
    case 'not_connected':
      output.out('The account was never connected to TikTok (imports only): nothing to revoke.');
      return;
    case 'removed_by_tiktok':
      return;
    case 'failed':
      output.err(
        `warning: the grant at TikTok was NOT revoked: ${result.revoke.message ?? 'no reason given'} Its tokens are deleted here, so this tool can no longer use it; the user can remove the app in TikTok's settings, or it ends when its refresh token expires (365 days after it was issued).`,
      );
  }
}
