/**
 * Sections that have no table: their shape has never been seen with data (or they hold only a
 * notice), so they are kept whole in `tiktok_private.raw_sections` — nothing is lost, and a later
 * version can model them from the kept archives (`tiktok-sync reprocess`).
 */
import type { SectionSpec } from './define.js';

const NEVER_SEEN = 'no export seen so far has data in it, so its fields are unknown';

const raw = (id: string, categories: string[], names: string[], reason = NEVER_SEEN): SectionSpec => ({
  id,
  categories,
  names,
  raw: reason,
});

export const UNMODELED: readonly SectionSpec[] = [
  raw('donation', ['Your Activity'], ['Donation', 'Donations']),
  raw('fundraiser', ['Your Activity'], ['Fundraiser', 'Fundraisers']),
  raw('stickers', ['Your Activity'], ['Stickers']),
  raw('mini_drama', ['Your Activity'], ['Mini Drama Watch History']),
  raw(
    'partner_ads',
    ['Ads and data'],
    ['Ads Based On Data Received From Partners'],
    'it names advertisers and data partners in free-form lists whose shape varies',
  ),
  raw('third_party_usage', ['Ads and data'], ['Usage Data From Third-Party Apps And Websites']),
  raw(
    'instant_form_ads',
    ['Ads and data', 'Your Activity'],
    ['Instant Form Ads Responses'],
    'form responses hold whatever the advertiser asked (often contact details); kept private and whole',
  ),
  raw('ai_moji', ['Profile', 'Profile And Settings'], ['AI-Moji', 'AI Moji']),
  raw('ai_self', ['Profile', 'Profile And Settings'], ['AISelfImage', 'AI Self Image', 'AI Self']),
  raw('profile_views', ['Profile And Settings'], ['ProfileViews', 'Profile Views']),
  raw('stories', ['Post'], ['Story', 'Stories']),
  raw(
    'third_party_platforms',
    ['App Settings'],
    ['UserThirdPlatformInformation', 'User Third Platform Information'],
    'linked accounts of other platforms; the profile keeps them in `extra` already',
  ),
];
