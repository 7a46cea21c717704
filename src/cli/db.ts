import path from 'node:path';
import { redactConnectionString } from '../db/connect.js';
import type { CommandContext } from './context.js';
import type { Output } from './output.js';

/** `tiktok-sync db`: keeps the embedded Postgres up until interrupted, printing how to connect. */
export async function cmdDb(context: CommandContext, output: Output): Promise<void> {
  const { database, signal } = context;
  if (!database.embeddedDataDir) {
    output.out(
      `Using an external database (${redactConnectionString(database.connectionString)}); nothing to serve.`,
    );
    return;
  }
  output.out(`Data directory: ${path.dirname(database.embeddedDataDir)}`);
  output.out(`Connection string: ${database.connectionString}`);
  output.out(
    `Try: psql '${database.connectionString}' -c 'select * from tiktok.daily_activity order by day desc limit 7'`,
  );
  output.out('Serving until Ctrl-C.');
  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
