import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import type { Config } from '../config.js';
import {
  deleteAccount,
  findAccountByName,
  renameAccount,
  setAccountTimezone,
  syncAccountNow,
  unknownAccount,
} from '../db/account-admin.js';
import { ConfigError } from '../errors.js';
import { removeKeptArchives } from '../ingest/kept-archives.js';
import type { Logger } from '../logger.js';
import { type CommandContext, withDatabase } from './context.js';
import type { Output } from './output.js';

export interface AccountCommandDeps {
  output: Output;
  signal: AbortSignal;
  /** The validated config and a logger (the program's `--config` applies). */
  context(): { config: Config; logger: Logger };
  /** Asks a question on the terminal; undefined when there is none to ask on. */
  prompt?: ((question: string) => Promise<string>) | undefined;
}

/** Registers `tiktok-sync account rename|delete` and `tiktok-sync sync-now`. */
export function registerAccountCommands(program: Command, deps: AccountCommandDeps): void {
  const run = (work: (context: CommandContext) => Promise<void>) => {
    const { config, logger } = deps.context();
    return withDatabase(config, logger, deps.signal, work);
  };
  const account = program.command('account').description('rename or delete an account, or set its time zone');
  account
    .command('rename')
    .description('give an account another name (its data, grant and schedule stay with it)')
    .argument('<old>', 'the account')
    .argument('<new>', 'its new name')
    .action((from: string, to: string) => run((context) => cmdAccountRename(context, deps.output, from, to)));
  account
    .command('timezone')
    .description("set the account's own time zone: the views' local days and hours are in it (default UTC)")
    .argument('<name>', 'the account')
    .argument('<zone>', 'an IANA time zone, e.g. Europe/Berlin')
    .action((name: string, zone: string) =>
      run(async (context) => {
        await setAccountTimezone(context.database.pool, name, zone);
        deps.output.out(
          `Account \`${name}\` is in time zone ${zone}: tiktok.events and tiktok.daily_activity_local count its days and hours there.`,
        );
      }),
    );
  account
    .command('delete')
    .description(
      'delete an account with all its data: rows in every schema, runs, grant, requests, schedule and kept archives',
    )
    .argument('<name>', 'the account')
    .option('-y, --yes', 'do not ask for confirmation')
    .action((name: string, options: { yes?: boolean }) =>
      run((context) =>
        cmdAccountDelete(context, deps.output, name, {
          yes: options.yes ?? false,
          prompt: deps.prompt ?? terminalPrompt(deps.output),
        }),
      ),
    );
  program
    .command('sync-now')
    .description(
      "make a running daemon sync an account at its next tick (sets the account's next due time to now)",
    )
    .requiredOption('-a, --account <name>', 'a connected account')
    .action((options: { account: string }) =>
      run((context) => cmdSyncNow(context, deps.output, options.account, Date.now())),
    );
}

export async function cmdAccountRename(
  context: CommandContext,
  output: Output,
  from: string,
  to: string,
): Promise<void> {
  const renamed = await renameAccount(context.database.pool, from, to);
  output.out(`Account \`${from}\` is now \`${to}\` (account id ${renamed.accountId}).`);
  if (Object.hasOwn(context.config.sync.accounts, from)) {
    output.out(
      `The config file's \`sync.accounts.${from}\` no longer applies to it; rename that entry to \`${to}\`.`,
    );
  }
}

export interface DeleteOptions {
  yes: boolean;
  /** Asks on the terminal; undefined when there is no terminal. */
  prompt: ((question: string) => Promise<string>) | undefined;
}

/**
 * `tiktok-sync account delete <name>`: deletes the account and all its rows in one transaction, then
 * its kept archives (`<archive.keptDir>/<account id>/`). Asks to type the name unless `--yes`.
 */
export async function cmdAccountDelete(
  context: CommandContext,
  output: Output,
  name: string,
  options: DeleteOptions,
): Promise<void> {
  const found = await findAccountByName(context.database.pool, name);
  if (!found) throw unknownAccount(name);
  await confirmByName(output, options, name, {
    doing: 'Deleting',
    done: 'deleted',
    what: `This deletes account \`${name}\` (account id ${found.accountId}) with all its data, runs, grant, requests, schedule and kept archives. It cannot be undone.`,
  });
  const deleted = await deleteAccount(context.database.pool, name, Date.now());
  const dataRows = Object.entries(deleted.rows)
    .filter(([table]) => !table.startsWith('tiktok_sync.'))
    .reduce((sum, [, n]) => sum + n, 0);
  const runs = deleted.rows['tiktok_sync.sync_runs'] ?? 0;
  const archives = deleted.rows['tiktok_sync.archives'] ?? 0;
  output.out(
    `Deleted account \`${name}\` (account id ${deleted.accountId}): ${dataRows.toLocaleString('en')} data rows, ${runs} run(s), ${archives} archive record(s), and its grant, requests and schedule.`,
  );
  const keptDir = path.join(context.config.archive.kept.dir, deleted.accountId);
  try {
    await removeKeptArchives(context.config.archive.kept.dir, deleted.accountId);
  } catch (error) {
    throw new ConfigError(
      'kept_archives_not_removed',
      `The account's rows are deleted, but its kept archives in \`${keptDir}\` could not be removed (${(error as Error).message}); delete that directory by hand.`,
    );
  }
  if (deleted.rows['tiktok_sync.data_requests']) {
    output.out(
      'A data request made at TikTok for it is not withdrawn by this; TikTok lets it expire. Its TikTok grant stays until the user removes the app (`tiktok-sync forget` revokes it).',
    );
  }
}

/**
 * Unless `--yes`, asks to type the account name before something that cannot be undone; throws
 * `confirmation_required` without a terminal, `confirmation_failed` on another answer.
 */
export async function confirmByName(
  output: Output,
  options: DeleteOptions,
  name: string,
  words: { doing: string; done: string; what: string },
): Promise<void> {
  if (options.yes) return;
  if (!options.prompt) {
    throw new ConfigError(
      'confirmation_required',
      `${words.doing} account \`${name}\` removes all its data and cannot be undone; pass --yes to confirm (there is no terminal to ask on).`,
    );
  }
  output.err(words.what);
  const answer = (await options.prompt(`Type the account name to confirm: `)).trim();
  if (answer !== name) {
    throw new ConfigError(
      'confirmation_failed',
      `The name typed (\`${answer}\`) is not \`${name}\`; nothing was ${words.done}.`,
    );
  }
}

/** `tiktok-sync sync-now --account <name>`: the account is due now; a running daemon claims it at its next tick. */
export async function cmdSyncNow(
  context: CommandContext,
  output: Output,
  name: string,
  now: number,
): Promise<void> {
  const result = await syncAccountNow(context.database.pool, name, now);
  switch (result.kind) {
    case 'scheduled':
      output.out(
        `Account \`${name}\` is due now (it was due ${result.previousDueAt.toISOString()}); a running daemon syncs it at its next tick.`,
      );
      return;
    case 'not_connected':
      throw new ConfigError(
        'account_not_connected',
        `Account \`${name}\` has no active TikTok grant, so the daemon does not sync it; connect it with \`tiktok-sync connect --account ${name}\`.`,
      );
    case 'not_scheduled':
      output.out(
        `Account \`${name}\` is connected but no daemon has scheduled it yet; a daemon schedules it due now when it starts or at its next tick.`,
      );
      return;
    case 'paused':
      throw new ConfigError(
        'account_paused',
        `Account \`${name}\` is paused in the config file (\`sync.accounts.${name}.paused\`); unpause it to sync it.`,
      );
    case 'stopped':
      throw new ConfigError(
        'account_stopped',
        `Account \`${name}\` is stopped after a failure that needs a person (\`tiktok-sync status\` says why); fix that, then start the daemon with \`--retry-stopped ${name}\`.`,
      );
    case 'complete':
      throw new ConfigError(
        'account_complete',
        `Account \`${name}\` is complete (its grant allows no further requests); connect it again with \`tiktok-sync connect --account ${name}\` to sync it.`,
      );
  }
}

/** A prompt on the terminal, when both stdin and stderr are one. */
export function terminalPrompt(output: Output): ((question: string) => Promise<string>) | undefined {
  if (!output.interactive || !process.stdin.isTTY) return undefined;
  return async (question) => {
    const readline = createInterface({ input: process.stdin, output: process.stderr });
    try {
      return await readline.question(question);
    } finally {
      readline.close();
    }
  };
}
