import { videoIdFromLink } from '../values.js';
import { DATE, defineTable, derived, records, text, ts } from './define.js';

export const watchHistory = defineTable({
  table: 'watch_history',
  schema: 'tiktok',
  columns: {
    watched_at: ts(...DATE, 'WatchTime', 'Watched At'),
    video_id: derived('bigint', (row) => videoIdFromLink(row.link ?? null)),
    link: text('Link', 'VideoLink', 'Video Link', 'Url'),
    title: text('Title', 'VideoTitle'),
  },
  key: ['watched_at', ['video_id', 'link']],
  sections: [
    {
      id: 'watch_history',
      categories: ['Activity', 'Your Activity'],
      names: ['Video Browsing History', 'Watch History', 'Browsing History'],
      containers: { 'VideoList|Video List': records('watch_history') },
    },
  ],
});
