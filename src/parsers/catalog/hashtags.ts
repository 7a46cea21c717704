import { defineTable, records, text } from './define.js';

export const hashtags = defineTable({
  table: 'hashtags',
  schema: 'tiktok',
  columns: { name: text('HashtagName', 'Name', 'Hashtag'), link: text('HashtagLink', 'Link') },
  key: ['name', 'link'],
  sections: [
    {
      id: 'hashtags',
      categories: ['Activity', 'Your Activity'],
      names: ['Hashtag', 'Hashtags'],
      containers: { 'HashtagList|HashTagList': records('hashtags') },
    },
  ],
});
