import { videoIdFromLink } from '../values.js';
import { DATE, defineTable, derived, records, text, ts } from './define.js';

export const likes = defineTable({
  table: 'likes',
  schema: 'tiktok',
  columns: {
    liked_at: ts(...DATE, 'LikeTime'),
    video_id: derived('bigint', (row) => videoIdFromLink(row.link ?? null)),
    link: text('Link', 'VideoLink', 'Video Link', 'Url'),
  },
  key: ['liked_at', ['video_id', 'link']],
  sections: [
    {
      id: 'likes',
      categories: ['Activity', 'Your Activity', 'Likes and Favorites'],
      names: ['Like List', 'Likes', 'Liked Videos'],
      containers: { 'ItemFavoriteList|LikeList|ItemLikeList': records('likes') },
    },
  ],
});
