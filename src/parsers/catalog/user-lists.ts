/** followers, following and blocks: lists of accounts with a date. */
import { DATE, defineTable, records, text, ts } from './define.js';

const USERNAME = ['UserName', 'User', 'Name'];

/**
 * An account is identified by its username; a deleted account is written `N/A`, so such an entry is
 * identified by its date instead.
 */
export const followers = defineTable({
  table: 'followers',
  schema: 'tiktok',
  columns: { username: text(...USERNAME), followed_at: ts(...DATE) },
  key: [['username', 'followed_at']],
  sections: [
    {
      id: 'followers',
      categories: ['Activity', 'Your Activity', 'Profile And Settings'],
      names: ['Follower List', 'Follower', 'Followers'],
      containers: { 'FansList|FollowerList|Followers': records('followers') },
    },
  ],
});

export const following = defineTable({
  table: 'following',
  schema: 'tiktok',
  columns: { username: text(...USERNAME), followed_at: ts(...DATE) },
  key: [['username', 'followed_at']],
  sections: [
    {
      id: 'following',
      categories: ['Activity', 'Your Activity', 'Profile And Settings'],
      names: ['Following List', 'Following'],
      containers: { 'Following|FollowingList': records('following') },
    },
  ],
});

export const blocks = defineTable({
  table: 'blocks',
  schema: 'tiktok',
  columns: { username: text(...USERNAME), blocked_at: ts(...DATE) },
  key: [['username', 'blocked_at']],
  sections: [
    {
      id: 'blocks',
      categories: ['App Settings', 'Profile And Settings'],
      names: ['Block', 'Block List', 'Blocked Users'],
      containers: { 'BlockList|Block List': records('blocks') },
    },
  ],
});
