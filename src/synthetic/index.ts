/**
 * Seeded synthetic TikTok users and their data exports, for tests, benchmarks, the bundled sample and
 * the local API sandbox. Nothing here is real people's data.
 */
export {
  CATEGORIES,
  type Category,
  DEFAULT_RETENTION_TABLES,
  ERAS,
  type Era,
  type ExportFormat,
  type RenderOptions,
} from './context.js';
export { type EvolveOptions, evolve, followerCount, followingCount } from './evolve.js';
export { jsonMemberName } from './json-layout.js';
export {
  createExportStream,
  type ExportMember,
  type ExportStats,
  exportMembers,
  renderJson,
  renderTxt,
  writeExport,
  type ZipOptions,
} from './render.js';
export {
  countsForScale,
  DEFAULT_NOW,
  type EvolveChange,
  type GenerateUserOptions,
  generateUser,
  SEQUENCE_NAMES,
  type SectionCounts,
  type SequenceName,
  type SyntheticUser,
} from './user.js';
