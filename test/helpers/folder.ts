import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * Writes `files` (paths inside the folder → contents) under `root`, as unzipping an export would;
 * names ending in `/` are empty folders.
 */
export async function writeFolder(
  root: string,
  files: Iterable<readonly [string, string | Buffer]>,
): Promise<string> {
  await mkdir(root, { recursive: true });
  for (const [name, data] of files) {
    const target = path.join(root, name);
    if (name.endsWith('/')) {
      await mkdir(target, { recursive: true });
      continue;
    }
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, data);
  }
  return root;
}
