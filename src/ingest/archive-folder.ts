/**
 * An unzipped export folder read as an archive (Safari and Archive Utility unzip downloads by
 * default): its files at any depth are the members, named by their path inside the folder, read in
 * path order (numbered TXT parts in part order).
 *
 * The whole folder is listed before anything is read, under the zip's limits: entries (folders
 * included) and the total size of the files that are read. Links are never followed inside it: a link
 * to something inside the folder is skipped with a warning (what it points to is read where it is,
 * so no record is read twice), and a link that leads out of the folder refuses it, as a zip entry
 * named `../x` refuses a zip: the import reads what the export holds, nothing else on the machine.
 * FIFOs, devices and sockets are skipped without being opened. Files that zip tools and Finder add
 * (`__MACOSX/`, `._*`, `.DS_Store`) are reported and skipped as in a zip, and never opened.
 */
import type { Dirent } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { ArchiveError } from '../errors.js';
import type { WarningEvent } from '../parsers/records.js';
import type { ArchiveLimits, ExportArchive, ReadArchiveOptions } from './archive.js';
import { fileMember, unreadable } from './archive-file.js';
import { inReadingOrder, kindOf, MemberArchive, type MemberKind } from './archive-members.js';

const ACCEPTED =
  'Give the folder a TikTok export unzips to (it holds `user_data_tiktok.json`, or a `Tiktok` folder of `.txt` files), or the `.zip` itself.';

export interface FolderFile {
  /** Path inside the folder, `/`-separated. */
  readonly name: string;
  /** Path on disk. */
  readonly path: string;
  readonly kind: MemberKind;
  /** Bytes, for the files that are read (`json`, `txt`); 0 for the others, which are never opened. */
  readonly size: number;
}

export interface FolderListing {
  /** In reading order. */
  readonly files: readonly FolderFile[];
  /** Links and special files that were skipped. */
  readonly warnings: readonly WarningEvent[];
}

/** Lists and checks the folder (see the module comment); throws `ArchiveError` when it cannot be read. */
export async function listFolder(
  folder: string,
  limits: ArchiveLimits,
  signal?: AbortSignal,
): Promise<FolderListing> {
  const root = await realpath(folder).catch((error: unknown) => {
    throw unreadable(`\`${folder}\``, error);
  });
  const files: FolderFile[] = [];
  const warnings: WarningEvent[] = [];
  const skip = (name: string, code: string, why: string) =>
    warnings.push({
      kind: 'warning',
      code,
      message: `Skipped \`${name}\` in \`${folder}\`: ${why}`,
      path: name,
    });
  let entries = 0;
  let bytes = 0;
  const pending: string[] = [''];
  while (pending.length > 0) {
    signal?.throwIfAborted();
    const dir = pending.pop()!;
    const listed: Dirent[] = await readdir(path.join(root, dir), { withFileTypes: true }).catch(
      (error: unknown) => {
        throw unreadable(dir === '' ? `\`${folder}\`` : `\`${dir}\` in \`${folder}\``, error);
      },
    );
    for (const dirent of listed) {
      entries += 1;
      if (entries > limits.maxEntries) {
        throw new ArchiveError(
          'archive_too_large',
          `\`${folder}\` holds more than ${limits.maxEntries} files and folders, the limit; an export holds a few dozen, so this is not an export folder. ${ACCEPTED}`,
          { details: { folder, max: limits.maxEntries } },
        );
      }
      const name = dir === '' ? dirent.name : `${dir}/${dirent.name}`;
      const file = path.join(root, name);
      if (dirent.isDirectory()) {
        pending.push(name);
      } else if (dirent.isSymbolicLink()) {
        const target = await realpath(file).catch(() => undefined);
        if (target === undefined) {
          skip(name, 'link_skipped', 'it is a link to nothing (links are not followed).');
          continue;
        }
        const inside = path.relative(root, target);
        if (inside === '..' || inside.startsWith(`..${path.sep}`) || path.isAbsolute(inside)) {
          throw new ArchiveError(
            'archive_unsafe_path',
            `\`${folder}\` holds \`${name}\`, a link to \`${target}\` outside the folder; such a folder is unsafe and was not read. Put the file itself in its place, or remove the link.`,
            { details: { folder, member: name, target } },
          );
        }
        skip(
          name,
          'link_skipped',
          'it is a link, and links are not followed; what it points to is read where it is.',
        );
      } else if (!dirent.isFile()) {
        skip(
          name,
          'not_a_file',
          'it is not a regular file (a FIFO, socket or device), so it was not opened.',
        );
      } else {
        const kind = kindOf(name);
        let size = 0;
        if (kind !== 'other') {
          size = (
            await stat(file).catch((error: unknown) => {
              throw unreadable(`\`${name}\` in \`${folder}\``, error);
            })
          ).size;
          bytes += size;
          if (bytes > limits.maxUncompressedBytes) {
            throw new ArchiveError(
              'archive_too_large',
              `The \`.json\` and \`.txt\` files in \`${folder}\` hold more than ${limits.maxUncompressedBytes} bytes, above the limit; nothing was read. Raise the limit if the export is genuine.`,
              { details: { folder, max: limits.maxUncompressedBytes } },
            );
          }
        }
        files.push({ name, path: file, kind, size });
      }
    }
  }
  if (!files.some((f) => f.kind !== 'other')) {
    throw new ArchiveError(
      'archive_no_export',
      entries === 0
        ? `\`${folder}\` is an empty folder, not a TikTok export. ${ACCEPTED}`
        : `\`${folder}\` holds no \`.json\` or \`.txt\` file at any depth, so it is not a TikTok export. ${ACCEPTED}`,
      { details: { folder } },
    );
  }
  // Directory listings come in whatever order the file system keeps; sorted, a folder reads the same
  // everywhere.
  const byName = (a: { name: string }, b: { name: string }) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  files.sort(byName);
  const sortedWarnings = warnings
    .map((w) => ({ name: w.path, w }))
    .sort(byName)
    .map(({ w }) => w);
  return { files: inReadingOrder(files, (f) => f.name), warnings: sortedWarnings };
}

/** Opens an unzipped export folder as an archive (see the module comment). */
export async function openFolderArchive(
  folder: string,
  limits: ArchiveLimits,
  options: ReadArchiveOptions,
): Promise<ExportArchive> {
  const { files, warnings } = await listFolder(folder, limits, options.signal);
  const members = files.map((f) =>
    fileMember(f.name, f.path, f.kind, f.size, `\`${f.name}\` in \`${folder}\``),
  );
  return new MemberArchive(members, warnings, options, undefined, folder);
}
