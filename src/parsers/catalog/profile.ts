import { date, defineTable, int, text, volatile } from './define.js';

/**
 * One profile per account. The table is private (email, phone, birth date); the analysts' view
 * `tiktok.profile` leaves those out.
 */
export const profile = defineTable({
  table: 'profile',
  schema: 'tiktok_private',
  columns: {
    username: text('userName', 'Username'),
    display_name: text('displayName', 'Nickname'),
    bio: text('bioDescription', 'Bio'),
    birth_date: date('birthDate', 'Date of Birth', 'Birthday'),
    email: text('emailAddress', 'Email'),
    phone: text('telephoneNumber', 'PhoneNumber', 'Phone'),
    likes_received: int('likesReceived'),
    follower_count: int('followerCount', 'Followers'),
    following_count: int('followingCount', 'Following'),
    profile_photo: volatile(text('profilePhoto')),
    profile_video: volatile(text('profileVideo')),
    inferred_gender: text('inferredGender'),
    account_region: text('accountRegion', 'Region'),
  },
  // A constant key: one profile per account.
  key: [],
  knownExtra: [
    'instagramLink',
    'youtubeLink',
    'lemon8Link',
    'twitterLink',
    'aiSelf',
    'PlatformInfo',
    'fundraiser',
  ],
  sections: [
    {
      id: 'profile',
      categories: ['Profile', 'Profile And Settings'],
      names: ['Profile Information', 'Profile Info'],
      containers: { 'ProfileMap|Profile Map': { kind: 'record', table: 'profile', part: '' } },
    },
  ],
});
