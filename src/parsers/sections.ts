/**
 * Section lookups for the parsers, derived from the catalog (catalog/*.ts): which JSON key paths
 * (2021–23 `user_data.json`, late-2025 and 2026 `user_data_tiktok.json`) and which TXT files feed
 * which table and part.
 *
 * JSON is `category / section / container`; keys are compared with {@link normKey} (case, spaces and
 * punctuation ignored). Sections are looked up by their own name whatever category holds them, so a
 * section that moves to another category (as Follower did: `Activity` → `Your Activity` →
 * `Profile And Settings`) or a member that holds one category's sections at its top level is still
 * read. TXT files are looked up by the same section names (`Browsing History.txt`, `Post.txt`…).
 */

import { records } from './catalog/define.js';
import { SECTIONS, type SectionSpec, type TableName, type Target } from './catalog/index.js';
import { normKey } from './values.js';

export type { Target } from './catalog/index.js';

/** A step below a section: either a container (target) or more keys (e.g. `SendGifts/SendGifts`). */
export interface ContainerNode {
  readonly target?: Target;
  readonly children?: ReadonlyMap<string, ContainerNode>;
}

export type SectionContent =
  /** Unmodeled: the whole section becomes one `raw` event. */
  | { kind: 'raw'; reason: string }
  /** Every leaf becomes a `settings` row (`SettingsMap` itself is transparent). */
  | { kind: 'settings' }
  | {
      kind: 'containers';
      containers: ReadonlyMap<string, ContainerNode>;
      /** Used for a list under an unexpected key, where the container name is unverified. */
      anyList?: Target;
      /** What a TXT file of the section holds, when it is not its sole target. */
      txt?: Target;
    };

export interface SectionDef {
  readonly id: string;
  /** Names as TikTok writes them (JSON section keys and TXT file names without `.txt`). */
  readonly names: readonly string[];
  readonly content: SectionContent;
  /** The (table, part) pairs a present section vouches for, even when it is empty. */
  readonly announces: readonly { table: TableName; part: string }[];
}

type ContainerSpec = NonNullable<SectionSpec['containers']>[string];

/** Categories (top-level keys) and the eras that use exactly that spelling (compared with {@link normKey}). */
export const CATEGORIES: readonly { name: string; eras: readonly Era[] }[] = [
  { name: 'Activity', eras: ['2021-2023'] },
  { name: 'Your Activity', eras: ['2025', '2026'] },
  { name: 'Likes and Favorites', eras: ['2026'] },
  { name: 'Ads and data', eras: ['2021-2023', '2025'] },
  { name: 'App Settings', eras: ['2021-2023', '2025'] },
  { name: 'Profile', eras: ['2021-2023', '2025'] },
  { name: 'Profile And Settings', eras: ['2026'] },
  { name: 'Comment', eras: ['2021-2023', '2025', '2026'] },
  { name: 'Direct Messages', eras: ['2021-2023'] },
  { name: 'Direct Message', eras: ['2025', '2026'] },
  { name: 'Video', eras: ['2021-2023'] },
  { name: 'Post', eras: ['2025', '2026'] },
  { name: 'Tiktok Live', eras: ['2021-2023', '2025', '2026'] },
  { name: 'Tiktok Shopping', eras: ['2021-2023'] },
  { name: 'TikTok Shop', eras: ['2025', '2026'] },
  { name: 'Income Plus Wallet Transactions', eras: ['2025'] },
  { name: 'Income+ Wallet', eras: ['2026'] },
  { name: 'Location Review', eras: ['2025', '2026'] },
];

export type Era = '2021-2023' | '2025' | '2026';

/** Section-level siblings of a container that carry no records (`"App": 1`, `"IsFastLane": false`). */
const IGNORED_SECTION_KEYS = new Set(['app', 'isfastlane']);

function buildContainers(spec: { readonly [aliases: string]: ContainerSpec }): Map<string, ContainerNode> {
  const map = new Map<string, ContainerNode>();
  for (const [aliases, value] of Object.entries(spec)) {
    const node: ContainerNode =
      'kind' in value && typeof value.kind === 'string'
        ? { target: value as Target }
        : { children: buildContainers(value as { readonly [aliases: string]: ContainerSpec }) };
    for (const alias of aliases.split('|')) map.set(normKey(alias), node);
  }
  return map;
}

function collectTargets(nodes: Iterable<ContainerNode>, out: Target[]): Target[] {
  for (const node of nodes) {
    if (node.target !== undefined && !out.includes(node.target)) out.push(node.target);
    if (node.children !== undefined) collectTargets(node.children.values(), out);
  }
  return out;
}

/** The (table, part) pairs a target fills. */
export function targetTables(target: Target): { table: TableName; part: string }[] {
  switch (target.kind) {
    case 'records':
    case 'record':
    case 'values':
    case 'items':
      return [{ table: target.table as TableName, part: target.part }];
    case 'chats':
      return [
        { table: 'dm_conversations', part: target.part },
        { table: 'dm_messages', part: target.part },
      ];
    case 'tako':
      return [
        { table: 'dm_conversations', part: 'tako' },
        { table: 'dm_messages', part: 'tako' },
      ];
    case 'watch_live':
      return [
        { table: 'live_sessions', part: 'watch_live' },
        { table: 'live_comments', part: '' },
      ];
  }
}

/** Every target of a section, in table order (for TXT files, which hold one section each). */
export function sectionTargets(def: SectionDef): Target[] {
  if (def.content.kind !== 'containers') return [];
  const out = collectTargets(def.content.containers.values(), []);
  for (const extra of [def.content.anyList, def.content.txt]) {
    if (extra !== undefined && !out.some((t) => sameTable(t, extra))) out.push(extra);
  }
  return out;
}

function sameTable(a: Target, b: Target): boolean {
  return 'table' in a && 'table' in b && a.table === b.table && a.part === b.part;
}

function toDef(spec: SectionSpec): SectionDef {
  let content: SectionContent;
  if (spec.raw !== undefined) content = { kind: 'raw', reason: spec.raw };
  else if (spec.settings) content = { kind: 'settings' };
  else {
    content = {
      kind: 'containers',
      containers: buildContainers(spec.containers ?? {}),
      ...(spec.anyList ? { anyList: spec.anyList } : {}),
      ...(spec.txt ? { txt: spec.txt } : {}),
    };
  }
  const def: SectionDef = { id: spec.id, names: spec.names, content, announces: [] };
  const announces: { table: TableName; part: string }[] = [];
  if (content.kind === 'settings') announces.push({ table: 'settings', part: '' });
  for (const target of sectionTargets(def)) {
    for (const tp of targetTables(target)) {
      if (!announces.some((a) => a.table === tp.table && a.part === tp.part)) announces.push(tp);
    }
  }
  return { ...def, announces };
}

export const SECTION_DEFS: readonly SectionDef[] = SECTIONS.map(toDef);

const BY_NAME = new Map<string, SectionDef>();
for (const def of SECTION_DEFS) {
  for (const name of def.names) {
    const key = normKey(name);
    const known = BY_NAME.get(key);
    if (known !== undefined && known !== def) {
      throw new Error(`Section name \`${name}\` is given to both \`${known.id}\` and \`${def.id}\`.`);
    }
    BY_NAME.set(key, def);
  }
}

const CATEGORY_KEYS = new Map(CATEGORIES.map((c) => [normKey(c.name), c]));

/** A known category (top-level key), or `undefined`. */
export function findCategory(key: string): { name: string; eras: readonly Era[] } | undefined {
  return CATEGORY_KEYS.get(normKey(key));
}

/** The section a JSON key or TXT file name (without `.txt`) stands for, or `undefined`. */
export function findSection(name: string): SectionDef | undefined {
  return BY_NAME.get(normKey(name));
}

const favoriteOther = new Map<string, SectionDef>();

/**
 * A section we do not know whose name says it is a list of favorites (`Favorite Podcasts`): read as
 * favorites of kind `other`, so new kinds are not lost.
 */
export function findFavoriteOther(name: string): SectionDef | undefined {
  const key = normKey(name);
  if (!key.startsWith('favorite') || key.length <= 'favorite'.length) return undefined;
  let def = favoriteOther.get(key);
  if (def === undefined) {
    def = toDef({
      id: `favorite_other_${key}`,
      categories: [],
      names: [name],
      anyList: records('favorites', 'other', true),
    });
    favoriteOther.set(key, def);
  }
  return def;
}

/** A container node under a section (or under a deeper container node), by key. */
export function findContainer(
  parent: ReadonlyMap<string, ContainerNode>,
  key: string,
): ContainerNode | undefined {
  return parent.get(normKey(key));
}

/** True for section-level keys that carry no records (`App`, `IsFastLane`). */
export function isIgnoredSectionKey(key: string): boolean {
  return IGNORED_SECTION_KEYS.has(normKey(key));
}

/** The single list target of a container node, when it has exactly one (for `SendGifts: [...]`). */
export function soleTarget(node: ContainerNode): Target | undefined {
  const targets = collectTargets([node], []);
  return targets.length === 1 ? targets[0] : undefined;
}

/**
 * The export era from the top-level keys seen so far: `2026` when any key only 2026 uses is present
 * (`Likes and Favorites`, `Profile And Settings`, `Income+ Wallet`), else `2025` for the
 * `user_data_tiktok.json` keys (`Your Activity`, `Direct Message`, `Post`…), else `2021-2023` for the
 * `user_data.json` keys (`Activity`, `Video`, `Direct Messages`…), else `unknown`. Keys shared by
 * several eras (`Comment`, `Ads and data`…) say nothing.
 */
export function detectEra(topLevelKeys: Iterable<string>): Era | 'unknown' {
  let newest: Era | 'unknown' = 'unknown';
  for (const key of topLevelKeys) {
    const eras = CATEGORY_KEYS.get(normKey(key))?.eras;
    if (eras === undefined) continue;
    if (eras.length === 1 && eras[0] === '2026') return '2026';
    if (!eras.includes('2021-2023')) newest = '2025';
    else if (eras.length === 1 && newest === 'unknown') newest = '2021-2023';
  }
  return newest;
}

/** TXT file names that only one era used (the newer TXT layouts are not told apart). */
export const TXT_ERA_MARKERS: readonly { name: string; era: Era }[] = [
  { name: 'Video Browsing History', era: '2021-2023' },
  { name: 'Videos', era: '2021-2023' },
];

const TXT_MARKERS = new Map(TXT_ERA_MARKERS.map((m) => [normKey(m.name), m.era]));

/** Era of a TXT export from its file names (numbered parts `_1`, `_2` count as their section). */
export function detectTxtEra(fileNames: Iterable<string>): Era | 'unknown' {
  for (const name of fileNames) {
    const base = (name.split('/').pop() ?? name).replace(/\.txt$/i, '').replace(/_\d+$/, '');
    const era = TXT_MARKERS.get(normKey(base));
    if (era !== undefined) return era;
  }
  return 'unknown';
}
