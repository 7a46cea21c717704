import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTo } from '../../src/db/connect.js';
import type { ExportArchive } from '../../src/ingest/archive.js';
import { DEFAULT_ARCHIVE_LIMITS } from '../../src/ingest/archive.js';
import { importArchive } from '../../src/ingest/import-archive.js';
import { silentLogger } from '../../src/logger.js';
import type { ParseEvent, TableName } from '../../src/parsers/records.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { dataTableWrites } from '../helpers/stats.js';

const ts = (day: number, second = 0) =>
  `2024-05-${String(day).padStart(2, '0')}T12:00:${String(second).padStart(2, '0')}Z`;

function section(table: TableName, part = ''): ParseEvent {
  return { kind: 'section', table, part, path: `test/${table}` };
}

function watch(day: number, videoId: string): ParseEvent {
  return {
    kind: 'record',
    table: 'watch_history',
    part: '',
    row: {
      watched_at: ts(day),
      video_id: videoId,
      link: `https://www.tiktokv.com/share/video/${videoId}/`,
      title: null,
      extra: null,
    },
  };
}

function message(second: number, content: string, sender = 'me'): ParseEvent {
  return {
    kind: 'record',
    table: 'dm_messages',
    part: 'direct',
    row: { conversation: 'ana', sent_at: ts(1, second), sender, content, video_id: null, extra: null },
  };
}

function like(day: number, videoId: string): ParseEvent {
  return {
    kind: 'record',
    table: 'likes',
    part: '',
    row: { liked_at: ts(day), video_id: videoId, link: null, extra: null },
  };
}

function post(likes: string, link: string): ParseEvent {
  const row = {
    posted_at: ts(3),
    link,
    video_id: null,
    title: 'my first post',
    likes,
    who_can_view: 'Everyone',
    allow_comments: 'Yes',
    allow_stitches: null,
    allow_duets: null,
    allow_stickers: null,
    allow_sharing_to_story: null,
    content_disclosure: null,
    ai_generated_content: null,
    sound: null,
    location: null,
    add_yours_text: null,
    alternate_text: null,
    cover_image: null,
    extra: null,
  };
  return { kind: 'record', table: 'posts', part: 'posted', row };
}

describe('importArchive merge', () => {
  let database: TestDatabase;
  let dir: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    dir = await mkdtemp(path.join(tmpdir(), 'merge-test-'));
  });
  afterAll(async () => {
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  });

  /** Imports a list of events as one archive, through its own connection pool (closed afterwards). */
  async function load(events: ParseEvent[], account = 'merge') {
    const zipPath = path.join(dir, `${randomBytes(4).toString('hex')}.zip`);
    await writeFile(zipPath, randomBytes(16));
    const handle = connectTo(database.url);
    const open = async (): Promise<ExportArchive> => ({
      info: { format: 'json', era: '2025' },
      members: ['user_data_tiktok.json'],
      async *events() {
        yield* events;
      },
      async close() {},
    });
    try {
      return await importArchive(
        { database: handle, logger: silentLogger(), limits: DEFAULT_ARCHIVE_LIMITS, open },
        { accountName: account, zipPath },
      );
    } finally {
      await handle.close();
    }
  }

  const first = [
    section('watch_history'),
    watch(1, '7412345678901234567'),
    watch(2, '7412345678901234568'),
    section('dm_messages', 'direct'),
    // The same message sent twice in the same second: two rows.
    message(5, 'hi'),
    message(5, 'hi'),
    message(6, 'hello', 'ana'),
    section('likes'),
    like(1, '7000000000000000001'),
    like(2, '7000000000000000002'),
    section('posts', 'posted'),
    post('10', 'https://cdn.example/v1?sig=a'),
  ];

  it('inserts every record once, keeping identical messages as separate rows', async () => {
    const before = await dataTableWrites(database.url);
    const result = await load(first);
    // The counters see the import's writes (so a zero later means no write, not unflushed counters).
    // 8 records, the conversation the messages belong to (no conversation record named it), and the
    // account's row (tiktok.accounts).
    expect((await dataTableWrites(database.url)) - before).toBe(10);
    expect(result.counts.watch_history).toMatchObject({ inserted: 2, unchanged: 0 });
    expect(result.counts.dm_messages).toMatchObject({ inserted: 3 });
    const rows = await database.pool.query(
      "select occurrence, content from tiktok.dm_messages where content = 'hi' order by occurrence",
    );
    expect(rows.rows).toEqual([
      { occurrence: 1, content: 'hi' },
      { occurrence: 2, content: 'hi' },
    ]);
    const ids = await database.pool.query('select video_id from tiktok.watch_history order by watched_at');
    expect(ids.rows.map((r) => r.video_id)).toEqual(['7412345678901234567', '7412345678901234568']);
  });

  it('writes no tuple to any data table when the same content is imported again', async () => {
    const before = await dataTableWrites(database.url);
    const result = await load(first);
    const after = await dataTableWrites(database.url);
    expect(after - before).toBe(0);
    for (const counts of Object.values(result.counts)) {
      expect(counts).toMatchObject({ inserted: 0, updated: 0, removed: 0, restored: 0 });
    }
    expect(result.counts.watch_history?.unchanged).toBe(2);
  });

  it('updates changed values, ignores a new signed URL alone, and marks missing records removed', async () => {
    const second = [
      section('watch_history'),
      watch(2, '7412345678901234568'),
      watch(3, '7412345678901234569'),
      section('dm_messages', 'direct'),
      message(5, 'hi'),
      message(6, 'hello', 'ana'),
      section('likes'),
      like(1, '7000000000000000001'),
      like(2, '7000000000000000002'),
      section('posts', 'posted'),
      post('10', 'https://cdn.example/v1?sig=b'),
    ];
    const result = await load(second);
    expect(result.counts.watch_history).toMatchObject({ inserted: 1, removed: 1, unchanged: 1 });
    // The second copy of the double-sent message left the export.
    expect(result.counts.dm_messages).toMatchObject({ removed: 1, unchanged: 2 });
    expect(result.counts.posts).toMatchObject({ updated: 0, unchanged: 1 });

    const third = [...second.slice(0, -1), post('25', 'https://cdn.example/v1?sig=c')];
    const changed = await load(third);
    expect(changed.counts.posts).toMatchObject({ updated: 1 });
    const stored = await database.pool.query('select likes, link from tiktok.posts');
    expect(stored.rows).toEqual([{ likes: '25', link: 'https://cdn.example/v1?sig=c' }]);

    const removed = await database.pool.query(
      'select video_id from tiktok.watch_history where removed_at is not null',
    );
    expect(removed.rows).toEqual([{ video_id: '7412345678901234567' }]);
  });

  it('leaves tables alone when the export does not contain their section', async () => {
    const result = await load([
      section('watch_history'),
      watch(2, '7412345678901234568'),
      watch(3, '7412345678901234569'),
    ]);
    expect(result.counts.likes).toMatchObject({ removed: 0, inserted: 0 });
    const likes = await database.pool.query(
      'select count(*)::int as n from tiktok.likes where removed_at is null',
    );
    expect(likes.rows[0].n).toBe(2);
  });

  it('marks every record removed when a present section is empty, and restores records that come back', async () => {
    const emptied = await load([section('likes')]);
    expect(emptied.counts.likes).toMatchObject({ removed: 2 });
    const back = await load([section('likes'), like(1, '7000000000000000001')]);
    expect(back.counts.likes).toMatchObject({ restored: 1, inserted: 0 });
    const rows = await database.pool.query(
      'select video_id, removed_at is null as present from tiktok.likes order by liked_at',
    );
    expect(rows.rows).toEqual([
      { video_id: '7000000000000000001', present: true },
      { video_id: '7000000000000000002', present: false },
    ]);
  });

  it('keeps accounts apart', async () => {
    await load([section('likes'), like(9, '7000000000000000009')], 'other');
    const rows = await database.pool.query(
      `select a.name, count(*)::int as n from tiktok.likes l join tiktok.accounts a using (account_id)
       where l.removed_at is null group by a.name order by a.name`,
    );
    expect(rows.rows).toEqual([
      { name: 'merge', n: 1 },
      { name: 'other', n: 1 },
    ]);
  });
});
