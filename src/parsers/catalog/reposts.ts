import { videoIdFromLink } from '../values.js';
import { DATE, defineTable, derived, records, text, ts } from './define.js';

export const reposts = defineTable({
  table: 'reposts',
  schema: 'tiktok',
  columns: {
    reposted_at: ts(...DATE, 'RepostTime', 'CreateTime'),
    video_id: derived('bigint', (row) => videoIdFromLink(row.link ?? null)),
    link: text('Link', 'VideoLink', 'Url'),
  },
  key: ['reposted_at', ['video_id', 'link']],
  sections: [
    {
      id: 'reposts',
      categories: ['Your Activity'],
      names: ['Reposts', 'Repost', 'Repost History'],
      containers: { 'RepostList|RepostsList|RepostHistoryList': records('reposts') },
      anyList: records('reposts', '', true),
    },
  ],
});
