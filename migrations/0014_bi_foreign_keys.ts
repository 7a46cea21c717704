import { type Kysely, sql } from 'kysely';

/**
 * Joins a BI tool can discover: every join an analyst needs is a declared foreign key between
 * objects the analyst role can read.
 *
 * - The accounts table moves into schema `tiktok` (it holds no secret: the grants are in
 *   `tiktok_sync.credentials`), so the data tables' foreign keys point at a table analysts read.
 *   `tiktok_sync.accounts` stays as a view of it for queries written before.
 * - `dm_conversations.conversation_id` and `live_sessions.session_id` are surrogate keys computed
 *   from the natural key (account, kind, key columns, occurrence): the same record always has the same id,
 *   whichever import wrote it, so nothing is looked up or renumbered. `dm_messages.conversation_id`
 *   and `live_comments.session_id` compute the id of their conversation's (session's) first
 *   occurrence from their own columns. The foreign keys are deferred to the end of the import's
 *   transaction, which writes conversations and sessions before their messages and comments.
 *
 * The ids use the same exact hash as the merge's record keys (src/ingest/tables.ts,
 * `hashExpression`): each field length-prefixed, null told from empty. They are computed from the
 * typed columns, whose text the parser writes in one canonical form, so equal keys give equal ids.
 */
const key = (...fields: string[]) =>
  `md5(${fields.map((f) => `coalesce(length(${f})::text || ':' || ${f}, '-')`).join(` || ',' || `)})::uuid`;

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop view tiktok.accounts;
    alter table tiktok_sync.accounts set schema tiktok;
    comment on table tiktok.accounts is 'One row per TikTok account whose data is kept; every data table refers to it (account_id). Its grant is in tiktok_sync.credentials, not here.';
    comment on column tiktok.accounts.account_id is 'Our id of the account; every data table carries it.';
    comment on column tiktok.accounts.name is 'The name the operator gave the account (--account).';
    comment on column tiktok.accounts.open_id is 'TikTok''s open_id of the user for our app, once the account is connected through OAuth.';
    comment on column tiktok.accounts.created_at is 'When the account was first added.';
    create view tiktok_sync.accounts as select * from tiktok.accounts;
    comment on view tiktok_sync.accounts is 'The accounts (tiktok.accounts), for queries written before the table moved there.';
    comment on column tiktok_sync.accounts.account_id is 'See tiktok.accounts.account_id.';
    comment on column tiktok_sync.accounts.name is 'See tiktok.accounts.name.';
    comment on column tiktok_sync.accounts.open_id is 'See tiktok.accounts.open_id.';
    comment on column tiktok_sync.accounts.created_at is 'See tiktok.accounts.created_at.';
    comment on column tiktok_sync.accounts.timezone is 'See tiktok.accounts.timezone.';

    alter table tiktok.dm_conversations
      add column conversation_id uuid not null
        generated always as (${sql.raw(key('account_id::text', 'kind', 'conversation', 'occurrence::text'))}) stored;
    alter table tiktok.dm_conversations add constraint dm_conversations_conversation_id_key unique (conversation_id);
    comment on column tiktok.dm_conversations.conversation_id is 'Surrogate id of the conversation (from its account, key and occurrence); dm_messages.conversation_id refers to it.';
    alter table tiktok.dm_messages
      add column conversation_id uuid
        generated always as (
          case when conversation is null then null
          else ${sql.raw(key('account_id::text', 'kind', 'conversation', "'1'"))} end
        ) stored;
    create index dm_messages_conversation_id_idx on tiktok.dm_messages (conversation_id);
    comment on column tiktok.dm_messages.conversation_id is 'The conversation (tiktok.dm_conversations.conversation_id) the message belongs to.';
    alter table tiktok.dm_messages add constraint dm_messages_conversation_fk
      foreign key (conversation_id) references tiktok.dm_conversations (conversation_id)
      deferrable initially deferred not valid;

    alter table tiktok.live_sessions
      add column session_id uuid not null
        generated always as (${sql.raw(key('account_id::text', 'kind', 'room_id::text', "extract(epoch from (started_at at time zone 'UTC'))::text", 'occurrence::text'))}) stored;
    alter table tiktok.live_sessions add constraint live_sessions_session_id_key unique (session_id);
    comment on column tiktok.live_sessions.session_id is 'Surrogate id of the LIVE session (from its account, key and occurrence); live_comments.session_id refers to it.';
    alter table tiktok.live_comments add column session_started_at timestamptz;
    comment on column tiktok.live_comments.session_started_at is 'When the watched LIVE session the comment was written in started (its live_sessions.started_at); null for comments stored before this was recorded.';
    alter table tiktok.live_comments
      add column session_id uuid
        generated always as (
          case when session_started_at is null then null
          else ${sql.raw(key('account_id::text', "'watch_live'", 'room_id::text', "extract(epoch from (session_started_at at time zone 'UTC'))::text", "'1'"))} end
        ) stored;
    create index live_comments_session_id_idx on tiktok.live_comments (session_id);
    comment on column tiktok.live_comments.session_id is 'The watched LIVE session (tiktok.live_sessions.session_id) the comment was written in.';
    alter table tiktok.live_comments add constraint live_comments_session_fk
      foreign key (session_id) references tiktok.live_sessions (session_id)
      deferrable initially deferred not valid;
  `.execute(db);
  // Rows stored before are checked too; a database holding one that breaks a link keeps the constraint
  // for new rows and says so, rather than refusing to start.
  for (const [table, constraint] of [
    ['tiktok.dm_messages', 'dm_messages_conversation_fk'],
    ['tiktok.live_comments', 'live_comments_session_fk'],
  ] as const) {
    await sql`
      do $$ begin
        alter table ${sql.raw(table)} validate constraint ${sql.raw(constraint)};
      exception when foreign_key_violation then
        raise warning '% has rows whose %: they stay, and new rows are checked', ${sql.lit(table)}, ${sql.lit(`${constraint} target is missing`)};
      end $$;
    `.execute(db);
  }
}
