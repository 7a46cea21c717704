import path from 'node:path';
import cliProgress from 'cli-progress';
import { redactConnectionString } from '../db/connect.js';
import { importArchive } from '../ingest/import-archive.js';
import { importContextFor } from '../services.js';
import { visible } from '../terminal-text.js';
import type { CommandContext } from './context.js';
import { formatCounts, type Output } from './output.js';

/** How the export time was told, in words. */
const EXPORT_TIME_WORDS = {
  collect_time: "TikTok's collect_time",
  apply_time: "TikTok's apply_time",
  file_name: 'from the file name',
  member_times: "from the files' times in the zip",
  import_time: 'unknown; taken as now',
} as const;

export interface ImportCommandOptions {
  account: string;
  force?: boolean | undefined;
  member?: string | undefined;
  acceptRemovals?: boolean | undefined;
}

/**
 * `tiktok-sync import <path> --account <name>`: one export (zip, unzipped folder, or bare JSON or TXT
 * file) into the database, then a summary.
 */
export async function cmdImport(
  context: CommandContext,
  output: Output,
  zipPath: string,
  options: ImportCommandOptions,
): Promise<void> {
  // `path.resolve` first, so that `.` or `export/` are named by the folder's own name. Made visible
  // here too: the progress bar writes it to the terminal itself.
  const name = visible(path.basename(path.resolve(zipPath)));
  const progress = progressReporter(output, name);
  let result: Awaited<ReturnType<typeof importArchive>>;
  try {
    result = await importArchive(
      importContextFor(context.config, context.database, context.logger, context.signal),
      {
        accountName: options.account,
        zipPath,
        onProgress: progress.update,
        force: options.force,
        member: options.member,
        acceptRemovals: options.acceptRemovals,
      },
    );
  } finally {
    progress.stop();
  }

  if (result.skipped) {
    output.out(
      `${name} is the archive last imported for account \`${options.account}\` ` +
        `(same content, ${result.records.toLocaleString('en')} records); nothing to do. --force merges it again.`,
    );
    return;
  }
  output.out(
    `Imported ${name} for account \`${options.account}\` ` +
      `(${result.info.format.toUpperCase()}, ${result.info.era} layout, ${result.records.toLocaleString('en')} records)` +
      `${result.newArchive ? '' : '; this exact archive had been imported before'}.`,
  );
  output.out(
    `TikTok made it ${result.exportedAt.toISOString()} (${EXPORT_TIME_WORDS[result.exportedAtSource]})` +
      (result.older
        ? '; a newer export of this account is stored already, so it only added what was never seen.'
        : '.'),
  );
  output.out();
  output.out(formatCounts(result.counts));
  if (result.warningCount > 0) {
    output.out();
    output.out(`${result.warningCount} warning(s), kept in run ${result.runId}:`);
    for (const warning of result.warnings.slice(0, 10)) {
      output.out(
        `  ${warning.count}× ${warning.code} at ${warning.path}${warning.field ? ` › ${warning.field}` : ''}: ${warning.message}`,
      );
    }
    if (result.warnings.length > 10)
      output.out(
        `  … and ${result.warnings.length - 10} more groups (tiktok-sync status --run ${result.runId}).`,
      );
  }
  output.out();
  if (context.database.embeddedDataDir) {
    output.out(`Data directory: ${path.dirname(context.database.embeddedDataDir)}`);
    output.out(`Connection string: ${context.database.connectionString}`);
    output.out(
      'The embedded Postgres stops when this command ends; `npx tiktok-sync db` serves it for psql or a BI tool.',
    );
  } else {
    output.out(`Database: ${redactConnectionString(context.database.connectionString)}`);
  }
}

/** A progress bar on a terminal; a plain line every 10 % otherwise. */
function progressReporter(output: Output, name: string) {
  if (output.interactive) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${name} [{bar}] {percentage}% | {value}/{total} bytes | eta {eta_formatted}`,
        stream: process.stderr,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update: (done: number, total: number) => {
        if (!started) {
          bar.start(total, 0);
          started = true;
        }
        bar.update(done);
      },
      stop: () => bar.stop(),
    };
  }
  let lastDecile = -1;
  return {
    update: (done: number, total: number) => {
      const decile = total > 0 ? Math.floor((done / total) * 10) : 10;
      if (decile > lastDecile) {
        lastDecile = decile;
        output.err(`${name}: ${Math.min(100, decile * 10)}% of ${total.toLocaleString('en')} bytes read`);
      }
    },
    stop: () => {},
  };
}
