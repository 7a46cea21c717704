import { type Kysely, sql } from 'kysely';

/**
 * Invite links and the web consent flow the daemon serves (README, "Many users: invite links"):
 *
 * - `invites`: one row per link `<server.publicUrl>/connect/<token>`. Only the SHA-256 of the token
 *   is kept; a link works once, until it expires or is revoked.
 * - `oauth_states`: one row per consent started from an invite page: the SHA-256 of the `state`
 *   sent to TikTok, the PKCE verifier encrypted like the tokens, and the redirect URI and scopes
 *   asked for, so that whichever daemon receives TikTok's callback can finish it, once.
 * - `credentials.connected_via`: how the account's grant was made (`connect` or an invite).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table tiktok_sync.invites (
      invite_id bigint generated always as identity primary key,
      token_sha256 bytea not null unique check (length(token_sha256) = 32),
      account_name text,
      note text,
      created_at timestamptz not null,
      expires_at timestamptz not null,
      used_at timestamptz,
      revoked_at timestamptz,
      account_id bigint references tiktok.accounts (account_id) on delete set null,
      check (expires_at > created_at),
      check (used_at is null or revoked_at is null)
    );
    comment on table tiktok_sync.invites is 'Invite links (tiktok-sync invite): a link <server.publicUrl>/connect/<token> lets one TikTok user consent once, until it expires or is revoked.';
    comment on column tiktok_sync.invites.invite_id is 'Number of the invite, as invite --list and --revoke name it.';
    comment on column tiktok_sync.invites.token_sha256 is 'SHA-256 of the link''s token; the token itself is never stored.';
    comment on column tiktok_sync.invites.account_name is 'The account the consent goes to (--account); null: named after the TikTok user.';
    comment on column tiktok_sync.invites.note is 'The operator''s note (--note); never shown to the person invited.';
    comment on column tiktok_sync.invites.created_at is 'When the invite was made.';
    comment on column tiktok_sync.invites.expires_at is 'After this, the link shows that it expired.';
    comment on column tiktok_sync.invites.used_at is 'When a consent through the link was completed; the link then shows that it was used.';
    comment on column tiktok_sync.invites.revoked_at is 'When the operator withdrew the link (invite --revoke).';
    comment on column tiktok_sync.invites.account_id is 'The account the completed consent created or renewed.';

    create table tiktok_sync.oauth_states (
      state_sha256 bytea primary key check (length(state_sha256) = 32),
      invite_id bigint not null references tiktok_sync.invites (invite_id) on delete cascade,
      redirect_uri text not null,
      scopes text[] not null,
      verifier_ciphertext bytea not null,
      verifier_nonce bytea not null,
      key_fingerprint text not null,
      started_by text not null,
      created_at timestamptz not null,
      expires_at timestamptz not null,
      used_at timestamptz,
      used_by text,
      check (expires_at > created_at)
    );
    create index oauth_states_invite on tiktok_sync.oauth_states (invite_id);
    create index oauth_states_expires_at on tiktok_sync.oauth_states (expires_at);
    comment on table tiktok_sync.oauth_states is 'Consents started from an invite page and not yet answered: TikTok''s callback must bring the state back before it expires, once, to any daemon.';
    comment on column tiktok_sync.oauth_states.state_sha256 is 'SHA-256 of the state sent to TikTok; the state itself is never stored.';
    comment on column tiktok_sync.oauth_states.invite_id is 'The invite whose page started the consent.';
    comment on column tiktok_sync.oauth_states.redirect_uri is 'The redirect URI sent to TikTok; the code exchange must send the same.';
    comment on column tiktok_sync.oauth_states.scopes is 'The scopes asked for; a consent that grants fewer stores nothing.';
    comment on column tiktok_sync.oauth_states.verifier_ciphertext is 'The PKCE code verifier, AES-256-GCM under TIKTOK_SYNC_ENCRYPTION_KEY, followed by the 16-byte tag.';
    comment on column tiktok_sync.oauth_states.verifier_nonce is 'The 12-byte GCM nonce of verifier_ciphertext.';
    comment on column tiktok_sync.oauth_states.key_fingerprint is 'First 16 hex digits of SHA-256 of the encryption key.';
    comment on column tiktok_sync.oauth_states.started_by is 'The daemon that served the invite page (sync.owner).';
    comment on column tiktok_sync.oauth_states.created_at is 'When the person left the invite page for TikTok.';
    comment on column tiktok_sync.oauth_states.expires_at is 'A callback after this is refused.';
    comment on column tiktok_sync.oauth_states.used_at is 'When a callback brought the state back; a second one is refused as a replay.';
    comment on column tiktok_sync.oauth_states.used_by is 'The daemon that served that callback.';

    alter table tiktok_sync.credentials
      add column connected_via text not null default 'connect' check (connected_via in ('connect', 'invite'));
    comment on column tiktok_sync.credentials.connected_via is 'How the grant was last made: connect (the command, on the operator''s machine) or invite (a link the user opened).';
  `.execute(db);
}
