import { DATE, defineTable, records, text, ts } from './define.js';

export const searches = defineTable({
  table: 'searches',
  schema: 'tiktok',
  columns: {
    searched_at: ts(...DATE),
    term: text('SearchTerm', 'Term', 'Search', 'Query', 'Keyword'),
  },
  key: ['searched_at', 'term'],
  sections: [
    {
      id: 'searches',
      categories: ['Activity', 'Your Activity'],
      names: ['Search History', 'Searches'],
      containers: { 'SearchList|SearchHistoryList': records('searches') },
    },
  ],
});
