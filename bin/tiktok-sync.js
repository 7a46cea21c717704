#!/usr/bin/env node
import { existsSync } from 'node:fs';

const entry = new URL('../dist/src/cli.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write(
    'tiktok-sync is not built yet; run `npm install` (or `npm run build`) in the project first.\n',
  );
  process.exit(1);
}
const { main } = await import(entry.href);
process.exit(await main(process.argv));
