/**
 * What a typical user would write: read the export's JSON member whole, `JSON.parse` it, walk the
 * 2025 layout for the main sections, and `INSERT … ON CONFLICT DO NOTHING` 1,000 rows at a time
 * through kysely.
 *
 * The tables are equivalent to ours for those sections: the account and the same data columns with
 * the same types (the video id taken from the link, as users want it), with one unique constraint on
 * the natural key. No bookkeeping columns, no `extra`, no foreign key, no secondary index, no merge
 * semantics (removals, changes, identical records within an export are not handled).
 */
import { Kysely, PostgresDialect } from 'kysely';
import type pg from 'pg';
import yauzl from 'yauzl';

export type Row = Record<string, string | null>;
type NaiveDatabase = Record<string, Row>;

const DDL = `
  create schema naive;
  create table naive.watch_history (account_id bigint not null, watched_at timestamptz not null,
    video_id bigint, link text, title text, unique (account_id, watched_at, link));
  create table naive.likes (account_id bigint not null, liked_at timestamptz not null, video_id bigint,
    link text, unique (account_id, liked_at, link));
  create table naive.favorite_videos (account_id bigint not null, favorited_at timestamptz,
    item_id bigint, link text, unique (account_id, link));
  create table naive.searches (account_id bigint not null, searched_at timestamptz not null, term text,
    unique (account_id, searched_at, term));
  create table naive.shares (account_id bigint not null, shared_at timestamptz not null,
    shared_content text, link text, method text, video_id bigint,
    unique (account_id, shared_at, shared_content, link, method));
  create table naive.comments (account_id bigint not null, commented_at timestamptz not null,
    comment text, photo text, url text, unique (account_id, commented_at, comment, url));
  create table naive.followers (account_id bigint not null, username text not null,
    followed_at timestamptz, unique (account_id, username));
  create table naive.following (account_id bigint not null, username text not null,
    followed_at timestamptz, unique (account_id, username));
  create table naive.logins (account_id bigint not null, logged_in_at timestamptz not null, ip text,
    device_model text, device_system text, network_type text, carrier text,
    unique (account_id, logged_in_at, ip, device_model, device_system, network_type, carrier));
  create table naive.dm_messages (account_id bigint not null, conversation text not null,
    sent_at timestamptz not null, sender text, content text,
    unique (account_id, conversation, sent_at, sender, content));
`;

export const BATCH_ROWS = 1000;
const ACCOUNT = '1';

export type Json = Record<string, unknown>;

const obj = (value: unknown): Json => (value && typeof value === 'object' ? (value as Json) : {});
const list = (value: unknown): Json[] => (Array.isArray(value) ? (value as Json[]) : []);
const str = (value: unknown): string | null => (value === undefined || value === null ? null : String(value));
const videoId = (link: unknown): string | null => /\/video\/(\d+)/.exec(String(link ?? ''))?.[1] ?? null;

/** Reads the first `.json` member of the zip into one Buffer, as a user with yauzl would. */
export async function readJsonMember(zipPath: string): Promise<Buffer> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.open(zipPath, { lazyEntries: true }, (error, file) => (error ? reject(error) : resolve(file))),
  );
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      zip.on('error', reject);
      zip.on('end', () => reject(new Error(`${zipPath} holds no .json member.`)));
      zip.on('entry', (entry: yauzl.Entry) => {
        if (!entry.fileName.endsWith('.json')) {
          zip.readEntry();
          return;
        }
        zip.openReadStream(entry, (error, stream) => {
          if (error) return reject(error);
          const chunks: Buffer[] = [];
          stream.on('data', (chunk: Buffer) => chunks.push(chunk));
          stream.on('error', reject);
          stream.on('end', () => resolve(Buffer.concat(chunks)));
        });
      });
      zip.readEntry();
    });
  } finally {
    zip.close();
  }
}

/** Rows per naive table, from the parsed 2025 document. */
export function* sections(doc: Json): Generator<[table: string, rows: Row[]]> {
  const activity = obj(doc['Your Activity']);
  const section = (name: string, key: string) => list(obj(activity[name])[key]);
  const rows = (items: Json[], shape: (v: Json) => Row): Row[] =>
    items.map((v) => ({ account_id: ACCOUNT, ...shape(v) }));
  yield [
    'watch_history',
    rows(section('Watch History', 'VideoList'), (v) => ({
      watched_at: str(v.Date),
      video_id: videoId(v.Link),
      link: str(v.Link),
      title: str(v.Title),
    })),
  ];
  yield [
    'likes',
    rows(section('Like List', 'ItemFavoriteList'), (v) => ({
      liked_at: str(v.date),
      video_id: videoId(v.link),
      link: str(v.link),
    })),
  ];
  yield [
    'favorite_videos',
    rows(section('Favorite Videos', 'FavoriteVideoList'), (v) => ({
      favorited_at: str(v.Date),
      item_id: videoId(v.Link),
      link: str(v.Link),
    })),
  ];
  yield [
    'searches',
    rows(section('Searches', 'SearchList'), (v) => ({ searched_at: str(v.Date), term: str(v.SearchTerm) })),
  ];
  yield [
    'shares',
    rows(section('Share History', 'ShareHistoryList'), (v) => ({
      shared_at: str(v.Date),
      shared_content: str(v.SharedContent),
      link: str(v.Link),
      method: str(v.Method),
      video_id: videoId(v.Link),
    })),
  ];
  yield [
    'comments',
    rows(list(obj(obj(doc.Comment).Comments).CommentsList), (v) => ({
      commented_at: str(v.date),
      comment: str(v.comment),
      photo: str(v.photo),
      url: str(v.url),
    })),
  ];
  yield [
    'followers',
    rows(section('Follower', 'FansList'), (v) => ({ username: str(v.UserName), followed_at: str(v.Date) })),
  ];
  yield [
    'following',
    rows(section('Following', 'Following'), (v) => ({ username: str(v.UserName), followed_at: str(v.Date) })),
  ];
  yield [
    'logins',
    rows(section('Login History', 'LoginHistoryList'), (v) => ({
      logged_in_at: str(v.Date),
      ip: str(v.IP),
      device_model: str(v.DeviceModel),
      device_system: str(v.DeviceSystem),
      network_type: str(v.NetworkType),
      carrier: str(v.Carrier),
    })),
  ];
  const chats = obj(obj(obj(doc['Direct Message'])['Direct Messages']).ChatHistory);
  const messages: Row[] = [];
  for (const [conversation, items] of Object.entries(chats)) {
    for (const m of list(items)) {
      messages.push({
        account_id: ACCOUNT,
        conversation,
        sent_at: str(m.Date),
        sender: str(m.From),
        content: str(m.Content),
      });
    }
  }
  yield ['dm_messages', messages];
}

/** Creates the naive tables (not timed). */
export async function createNaiveTables(pool: pg.Pool): Promise<void> {
  await pool.query(DDL);
}

/**
 * The naive import of one archive; returns rows sent per table. The kysely instance is not destroyed:
 * that would end the caller's pool.
 */
export async function naiveImport(pool: pg.Pool, zipPath: string): Promise<Record<string, number>> {
  const db = new Kysely<NaiveDatabase>({ dialect: new PostgresDialect({ pool }) });
  const doc = JSON.parse((await readJsonMember(zipPath)).toString('utf8')) as Json;
  const sent: Record<string, number> = {};
  for (const [table, rows] of sections(doc)) {
    sent[table] = rows.length;
    for (let i = 0; i < rows.length; i += BATCH_ROWS) {
      await db
        .insertInto(`naive.${table}`)
        .values(rows.slice(i, i + BATCH_ROWS))
        .onConflict((oc) => oc.doNothing())
        .execute();
    }
  }
  return sent;
}
