/**
 * Exports hold messages, locations and logins, so every file this service writes from one — a
 * download, a quarantined archive, a kept archive — is owner-only: folders 0700, files 0600. The
 * modes are set with chmod after each create, so they do not depend on the umask.
 *
 * Folders made by an earlier version may be looser (a download kept under `archive.retention` was
 * 0644 in a 0755 folder). {@link tightenPrivateData} runs as a command or the daemon starts and makes
 * them private, with a note per change saying which path went from which mode to which. It changes
 * only the data directory and the folders inside it: a download, quarantine or kept-archives folder
 * configured elsewhere may be shared (`/tmp`, a mount), so it is left as it is, with a note.
 *
 * The data directory keeps its search bits: as root, the embedded Postgres runs as the `postgres`
 * user, which must pass through it to reach `<dataDir>/postgres` (src/db/embedded.ts makes it 0711).
 * Listing it and writing in it are taken away from other users; what is inside is private anyway.
 *
 * A folder that is 0700 hides what is in it, so files are tightened only where an earlier version
 * wrote them looser: directly in the download, quarantine and kept-archives folders (not down the
 * kept archives' tree, always written 0600), and `embedded.json` in the data directory; other files
 * there (a config file kept alongside) are not this service's to change.
 */
import { chmodSync, type Dirent, readdirSync, realpathSync, statSync } from 'node:fs';
import { chmod, type FileHandle, mkdir, open, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from './config.js';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Creates `dir` and any missing parent, each 0700. An existing folder is left as it is
 * ({@link tightenPrivateData} is the one that changes existing ones, and says so).
 */
export async function makePrivateDir(dir: string): Promise<void> {
  const target = path.resolve(dir);
  const first = await mkdir(target, { recursive: true, mode: PRIVATE_DIR_MODE });
  if (first === undefined) return;
  // mkdir returns the first folder it created; it and every one below it down to `dir` are new.
  const created = path.resolve(first);
  for (let at = target; ; at = path.dirname(at)) {
    await chmod(at, PRIVATE_DIR_MODE);
    if (at === created || path.dirname(at) === at) return;
  }
}

/** Opens `file` (created with `flags` such as `w+`) as 0600, also when it was there already. */
export async function openPrivateFile(file: string, flags: string): Promise<FileHandle> {
  const handle = await open(file, flags, PRIVATE_FILE_MODE);
  try {
    await handle.chmod(PRIVATE_FILE_MODE);
  } catch (error) {
    await handle.close().catch(() => {});
    throw error;
  }
  return handle;
}

/** Writes `file` whole, 0600. */
export async function writePrivateFile(file: string, data: string | Buffer): Promise<void> {
  await writeFile(file, data, { mode: PRIVATE_FILE_MODE });
  await chmod(file, PRIVATE_FILE_MODE);
}

/** Makes a file just copied or moved into place 0600. */
export async function makeFilePrivate(file: string): Promise<void> {
  await chmod(file, PRIVATE_FILE_MODE);
}

/** Folders 0700 and files 0600, all the way down (a copy of an export folder). Links are left alone. */
export async function makeTreePrivate(dir: string): Promise<void> {
  await chmod(dir, PRIVATE_DIR_MODE);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const inner = path.join(dir, entry.name);
    if (entry.isDirectory()) await makeTreePrivate(inner);
    else if (entry.isFile()) await chmod(inner, PRIVATE_FILE_MODE);
  }
}

/** The folders {@link tightenPrivateData} looks at, with the setting that names each. */
export function privateDataDirs(config: Config): { dir: string; setting: string }[] {
  return [
    { dir: config.tiktok.download.directory, setting: 'tiktok.downloadDir' },
    { dir: config.archive.quarantineDir, setting: 'archive.quarantineDir' },
    { dir: config.archive.kept.dir, setting: 'archive.keptDir' },
  ];
}

/**
 * Makes the data directory and the download, quarantine and kept-archives folders private where
 * other users of the machine can read or change them, and the files directly in them (see the module
 * comment for what is changed and what is only reported). Creates nothing. Returns one note per
 * change (and per folder left as it is), for the command to print or the daemon to log.
 *
 * Synchronous: it runs once as a command starts, on a handful of paths.
 */
export function tightenPrivateData(config: Config): string[] {
  if (process.platform === 'win32') return []; // modes say nothing there
  const notes: string[] = [];
  const dataDir = realPath(config.dataDir);
  if (dataDir !== undefined) {
    // Search bits stay (see the module comment): only reading and writing are taken away.
    tightenDir(config.dataDir, 0o066, notes);
    // Only the files this service writes there: others (a config file kept alongside) are not ours.
    tightenFiles(config.dataDir, notes, (name) => DATA_DIR_FILES.has(name));
  }
  for (const { dir, setting } of privateDataDirs(config)) {
    const real = realPath(dir);
    if (real === undefined || real === dataDir) continue;
    const inside = dataDir !== undefined && real.startsWith(`${dataDir}${path.sep}`);
    if (inside) {
      tightenDir(dir, 0o077, notes);
      tightenFiles(dir, notes);
    } else {
      reportOutside(dir, setting, notes);
    }
  }
  return notes;
}

function realPath(file: string): string | undefined {
  try {
    const real = realpathSync(file);
    return statSync(real).isDirectory() ? real : undefined;
  } catch {
    return undefined;
  }
}

/** Takes the bits of `loose` away from a folder that has any of them. */
function tightenDir(dir: string, loose: number, notes: string[]): void {
  let mode: number;
  try {
    mode = statSync(dir).mode & 0o7777;
  } catch {
    return; // gone meanwhile
  }
  if ((mode & loose) === 0) return;
  const tight = mode & ~loose;
  try {
    chmodSync(dir, tight);
    notes.push(
      `\`${dir}\` could be ${opened(mode)} by other users of this machine (mode ${octal(mode)}); it is now ${octal(tight)}, as it holds TikTok exports.`,
    );
  } catch (error) {
    notes.push(
      `\`${dir}\` can be ${opened(mode)} by other users of this machine (mode ${octal(mode)}) and could not be made private (${code(error)}); run \`chmod go-rw ${dir}\` as its owner.`,
    );
  }
}

/** Files this service writes directly in the data directory: the embedded server's port and password. */
const DATA_DIR_FILES = new Set(['embedded.json']);

/** Regular files directly in `dir` that others can read or change become 0600; one note per folder. */
function tightenFiles(dir: string, notes: string[], ours: (name: string) => boolean = () => true): void {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  const changed: { file: string; mode: number }[] = [];
  const failed: { file: string; error: unknown }[] = [];
  for (const entry of entries) {
    if (!entry.isFile() || !ours(entry.name)) continue;
    const file = path.join(dir, entry.name);
    try {
      const mode = statSync(file).mode & 0o7777;
      if ((mode & 0o077) === 0) continue;
      chmodSync(file, PRIVATE_FILE_MODE);
      changed.push({ file, mode });
    } catch (error) {
      failed.push({ file, error });
    }
  }
  if (changed.length === 1) {
    const [{ file, mode }] = changed as [{ file: string; mode: number }];
    notes.push(
      `\`${file}\` could be ${opened(mode)} by other users of this machine (mode ${octal(mode)}); it is now 600.`,
    );
  } else if (changed.length > 1) {
    const modes = [...new Set(changed.map(({ mode }) => octal(mode)))].join(', ');
    const all = changed.reduce((bits, { mode }) => bits | mode, 0);
    notes.push(
      `${changed.length} files in \`${dir}\` could be ${opened(all)} by other users of this machine (mode ${modes}); they are now 600.`,
    );
  }
  for (const { file, error } of failed) {
    notes.push(
      `\`${file}\` could not be made private (${code(error)}); run \`chmod 600 ${file}\` as its owner.`,
    );
  }
}

/** A folder outside the data directory is not changed: it may be shared. */
function reportOutside(dir: string, setting: string, notes: string[]): void {
  let mode: number;
  try {
    mode = statSync(dir).mode & 0o7777;
  } catch {
    return;
  }
  if ((mode & 0o066) === 0) return;
  notes.push(
    `\`${dir}\` (${setting}) can be ${opened(mode)} by other users of this machine (mode ${octal(mode)}); it is outside the data directory, so it was left as it is. The archives written there are private (600), but their names show: run \`chmod 700 ${dir}\` unless others need that folder.`,
  );
}

function opened(mode: number): string {
  const read = (mode & 0o044) !== 0;
  const write = (mode & 0o022) !== 0;
  return read && write ? 'read and changed' : write ? 'changed' : read ? 'read' : 'entered';
}

function octal(mode: number): string {
  return mode.toString(8);
}

function code(error: unknown): string {
  return (error as NodeJS.ErrnoException)?.code ?? String(error);
}
