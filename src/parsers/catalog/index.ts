/**
 * Every table the export fills, each declared once in its own file of this folder (columns, key,
 * part and the sections of every era that feed it), plus the sections kept raw. Adding a section is
 * one declaration here and one migration that creates its table; a test checks the two agree.
 */
import { adInterests, adVisits, offTikTokActivity } from './ads.js';
import { comments } from './comments.js';
import type { SectionSpec, TableDef, Value } from './define.js';
import { dmConversations, dmMessages } from './direct-messages.js';
import { favorites } from './favorites.js';
import { hashtags } from './hashtags.js';
import { likes } from './likes.js';
import { liveComments, liveSessions } from './live.js';
import { logins } from './logins.js';
import { locationReviews, locations } from './places.js';
import { posts } from './posts.js';
import { profile } from './profile.js';
import { purchases } from './purchases.js';
import { reposts } from './reposts.js';
import { searches } from './searches.js';
import { privateValues, sectionValues } from './section-values.js';
import { settings } from './settings.js';
import { shares } from './shares.js';
import {
  paymentMethods,
  productBrowsing,
  shopActivity,
  shopAddresses,
  shopOrders,
  shopVouchers,
} from './shop.js';
import { devices } from './status.js';
import { UNMODELED } from './unmodeled.js';
import { blocks, followers, following } from './user-lists.js';
import { watchHistory } from './watch-history.js';

export type { ColumnDef, ColumnType, SectionSpec, TableDef, Target, Value } from './define.js';

export const CATALOG = {
  watch_history: watchHistory,
  likes,
  favorites,
  searches,
  shares,
  comments,
  followers,
  following,
  blocks,
  logins,
  posts,
  profile,
  dm_conversations: dmConversations,
  dm_messages: dmMessages,
  live_sessions: liveSessions,
  live_comments: liveComments,
  purchases,
  settings,
  hashtags,
  off_tiktok_activity: offTikTokActivity,
  devices,
  reposts,
  ad_visits: adVisits,
  ad_interests: adInterests,
  product_browsing: productBrowsing,
  shop_orders: shopOrders,
  shop_vouchers: shopVouchers,
  shop_activity: shopActivity,
  shop_addresses: shopAddresses,
  payment_methods: paymentMethods,
  location_reviews: locationReviews,
  locations,
  section_values: sectionValues,
  private_values: privateValues,
} as const;

export type Catalog = typeof CATALOG;
export type TableName = keyof Catalog;

/** The row a table receives from the parsers: one value per column, plus `extra` when it has one. */
export type RowOf<D extends TableDef> = { -readonly [K in keyof D['columns']]: Value } & { extra?: Value };

export type TableRows = { [T in TableName]: RowOf<Catalog[T]> };

export const TABLE_NAMES = Object.keys(CATALOG) as TableName[];

for (const [name, def] of Object.entries(CATALOG)) {
  if (def.table !== name) throw new Error(`Catalog entry \`${name}\` declares table \`${def.table}\`.`);
}

/** Every section of the catalog: the tables' sections, then the ones kept raw. */
export const SECTIONS: readonly SectionSpec[] = [
  ...Object.values(CATALOG).flatMap((def: TableDef) => def.sections),
  ...UNMODELED,
];

export function tableDef(table: TableName): TableDef {
  return CATALOG[table];
}

/** True when a record of `table` has no value to tell it from others (see {@link TableDef.key}). */
export function unkeyable(def: TableDef, row: Readonly<Record<string, Value>>): boolean {
  if (def.key.length === 0) return false;
  for (const entry of def.key) {
    if (typeof entry === 'string') {
      if (row[entry] !== null && row[entry] !== undefined) return false;
    } else {
      for (const column of entry) if (row[column] !== null && row[column] !== undefined) return false;
    }
  }
  return true;
}
