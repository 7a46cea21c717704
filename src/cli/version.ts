import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'tiktok-portability-sync';

/**
 * The version in the project's package.json, read at run time. The file is looked for upwards from
 * this module, since it sits at a different depth in the sources (`src/cli/`) and in the build
 * (`dist/src/cli/`). A copy of the modules without the manifest (a bundle) reports `unknown`
 * rather than failing every command.
 */
export function packageVersion(from: string = fileURLToPath(import.meta.url)): string {
  let directory = path.dirname(from);
  for (;;) {
    const manifest = readManifest(path.join(directory, 'package.json'));
    if (manifest?.name === PACKAGE_NAME && typeof manifest.version === 'string') return manifest.version;
    const parent = path.dirname(directory);
    if (parent === directory) return 'unknown';
    directory = parent;
  }
}

function readManifest(file: string): { name?: unknown; version?: unknown } | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}
