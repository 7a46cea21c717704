import type { ColumnType, Generated } from 'kysely';
import type { Database } from '../db/schema.js';

/** Kysely types of the tables of migrations 0003 and 0017 (to be merged into `src/db/schema.ts`). */
export type TikTokTables = {
  'tiktok_sync.credentials': CredentialsTable;
  'tiktok_sync.data_requests': DataRequestsTable;
  'tiktok_sync.webhook_events': WebhookEventsTable;
  'tiktok_sync.invites': InvitesTable;
  'tiktok_sync.oauth_states': OAuthStatesTable;
};

/** The application's tables plus these; what the TikTok modules take as `Kysely<TikTokDatabase>`. */
export type TikTokDatabase = Database & TikTokTables;

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export type CredentialStatus = 'active' | 'needs_consent' | 'revoked';

/** How an account's grant was made: `tiktok-sync connect`, or an invite link the user opened. */
export type ConnectedVia = 'connect' | 'invite';

export interface CredentialsTable {
  account_id: string;
  open_id: string;
  status: CredentialStatus;
  status_reason: string | null;
  status_changed_at: Generated<Date>;
  scopes: string[];
  consumed_scopes: Generated<string[]>;
  key_fingerprint: string | null;
  access_token_ciphertext: Buffer | null;
  access_token_nonce: Buffer | null;
  refresh_token_ciphertext: Buffer | null;
  refresh_token_nonce: Buffer | null;
  access_token_expires_at: NullableTimestamp;
  refresh_token_expires_at: NullableTimestamp;
  granted_at: Timestamp;
  refreshed_at: NullableTimestamp;
  updated_at: Generated<Date>;
  connected_via: Generated<ConnectedVia>;
}

export type DataRequestState =
  | 'pending'
  | 'ready'
  | 'downloaded'
  | 'imported'
  | 'expired'
  | 'cancelled'
  | 'failed';

export interface DataRequestsTable {
  account_id: string;
  /** int64 as decimal text. */
  request_id: string;
  status: DataRequestState;
  remote_status: string | null;
  data_format: 'json' | 'text';
  categories: string[];
  scopes_consumed: Generated<string[]>;
  added_at: Timestamp;
  apply_time: NullableTimestamp;
  collect_time: NullableTimestamp;
  last_checked_at: NullableTimestamp;
  check_count: Generated<number>;
  ready_at: NullableTimestamp;
  downloaded_at: NullableTimestamp;
  /** bigint: node-postgres returns it as a string. */
  archive_bytes: ColumnType<string | null, string | number | null | undefined, string | number | null>;
  archive_sha256: Buffer | null;
  imported_at: NullableTimestamp;
  run_id: string | null;
  archive_id: string | null;
  finished_at: NullableTimestamp;
  error_code: string | null;
  error_message: string | null;
}

export interface WebhookEventsTable {
  event_id: ColumnType<string, never, never>;
  dedupe_key: string;
  event: string;
  account_id: string | null;
  request_id: string | null;
  user_openid: string | null;
  create_time: NullableTimestamp;
  content: string;
  received_at: Generated<Date>;
  last_received_at: Generated<Date>;
  delivery_count: Generated<number>;
  processed_at: NullableTimestamp;
}

/** Migration 0017: invite links (only the token's SHA-256 is kept). */
export interface InvitesTable {
  invite_id: ColumnType<string, never, never>;
  token_sha256: Buffer;
  account_name: string | null;
  note: string | null;
  created_at: Timestamp;
  expires_at: Timestamp;
  used_at: NullableTimestamp;
  revoked_at: NullableTimestamp;
  account_id: ColumnType<string | null, string | null | undefined, string | null>;
}

/** Migration 0017: consents started from an invite page, until TikTok's callback uses them. */
export interface OAuthStatesTable {
  state_sha256: Buffer;
  invite_id: string;
  redirect_uri: string;
  scopes: string[];
  verifier_ciphertext: Buffer;
  verifier_nonce: Buffer;
  key_fingerprint: string;
  started_by: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  used_at: NullableTimestamp;
  used_by: ColumnType<string | null, string | null | undefined, string | null>;
}
