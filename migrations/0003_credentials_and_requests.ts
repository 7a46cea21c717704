import { type Kysely, sql } from 'kysely';

/**
 * What talking to TikTok needs to remember: each account's OAuth grant (tokens encrypted), the data
 * requests made through the Data Portability API, and the webhook events received (for de-duplication).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table tiktok_sync.credentials (
      account_id bigint primary key references tiktok_sync.accounts (account_id),
      open_id text not null,
      status text not null check (status in ('active', 'needs_consent', 'revoked')),
      status_reason text,
      status_changed_at timestamptz not null default now(),
      scopes text[] not null,
      consumed_scopes text[] not null default '{}',
      key_fingerprint text,
      access_token_ciphertext bytea,
      access_token_nonce bytea,
      refresh_token_ciphertext bytea,
      refresh_token_nonce bytea,
      access_token_expires_at timestamptz,
      refresh_token_expires_at timestamptz,
      granted_at timestamptz not null,
      refreshed_at timestamptz,
      updated_at timestamptz not null default now(),
      check ((access_token_ciphertext is null) = (access_token_nonce is null)),
      check ((refresh_token_ciphertext is null) = (refresh_token_nonce is null)),
      check (status <> 'active' or (access_token_ciphertext is not null and refresh_token_ciphertext is not null))
    );
    comment on table tiktok_sync.credentials is 'The TikTok OAuth grant of each connected account. Tokens are encrypted with AES-256-GCM under TIKTOK_SYNC_ENCRYPTION_KEY; never grant this table to analysts.';
    comment on column tiktok_sync.credentials.account_id is 'The account (tiktok_sync.accounts.account_id).';
    comment on column tiktok_sync.credentials.open_id is 'TikTok''s open_id of the user for our app, from the token reply.';
    comment on column tiktok_sync.credentials.status is 'active: tokens usable; needs_consent: the grant stopped working (invalid_grant, token invalid after refresh, scope missing) and the user must connect again; revoked: disconnected on purpose (by us, the user or TikTok).';
    comment on column tiktok_sync.credentials.status_reason is 'Why the status is not active, in words an operator can act on.';
    comment on column tiktok_sync.credentials.status_changed_at is 'When the status last changed.';
    comment on column tiktok_sync.credentials.scopes is 'Scopes the user granted, as TikTok listed them in the token reply.';
    comment on column tiktok_sync.credentials.consumed_scopes is 'portability.*.single scopes already used by a data request (each allows exactly one).';
    comment on column tiktok_sync.credentials.key_fingerprint is 'First 16 hex digits of SHA-256 of the encryption key, to tell a wrong key from corrupt data.';
    comment on column tiktok_sync.credentials.access_token_ciphertext is 'The access token, AES-256-GCM ciphertext followed by the 16-byte tag; null once revoked.';
    comment on column tiktok_sync.credentials.access_token_nonce is 'The 12-byte GCM nonce of access_token_ciphertext.';
    comment on column tiktok_sync.credentials.refresh_token_ciphertext is 'The refresh token, AES-256-GCM ciphertext followed by the 16-byte tag; replaced whenever TikTok rotates it.';
    comment on column tiktok_sync.credentials.refresh_token_nonce is 'The 12-byte GCM nonce of refresh_token_ciphertext.';
    comment on column tiktok_sync.credentials.access_token_expires_at is 'When the access token expires (24 h after issue); it is refreshed before then.';
    comment on column tiktok_sync.credentials.refresh_token_expires_at is 'When the refresh token expires (365 days after issue); after that the user must connect again.';
    comment on column tiktok_sync.credentials.granted_at is 'When the user last completed the consent flow.';
    comment on column tiktok_sync.credentials.refreshed_at is 'When the access token was last refreshed.';
    comment on column tiktok_sync.credentials.updated_at is 'When this row last changed.';

    create table tiktok_sync.data_requests (
      account_id bigint not null references tiktok_sync.accounts (account_id),
      request_id text not null check (request_id ~ '^(0|[1-9][0-9]{0,19})$'),
      status text not null check (status in ('pending', 'ready', 'downloaded', 'imported', 'expired', 'cancelled', 'failed')),
      remote_status text,
      data_format text not null check (data_format in ('json', 'text')),
      categories text[] not null,
      scopes_consumed text[] not null default '{}',
      added_at timestamptz not null,
      apply_time timestamptz,
      collect_time timestamptz,
      last_checked_at timestamptz,
      check_count integer not null default 0,
      ready_at timestamptz,
      downloaded_at timestamptz,
      archive_bytes bigint,
      archive_sha256 bytea,
      imported_at timestamptz,
      run_id bigint,
      archive_id bigint,
      finished_at timestamptz,
      error_code text,
      error_message text,
      primary key (account_id, request_id)
    );
    create unique index data_requests_one_in_flight on tiktok_sync.data_requests (account_id) where finished_at is null;
    create index data_requests_by_request_id on tiktok_sync.data_requests (request_id);
    comment on table tiktok_sync.data_requests is 'Every data request made through the Data Portability API (Add), and how far it got: checked, ready, downloaded, imported, or expired, cancelled, failed.';
    comment on column tiktok_sync.data_requests.account_id is 'The account the request is for.';
    comment on column tiktok_sync.data_requests.request_id is 'TikTok''s request id: an int64 kept exactly as decimal text (it exceeds 2^53).';
    comment on column tiktok_sync.data_requests.status is 'Our view: pending (TikTok is collecting), ready (TikTok says downloading), downloaded, imported, expired, cancelled or failed.';
    comment on column tiktok_sync.data_requests.remote_status is 'The status TikTok''s Check last reported: pending, downloading (= ready), expired or cancelled.';
    comment on column tiktok_sync.data_requests.data_format is 'json or text, as requested.';
    comment on column tiktok_sync.data_requests.categories is 'category_selection_list sent with Add: all_data, or some of video, profile, activity, direct_message.';
    comment on column tiktok_sync.data_requests.scopes_consumed is 'portability.*.single scopes this request used up.';
    comment on column tiktok_sync.data_requests.added_at is 'When Add returned the request id.';
    comment on column tiktok_sync.data_requests.apply_time is 'TikTok''s apply_time: when it registered the request.';
    comment on column tiktok_sync.data_requests.collect_time is 'TikTok''s collect_time: when it started collecting the data.';
    comment on column tiktok_sync.data_requests.last_checked_at is 'When Check was last called for it.';
    comment on column tiktok_sync.data_requests.check_count is 'How many times Check was called for it.';
    comment on column tiktok_sync.data_requests.ready_at is 'When we learned it was ready (Check said downloading, or the webhook arrived).';
    comment on column tiktok_sync.data_requests.downloaded_at is 'When the archive was last downloaded completely.';
    comment on column tiktok_sync.data_requests.archive_bytes is 'Size of the downloaded archive in bytes.';
    comment on column tiktok_sync.data_requests.archive_sha256 is 'SHA-256 of the downloaded archive (tiktok_sync.archives.sha256).';
    comment on column tiktok_sync.data_requests.imported_at is 'When the archive was imported.';
    comment on column tiktok_sync.data_requests.run_id is 'The sync run that imported it (tiktok_sync.sync_runs.run_id).';
    comment on column tiktok_sync.data_requests.archive_id is 'The archive imported (tiktok_sync.archives.archive_id).';
    comment on column tiktok_sync.data_requests.finished_at is 'When it stopped being in flight (imported, expired, cancelled or failed); at most one unfinished request per account.';
    comment on column tiktok_sync.data_requests.error_code is 'Machine-readable reason of the last failure with this request.';
    comment on column tiktok_sync.data_requests.error_message is 'What went wrong last and what to do.';

    create table tiktok_sync.webhook_events (
      event_id bigint generated always as identity primary key,
      dedupe_key text not null unique,
      event text not null,
      account_id bigint references tiktok_sync.accounts (account_id),
      request_id text,
      user_openid text,
      create_time timestamptz,
      content text not null,
      received_at timestamptz not null default now(),
      last_received_at timestamptz not null default now(),
      delivery_count integer not null default 1,
      processed_at timestamptz
    );
    create index webhook_events_request on tiktok_sync.webhook_events (request_id) where request_id is not null;
    comment on table tiktok_sync.webhook_events is 'Verified webhook events from TikTok. Delivery is at least once: a repeat finds its row by dedupe_key and only bumps delivery_count.';
    comment on column tiktok_sync.webhook_events.event_id is 'Our id of the event.';
    comment on column tiktok_sync.webhook_events.dedupe_key is 'event + request_id for portability.download.ready; otherwise event + SHA-256 of user_openid, create_time and content.';
    comment on column tiktok_sync.webhook_events.event is 'TikTok''s event name, e.g. portability.download.ready or authorization.removed.';
    comment on column tiktok_sync.webhook_events.account_id is 'The account it concerns, when known (by request id or open_id).';
    comment on column tiktok_sync.webhook_events.request_id is 'The data request it concerns (int64 as decimal text), for portability events.';
    comment on column tiktok_sync.webhook_events.user_openid is 'The user''s open_id, when the event carries one.';
    comment on column tiktok_sync.webhook_events.create_time is 'TikTok''s create_time of the event.';
    comment on column tiktok_sync.webhook_events.content is 'The event''s content field as received (a JSON document in a string; int64s intact).';
    comment on column tiktok_sync.webhook_events.received_at is 'When it first arrived.';
    comment on column tiktok_sync.webhook_events.last_received_at is 'When it last arrived (TikTok retries until it gets a 200).';
    comment on column tiktok_sync.webhook_events.delivery_count is 'How many times it arrived.';
    comment on column tiktok_sync.webhook_events.processed_at is 'When it was acted on; null while waiting.';
  `.execute(db);
}
