import { describe, expect, it } from 'vitest';
import {
  detectEra,
  detectTxtEra,
  findCategory,
  findFavoriteOther,
  findSection,
  SECTION_DEFS,
} from '../../src/parsers/sections.js';

describe('sections', () => {
  it('detects each era from its top-level keys', () => {
    expect(
      detectEra([
        'Activity',
        'Ads and data',
        'App Settings',
        'Comment',
        'Direct Messages',
        'Profile',
        'Tiktok Live',
        'Tiktok Shopping',
        'Video',
      ]),
    ).toBe('2021-2023');
    expect(
      detectEra([
        'Ads and data',
        'App Settings',
        'Comment',
        'Direct Message',
        'Income Plus Wallet Transactions',
        'Location Review',
        'Post',
        'Profile',
        'TikTok Shop',
        'Tiktok Live',
        'Your Activity',
      ]),
    ).toBe('2025');
    expect(
      detectEra([
        'Comment',
        'Direct Message',
        'Income+ Wallet',
        'Likes and Favorites',
        'Location Review',
        'Post',
        'Profile And Settings',
        'TikTok Live',
        'TikTok Shop',
        'Your Activity',
      ]),
    ).toBe('2026');
  });

  it('says unknown when the keys tell nothing', () => {
    expect(detectEra([])).toBe('unknown');
    expect(detectEra(['Comment', 'Ads and data'])).toBe('unknown');
    expect(detectEra(['Something Else'])).toBe('unknown');
  });

  it('recognizes the old TXT layout by its file names', () => {
    expect(detectTxtEra(['T/Activity/Video Browsing History.txt'])).toBe('2021-2023');
    expect(detectTxtEra(['T/Activity/Browsing History.txt'])).toBe('unknown');
  });

  it('finds sections by any era name, case and spacing ignored', () => {
    expect(findSection('Video Browsing History')?.id).toBe('watch_history');
    expect(findSection('Watch History')?.id).toBe('watch_history');
    expect(findSection('browsing history')?.id).toBe('watch_history');
    expect(findSection('Follower List')?.id).toBe('followers');
    expect(findSection('Follower')?.id).toBe('followers');
    expect(findSection('Block')?.id).toBe('blocks');
    expect(findSection('BlockList')?.id).toBe('blocks');
    expect(findSection('Videos')?.id).toBe('posts');
    expect(findSection('Posts')?.id).toBe('posts');
    expect(findSection('Profile Information')?.id).toBe('profile');
    expect(findSection('Profile Info')?.id).toBe('profile');
    expect(findCategory('TIKTOK LIVE')?.name).toBe('Tiktok Live');
    expect(findCategory('Income+ Wallet')?.name).toBe('Income+ Wallet');
  });

  it('announces both DM tables for a chat section and both purchase kinds for purchases', () => {
    const dm = findSection('Chat History')!;
    expect(dm.announces).toEqual([
      { table: 'dm_conversations', part: 'direct' },
      { table: 'dm_messages', part: 'direct' },
    ]);
    expect(findSection('Purchases')!.announces).toEqual([
      { table: 'purchases', part: 'send_gift' },
      { table: 'purchases', part: 'buy_gift' },
    ]);
    expect(findSection('Watch Live History')!.announces).toEqual([
      { table: 'live_sessions', part: 'watch_live' },
      { table: 'live_comments', part: '' },
    ]);
  });

  it('reads an unknown Favorite section as favorites of kind other', () => {
    expect(findFavoriteOther('Favorite Podcasts')?.announces).toEqual([
      { table: 'favorites', part: 'other' },
    ]);
    expect(findFavoriteOther('Podcasts')).toBeUndefined();
  });

  it('gives every section a unique id', () => {
    const ids = SECTION_DEFS.map((d) => d.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
