import { type Command, Option } from 'commander';
import type { Config } from '../config.js';
import { DAY, MINUTE } from '../duration.js';
import { ConfigError } from '../errors.js';
import { createInvite, type Invite, inviteLink, listInvites, revokeInvite, when } from '../invites/store.js';
import { formatTable } from '../table.js';
import type { AccountCommandDeps } from './account.js';
import { duration } from './arguments.js';
import { type CommandContext, withDatabase } from './context.js';
import type { Output } from './output.js';
import { checkAccountName, findAccount, tiktokDb } from './tiktok-app.js';

const DEFAULT_INVITE_EXPIRY_MS = 7 * DAY;
const MIN_EXPIRY_MS = MINUTE;
const MAX_EXPIRY_MS = 365 * DAY;
const MAX_NOTE = 500;

interface InviteCommandOptions {
  account?: string | undefined;
  /** Milliseconds until the link expires. */
  expires: number;
  note?: string | undefined;
  list?: boolean | undefined;
  /** An invite's number, or its link. */
  revoke?: string | undefined;
}

/** Checks what making an invite needs before the database is opened, so a missing setting fails at once. */
function preflightInvite(config: Config, options: InviteCommandOptions): void {
  const modes = [options.list, options.revoke !== undefined].filter(Boolean).length;
  const making = options.account !== undefined || options.note !== undefined;
  if (modes > 1 || (modes === 1 && making)) {
    throw new ConfigError(
      'invite_options',
      '`invite` makes a link (with --account, --expires, --note), or lists them (--list), or withdraws one (--revoke <number>); give one of these.',
    );
  }
  if (modes > 0) return;
  if (!config.server.publicUrl) {
    throw new ConfigError(
      'public_url_missing',
      'Invite links need server.publicUrl (config file key `server.publicUrl`, or TIKTOK_SYNC_PUBLIC_URL): the https address people reach the daemon (`tiktok-sync run`) at, with server.operatorName and server.operatorContact, which the invite page shows.',
    );
  }
  if (options.account !== undefined) checkAccountName(options.account);
  if (options.expires < MIN_EXPIRY_MS || options.expires > MAX_EXPIRY_MS) {
    throw new ConfigError('invite_expiry', '--expires must be from 1m to 365d, e.g. 7d or 12h.');
  }
  if (options.note !== undefined && (options.note.trim() === '' || options.note.length > MAX_NOTE)) {
    throw new ConfigError('invite_note', `--note must be 1 to ${MAX_NOTE} characters.`);
  }
}

/**
 * `tiktok-sync invite`: prints a single-use link `<server.publicUrl>/connect/<token>` (only the
 * token's SHA-256 is stored); `--list` shows every invite, `--revoke` withdraws one.
 */
export async function cmdInvite(
  context: CommandContext,
  output: Output,
  options: InviteCommandOptions,
  now = Date.now(),
): Promise<void> {
  const db = tiktokDb(context.database);
  if (options.list) {
    printInvites(output, await listInvites(db, now));
    return;
  }
  if (options.revoke !== undefined) {
    const invite = await revokeInvite(db, options.revoke, now);
    output.out(
      `Invite ${invite.inviteId} is withdrawn (since ${when(invite.revokedAt!)}): its link now shows that it was withdrawn.`,
    );
    return;
  }
  const { config } = context;
  const publicUrl = config.server.publicUrl!;
  const existing =
    options.account === undefined ? undefined : await findAccount(db, { name: options.account });
  const { invite, token } = await createInvite(db, {
    accountName: options.account,
    note: options.note,
    expiresInMs: options.expires,
    now,
  });
  const target =
    options.account === undefined
      ? 'a new account named after the TikTok user (or the account that user already has)'
      : `account \`${options.account}\``;
  output.out(`Invite ${invite.inviteId}, for ${target}; it expires ${when(invite.expiresAt)}:`);
  output.out(`  ${inviteLink(publicUrl, token)}`);
  output.out(
    `Send this link to the person whose TikTok data you ask for; it works once. Its page asks for ${config.tiktok.scopes.join(', ')} on behalf of ${config.server.operator?.name}.`,
  );
  if (existing?.openId) {
    output.out(
      `Account \`${existing.name}\` is connected to a TikTok user already: a consent from that user renews it, one from another user is refused.`,
    );
  }
  output.out(
    `The daemon (\`tiktok-sync run\`) serves the page: it must be reachable at ${publicUrl}, with ${config.server.redirectUri} registered as a redirect URI of the TikTok app. \`tiktok-sync invite --revoke ${invite.inviteId}\` withdraws the link.`,
  );
}

function printInvites(output: Output, invites: readonly Invite[]): void {
  if (invites.length === 0) {
    output.out('No invites yet: `tiktok-sync invite` makes one.');
    return;
  }
  output.out(
    formatTable(
      ['invite', 'state', 'for account', 'note', 'created', 'expires', 'used', 'connected account'],
      invites.map((invite) => [
        invite.inviteId,
        invite.state,
        invite.accountName ?? '(named after the user)',
        invite.note ?? '',
        when(invite.createdAt),
        when(invite.expiresAt),
        invite.usedAt ? when(invite.usedAt) : invite.revokedAt ? `withdrawn ${when(invite.revokedAt)}` : '',
        invite.account?.name ?? '',
      ]),
    ),
  );
}

/** Registers `tiktok-sync invite`. */
export function registerInviteCommand(program: Command, deps: AccountCommandDeps): void {
  program
    .command('invite')
    .description(
      'make a single-use link <server.publicUrl>/connect/<token> through which a TikTok user connects their account; or list or withdraw links',
    )
    .option('-a, --account <name>', 'the account the consent goes to (default: named after the TikTok user)')
    .addOption(
      new Option('--expires <duration>', 'how long the link works, e.g. 12h, 7d (1m to 365d)')
        .argParser(duration)
        .default(DEFAULT_INVITE_EXPIRY_MS, '7d'),
    )
    .option('--note <text>', 'a note for yourself, shown by --list (never to the person invited)')
    .option('--list', 'list the invites: state, account, note, expiry, use')
    .option('--revoke <invite>', 'withdraw an invite, by its number (as --list shows) or its link')
    .addHelpText(
      'after',
      [
        '',
        'The link opens a page served by the daemon (`tiktok-sync run`) at server.publicUrl:',
        'what will be shared, who asks (server.operatorName, server.operatorContact) and a',
        "button to TikTok's consent page. Only the token's SHA-256 is stored. Register",
        '`tiktok-sync run --print-redirect-uri` with the TikTok app.',
      ].join('\n'),
    )
    .action(
      async (commandOptions: {
        account?: string;
        expires: number;
        note?: string;
        list?: boolean;
        revoke?: string;
      }) => {
        const { config, logger } = deps.context();
        preflightInvite(config, commandOptions);
        await withDatabase(config, logger, deps.signal, (ctx) => cmdInvite(ctx, deps.output, commandOptions));
      },
    );
}
