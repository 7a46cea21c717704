/**
 * Names TikTok's API defines that the config also needs: a leaf module, so that the config can
 * validate them without importing the API clients.
 */
export const TIKTOK_API_BASE_URL = 'https://open.tiktokapis.com';
export const TIKTOK_AUTH_BASE_URL = 'https://www.tiktok.com';

/** The eight Data Portability scopes (docs/tiktok-api.md §0). */
export const PORTABILITY_SCOPES = [
  'portability.all.single',
  'portability.all.ongoing',
  'portability.activity.single',
  'portability.activity.ongoing',
  'portability.directmessages.single',
  'portability.directmessages.ongoing',
  'portability.postsandprofile.single',
  'portability.postsandprofile.ongoing',
] as const;
export type PortabilityScope = (typeof PORTABILITY_SCOPES)[number];

/** The data categories an export can be asked for. */
export const CATEGORIES = ['all_data', 'video', 'profile', 'activity', 'direct_message'] as const;
export type Category = (typeof CATEGORIES)[number];
