/**
 * One export per archive. An archive that holds two exports (the same `user_data_tiktok.json` at
 * the top and in `sub/`, a JSON export next to a TXT tree, two TXT trees) would have every record
 * stored twice, so it is refused with the list of exports it holds, unless one is picked
 * (`tiktok-sync import --member PATH`).
 *
 * Where an export starts (its root) is told from member names, tolerantly: a `user_data*.json`
 * file starts a JSON export in its folder; a `.txt` file named like a section we read starts a TXT
 * export at the folder above its category folders (`TikTok_Data_…/Tiktok/Activity/Like List.txt`
 * → `TikTok_Data_…/`). Other files (an unknown `.json`, a `readme.txt`) never start an export:
 * they are read with the export they sit in.
 */
import { ArchiveError } from '../errors.js';
import { findCategory, findSection } from '../parsers/sections.js';
import { txtPart } from '../parsers/txt-parts.js';
import type { MemberKind } from './archive-members.js';

export interface ExportRoot {
  /** The folder the export starts in, `/`-terminated (`''` for the top of the archive). */
  readonly folder: string;
  readonly format: 'json' | 'txt';
  /** How the user names it: the JSON file's path, or the TXT tree's folder. */
  readonly label: string;
}

interface Named {
  readonly name: string;
  readonly kind: MemberKind;
}

const folderOf = (name: string) => name.slice(0, name.lastIndexOf('/') + 1);
const baseOf = (name: string) => name.slice(name.lastIndexOf('/') + 1);

/** The export a member starts, if it is one that does. */
export function rootOf(member: Named): ExportRoot | undefined {
  const base = baseOf(member.name);
  if (member.kind === 'json') {
    if (!/^user_data.*\.json$/i.test(base)) return undefined;
    return { folder: folderOf(member.name), format: 'json', label: member.name };
  }
  if (member.kind !== 'txt') return undefined;
  const stem = base.replace(/\.txt$/i, '');
  if (findSection(stem) === undefined && findSection(txtPart(stem)?.section ?? '') === undefined)
    return undefined;
  const folders = member.name.split('/').slice(0, -1);
  // The export starts above `Tiktok/` or the first category folder (`Activity/`), else in the file's folder.
  const at = folders.findIndex((folder) => /^tiktok$/i.test(folder) || findCategory(folder) !== undefined);
  const kept = at >= 0 ? folders.slice(0, at) : folders;
  const folder = kept.length > 0 ? `${kept.join('/')}/` : '';
  return { folder, format: 'txt', label: folder === '' ? '(the top of the archive)' : folder };
}

/** The distinct exports the members hold, in the order their first member is listed. */
export function exportRoots(members: readonly Named[]): ExportRoot[] {
  const roots = new Map<string, ExportRoot>();
  for (const member of members) {
    const root = rootOf(member);
    if (root === undefined) continue;
    const id = `${root.format}:${root.folder}`;
    // Two JSON files of one folder (`user_data.json` and `user_data_tiktok.json`) are two exports.
    const key = root.format === 'json' ? `${id}:${root.label}` : id;
    if (!roots.has(key)) roots.set(key, root);
  }
  return [...roots.values()];
}

/**
 * Whether the roots are really several exports: two JSON exports, a JSON export and TXT sections,
 * or one TXT section in two trees. TXT sections spread over folders we do not know as categories
 * are one export as long as no section repeats.
 */
function severalExports(members: readonly Named[], roots: readonly ExportRoot[]): boolean {
  const json = roots.filter((root) => root.format === 'json').length;
  const txt = roots.filter((root) => root.format === 'txt').length;
  if (json >= 2 || (json >= 1 && txt >= 1)) return true;
  if (txt < 2) return false;
  const seen = new Map<string, string>();
  for (const member of members) {
    const root = rootOf(member);
    if (root?.format !== 'txt') continue;
    const section = baseOf(member.name).replace(/\.txt$/i, '');
    const key = (txtPart(section)?.section ?? section).toLowerCase();
    const where = seen.get(key);
    if (where !== undefined && where !== root.folder) return true;
    seen.set(key, root.folder);
  }
  return false;
}

function sameRoot(a: ExportRoot, b: ExportRoot): boolean {
  return a.format === b.format && a.folder === b.folder && (a.format === 'txt' || a.label === b.label);
}

/** A member is read with the export it starts, or else with the deepest export whose folder holds it. */
function belongsTo(member: Named, root: ExportRoot, roots: readonly ExportRoot[]): boolean {
  const own = rootOf(member);
  if (own !== undefined) return sameRoot(own, root);
  if (!member.name.startsWith(root.folder)) return false;
  return !roots.some(
    (other) => other.folder.length > root.folder.length && member.name.startsWith(other.folder),
  );
}

/**
 * The members to read: all of them when the archive holds at most one export, else those of the
 * export `pick` names (its label, its folder, or any member path inside it). Throws
 * `archive_several_exports` listing the exports when there are several and none (or an unknown one)
 * was picked.
 */
export function selectExport<T extends Named>(
  members: readonly T[],
  archivePath: string,
  pick: string | undefined,
): { members: T[]; root: ExportRoot | undefined } {
  const roots = exportRoots(members);
  const several = severalExports(members, roots);
  if (pick === undefined && !several) return { members: [...members], root: undefined };
  const list = roots.map((root) => `\`${root.label}\` (${root.format.toUpperCase()})`).join(', ');
  if (roots.length <= 1) {
    if (roots.length === 1 && matches(roots[0]!, pick!, members))
      return { members: [...members], root: roots[0] };
    throw new ArchiveError(
      'archive_member_not_found',
      `\`${archivePath}\` holds one export${roots.length > 0 ? ` (${list})` : ''}; --member \`${pick}\` is not in it. Leave out --member.`,
      { details: { archivePath, member: pick, exports: roots.map((r) => r.label) } },
    );
  }
  const chosen = pick === undefined ? [] : roots.filter((root) => matches(root, pick, members));
  if (chosen.length !== 1) {
    const what =
      pick === undefined
        ? 'Reading them all would store every record more than once, so nothing was read.'
        : chosen.length === 0
          ? `--member \`${pick}\` is none of them.`
          : `--member \`${pick}\` matches more than one of them.`;
    throw new ArchiveError(
      'archive_several_exports',
      `\`${archivePath}\` holds ${roots.length} exports: ${list}. ${what} Pick one with --member, e.g. \`--member '${roots[0]!.label}'\`.`,
      { details: { archivePath, exports: roots.map((r) => r.label), member: pick } },
    );
  }
  const root = chosen[0]!;
  return { members: members.filter((member) => belongsTo(member, root, roots)), root };
}

function matches(root: ExportRoot, pick: string, members: readonly Named[]): boolean {
  const wanted = pick.replace(/\\/g, '/').replace(/^\.\//, '');
  if (wanted === root.label || wanted === root.folder || `${wanted}/` === root.folder) return true;
  // A folder above the export's root (`second/` for `second/TikTok_Data_…/`); one that holds
  // several exports matches each of them, and the pick is refused as ambiguous.
  const folder = wanted.endsWith('/') ? wanted : `${wanted}/`;
  if (wanted !== '' && root.folder.startsWith(folder)) return true;
  const member = members.find((m) => m.name === wanted);
  const own = member === undefined ? undefined : rootOf(member);
  return own !== undefined && sameRoot(own, root);
}
