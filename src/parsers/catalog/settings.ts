import { defineTable, text } from './define.js';

/** App settings, one row per leaf of the settings map. */
export const settings = defineTable({
  table: 'settings',
  schema: 'tiktok',
  columns: { key: text(), value: text() },
  key: ['key'],
  extra: false,
  sections: [
    {
      id: 'settings',
      categories: ['App Settings', 'Profile And Settings'],
      names: ['Settings'],
      settings: true,
    },
  ],
});
