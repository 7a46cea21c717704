/** Advertising: what TikTok learned off TikTok, the ads visited, and the interests it inferred. */
import { defineTable, records, text, ts } from './define.js';

const OFF_TIKTOK = 'off_tiktok_activity';

export const offTikTokActivity = defineTable({
  table: OFF_TIKTOK,
  schema: 'tiktok',
  columns: {
    happened_at: ts('TimeStamp', 'Date', 'Time', 'CreateTime'),
    source: text('Source', 'App', 'Advertiser'),
    event: text('Event', 'EventName', 'Action'),
  },
  key: ['happened_at', 'source', 'event'],
  sections: [
    {
      id: OFF_TIKTOK,
      // 2026 writes it under both Your Activity and Profile And Settings; the second copy is kept raw.
      categories: ['Ads and data', 'Your Activity', 'Profile And Settings'],
      names: ['Off TikTok Activity'],
      containers: { 'OffTikTokActivityDataList|OffTikTokActivityList': records(OFF_TIKTOK) },
      anyList: records(OFF_TIKTOK, '', true),
    },
  ],
});

export const adVisits = defineTable({
  table: 'ad_visits',
  schema: 'tiktok',
  columns: {
    visited_at: ts('CreateTime', 'Date', 'Time', 'VisitTime'),
    ad_title: text('AdTitle', 'Title'),
    ad_link: text('AdLink', 'Link', 'Url'),
  },
  key: ['visited_at', 'ad_title', 'ad_link'],
  sections: [
    {
      id: 'ad_visits',
      categories: ['Your Activity'],
      names: ['Ads Visit History', 'Ad Visit History'],
      containers: { 'AdsVisitHistoryList|AdVisitHistoryList': records('ad_visits') },
      anyList: records('ad_visits', '', true),
    },
  ],
});

export const adInterests = defineTable({
  table: 'ad_interests',
  schema: 'tiktok',
  columns: { interest: text() },
  key: ['interest'],
  extra: false,
  sections: [
    {
      id: 'ad_interests',
      categories: ['Ads and data', 'Your Activity'],
      names: ['Ad Interests'],
      containers: {
        'AdInterestCategories|AdInterests': {
          kind: 'items',
          table: 'ad_interests',
          part: '',
          column: 'interest',
        },
      },
      txt: { kind: 'items', table: 'ad_interests', part: '', column: 'interest' },
    },
  ],
});
