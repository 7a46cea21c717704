import { videoIdFromLink } from '../values.js';
import { DATE, defineTable, derived, records, text, ts } from './define.js';

export const comments = defineTable({
  table: 'comments',
  schema: 'tiktok',
  columns: {
    commented_at: ts(...DATE, 'CommentTime', 'CreateTime'),
    comment: text('Comment', 'CommentContent', 'Content', 'Text'),
    photo: text('Photo', 'Image'),
    video: text('Video'),
    sticker: text('Sticker'),
    // 2026 writes the same link under several keys; the first with a value is the column.
    url: text('url', 'Link', 'originalPostUrl', 'original post link'),
    video_id: derived('bigint', (row) => videoIdFromLink(row.url ?? null)),
  },
  key: ['commented_at', 'comment', 'url'],
  sections: [
    {
      id: 'comments',
      categories: ['Comment', 'Activity'],
      names: ['Comments', 'Comment History'],
      containers: { 'CommentsList|CommentList': records('comments') },
    },
  ],
});
