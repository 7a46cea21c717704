import { type Kysely, sql } from 'kysely';

/**
 * Tombstones of forgotten accounts (`tiktok-sync forget`, or `authorization.removed` under the
 * `forget` policy). Everything of the account is deleted; what stays is only what keeps it from
 * coming back: its id, a SHA-256 of the TikTok user's open_id (so that a webhook or a stored grant
 * for that user is told apart without keeping the open_id itself), and when. The account's name is
 * not kept, not even hashed: it is often the person's own user name.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table tiktok_sync.forgotten_accounts (
      account_id bigint primary key,
      open_id_hash text check (open_id_hash ~ '^[0-9a-f]{64}$'),
      forgotten_at timestamptz not null,
      reason text not null check (reason in ('requested', 'authorization_removed')),
      revoke text not null
        check (revoke in ('revoked', 'failed', 'not_connected', 'already_ended', 'removed_by_tiktok')),
      reconsented_at timestamptz
    );
    create index forgotten_accounts_open_id_hash on tiktok_sync.forgotten_accounts (open_id_hash)
      where open_id_hash is not null;
    comment on table tiktok_sync.forgotten_accounts is 'One row per forgotten account: its rows, files and tokens are deleted; this row keeps a webhook or a stored grant of that TikTok user from bringing the data back. A new consent (tiktok-sync connect) starts a new account.';
    comment on column tiktok_sync.forgotten_accounts.account_id is 'The id the account had (tiktok.accounts.account_id); ids are never given out again.';
    comment on column tiktok_sync.forgotten_accounts.open_id_hash is 'SHA-256 (hex) of the TikTok open_id the account was connected as; null for an account that was never connected (imports only).';
    comment on column tiktok_sync.forgotten_accounts.forgotten_at is 'When the account was forgotten.';
    comment on column tiktok_sync.forgotten_accounts.reason is 'requested: tiktok-sync forget; authorization_removed: TikTok''s authorization.removed webhook under sync.onAuthorizationRemoved = forget.';
    comment on column tiktok_sync.forgotten_accounts.revoke is 'What became of the grant at TikTok: revoked (TikTok confirmed), failed (not revoked: network or TikTok error; its tokens are deleted here), not_connected (no grant), already_ended (TikTok no longer honoured it), removed_by_tiktok (TikTok removed it first).';
    comment on column tiktok_sync.forgotten_accounts.reconsented_at is 'When the same TikTok user last consented again (a new account); events created before it belong to the forgotten grant and are ignored.';
  `.execute(db);
}
