/**
 * Sections that are one map of named values (Activity Summary, the LIVE settings): one row per leaf,
 * the part naming the section. Private maps (Autofill) go to {@link privateValues}.
 */
import { defineTable, type Target, text } from './define.js';

const values = (part: string, table = 'section_values'): Target => ({ kind: 'values', table, part });

export const sectionValues = defineTable({
  table: 'section_values',
  schema: 'tiktok',
  part: 'section',
  columns: { key: text(), value: text() },
  key: ['key'],
  extra: false,
  sections: [
    {
      id: 'activity_summary',
      categories: ['Your Activity'],
      names: ['Activity Summary'],
      containers: { 'ActivitySummaryMap|ActivitySummary': values('activity_summary') },
      txt: values('activity_summary'),
    },
    {
      id: 'go_live_settings',
      categories: ['Tiktok Live', 'TikTok Live'],
      names: ['Go Live Settings'],
      containers: { 'SettingsMap|GoLiveSettingsMap': values('go_live_settings') },
      txt: values('go_live_settings'),
    },
    {
      id: 'watch_live_settings',
      categories: ['Tiktok Live', 'TikTok Live'],
      names: ['Watch Live Settings'],
      containers: { 'WatchLiveSettingsMap|SettingsMap': values('watch_live_settings') },
      txt: values('watch_live_settings'),
    },
  ],
});

export const privateValues = defineTable({
  table: 'private_values',
  schema: 'tiktok_private',
  part: 'section',
  columns: { key: text(), value: text() },
  key: ['key'],
  extra: false,
  sections: [
    {
      id: 'autofill',
      categories: ['Profile', 'Profile And Settings'],
      names: ['Autofill', 'Auto Fill'],
      containers: { 'AutofillMap|Autofill|AutoFill|AutoFillMap': values('autofill', 'private_values') },
      txt: values('autofill', 'private_values'),
    },
  ],
});
