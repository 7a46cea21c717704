import type { ColumnType, Generated } from 'kysely';
import type { TikTokDatabase } from '../tiktok/db-types.js';

type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type Timestamp = ColumnType<Date, Date | string, Date | string>;
/** bigint: node-postgres returns it as a string. */
type BigintCount = ColumnType<string, string | number | undefined, string | number>;

/** How a claim ended, as recorded in `last_outcome`. */
export type ClaimOutcome =
  | 'imported'
  | 'waiting'
  | 'cancelled'
  | 'retrying'
  | 'stopped'
  | 'needs_consent'
  | 'complete'
  | 'abandoned';

/** Kysely types of migration 0004. */
export interface SyncScheduleTable {
  account_id: string;
  next_due_at: Timestamp;
  slot_at: Timestamp;
  planned_interval: ColumnType<string | null, string | null | undefined, string | null>;
  paused: Generated<boolean>;
  complete: Generated<boolean>;
  completed_at: NullableTimestamp;
  stopped_at: NullableTimestamp;
  stop_code: string | null;
  stop_reason: string | null;
  lease_owner: string | null;
  lease_epoch: BigintCount;
  lease_expires_at: NullableTimestamp;
  claimed_at: NullableTimestamp;
  heartbeat_at: NullableTimestamp;
  claim_count: BigintCount;
  attempts: Generated<number>;
  backoff_until: NullableTimestamp;
  last_outcome: ClaimOutcome | null;
  last_outcome_at: NullableTimestamp;
  last_success_at: NullableTimestamp;
  last_success_run_id: string | null;
  last_success_request_id: string | null;
  sync_count: BigintCount;
  last_error_code: string | null;
  last_error_message: string | null;
  last_error_at: NullableTimestamp;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export type SchedulerDatabase = TikTokDatabase & { 'tiktok_sync.sync_schedule': SyncScheduleTable };
