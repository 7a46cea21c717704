/**
 * The archive's row in `tiktok_sync.archives`: registered once per account and content, with when
 * TikTok made the export (src/ingest/export-order.ts) and what it held.
 */
import type pg from 'pg';
import type { ExportTimeSource, PresentParts } from '../db/schema.js';
import type { ArchiveInfo } from '../parsers/records.js';
import type { ExportTime } from './export-order.js';

/** The Check times of the data request an archive was downloaded for, if any. */
export async function requestTimes(
  client: pg.ClientBase,
  requestId: string | undefined,
): Promise<{ collectTime?: Date | null; applyTime?: Date | null }> {
  if (requestId === undefined) return {};
  const found = await client.query<{ collect_time: Date | null; apply_time: Date | null }>(
    'select collect_time, apply_time from tiktok_sync.data_requests where request_id = $1',
    [requestId],
  );
  const row = found.rows[0];
  return row ? { collectTime: row.collect_time, applyTime: row.apply_time } : {};
}

/**
 * The archive's row (once per account and content); says whether this content is new, when TikTok
 * made it (as recorded the first time), and whether the account had other archives before it.
 */
export async function registerArchive(
  client: pg.ClientBase,
  archive: {
    accountId: string;
    runId: string;
    sha256: string;
    sizeBytes: number;
    source: string;
    fileName: string;
    info: ArchiveInfo;
    members: number;
    records: number;
    exportedAt: ExportTime;
    presentParts: PresentParts;
    exportRoot: string | null;
  },
): Promise<{ archiveId: string; newArchive: boolean; exportedAt: ExportTime; hadEarlier: boolean }> {
  const sha = Buffer.from(archive.sha256, 'hex');
  const inserted = await client.query<{ archive_id: string; inserted: boolean }>(
    `insert into tiktok_sync.archives
       (account_id, sha256, size_bytes, source, file_name, format, era, member_count, record_count, first_run_id,
        exported_at, exported_at_source, present_parts, export_root)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
     on conflict (account_id, sha256) do update
       set exported_at = excluded.exported_at, exported_at_source = excluded.exported_at_source
       -- A time that was only the first import's says nothing: imported again, the export counts as new.
       where archives.exported_at_source = 'import_time'
     returning archive_id, (xmax = 0) as inserted`,
    [
      archive.accountId,
      sha,
      archive.sizeBytes,
      archive.source,
      archive.fileName,
      archive.info.format,
      archive.info.era,
      archive.members,
      archive.records,
      archive.runId,
      archive.exportedAt.at,
      archive.exportedAt.source,
      JSON.stringify(archive.presentParts),
      archive.exportRoot,
    ],
  );
  const found = await client.query<{
    archive_id: string;
    exported_at: Date;
    exported_at_source: ExportTimeSource;
    had_earlier: boolean;
  }>(
    `select archive_id, exported_at, exported_at_source,
       exists (select 1 from tiktok_sync.archives o where o.account_id = a.account_id and o.archive_id <> a.archive_id) as had_earlier
     from tiktok_sync.archives a where account_id = $1 and sha256 = $2`,
    [archive.accountId, sha],
  );
  const row = found.rows[0]!;
  return {
    archiveId: row.archive_id,
    newArchive: inserted.rows[0]?.inserted === true,
    exportedAt: { at: row.exported_at, source: row.exported_at_source },
    hadEarlier: row.had_earlier,
  };
}
