/**
 * The `download` stage: the archive to a temporary file (the client resumes a cut transfer), recorded
 * on the request with its size and SHA-256. A request that expired meanwhile is confirmed by Check.
 */
import { TerminalError } from '../errors.js';
import type { DownloadedArchive } from '../tiktok/portability-client.js';
import { finishRequest } from './request.js';
import type { SyncContext, SyncOptions } from './run-sync.js';

export async function downloadArchive(
  context: SyncContext,
  options: SyncOptions,
  requestId: string,
): Promise<DownloadedArchive | 'expired'> {
  let archive: DownloadedArchive;
  try {
    archive = await context.client.download(requestId, { signal: context.signal });
  } catch (error) {
    // TikTok refuses Download once a request expired (UNVERIFIED how): confirm with Check.
    if (error instanceof TerminalError && error.code === 'invalid_params') {
      const status = await context.client.checkStatus(requestId, { signal: context.signal });
      if (status.status === 'expired') {
        await finishRequest(context, options.accountId, requestId, 'expired');
        return 'expired';
      }
    }
    throw error;
  }
  await context.db
    .updateTable('tiktok_sync.data_requests')
    .set({
      status: 'downloaded',
      downloaded_at: new Date(context.clock.now()),
      archive_bytes: archive.bytes,
      archive_sha256: Buffer.from(archive.sha256, 'hex'),
    })
    .where('account_id', '=', options.accountId)
    .where('request_id', '=', requestId)
    .execute();
  return archive;
}
