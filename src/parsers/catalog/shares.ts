import { videoIdFromLink } from '../values.js';
import { DATE, defineTable, derived, records, text, ts } from './define.js';

export const shares = defineTable({
  table: 'shares',
  schema: 'tiktok',
  columns: {
    shared_at: ts(...DATE),
    shared_content: text('SharedContent', 'Content'),
    link: text('Link', 'Url'),
    method: text('Method', 'ShareMethod'),
    video_id: derived('bigint', (row) => videoIdFromLink(row.link ?? null)),
  },
  key: ['shared_at', 'shared_content', 'link', 'method'],
  sections: [
    {
      id: 'shares',
      categories: ['Activity', 'Your Activity'],
      names: ['Share History', 'Shares'],
      containers: { 'ShareHistoryList|ShareList': records('shares') },
    },
  ],
});
