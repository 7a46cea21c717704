/** The small, non-list parts of an export: settings, profile, live settings, shop, autofill. */
import { DAY, formatBirthDate, formatDate } from './clock.js';
import type { Era } from './context.js';
import { followerCount, followingCount } from './evolve.js';
import { postItem } from './items.js';
import { type JsonValue, RawJson } from './json-stream.js';
import { Rand, streamId } from './prng.js';
import { walk } from './sequence.js';
import type { SyntheticUser } from './user.js';
import { INTERESTS, LANGUAGES } from './vocab.js';

type JsonMap = { [key: string]: JsonValue };

const S_SETTINGS = streamId('settings');
const S_PROFILE = streamId('profile');

/** Sorts a map's keys the way TikTok's exporter does (byte order). */
export function sortedMap(map: JsonMap): JsonMap {
  const out: JsonMap = {};
  for (const key of Object.keys(map).sort()) out[key] = map[key]!;
  return out;
}

/** `App Settings`/`Profile And Settings` → `Settings.SettingsMap` of the era. */
export function settingsMap(u: SyntheticUser, era: Era): JsonMap {
  const r = Rand.of(u.profile.key, S_SETTINGS, 0);
  const onOff = () => (r.chance(0.7) ? 'Enabled' : 'Disabled');
  const who = () =>
    r.weighted([
      ['Everyone', 6],
      ['Friends', 3],
      ['No one', 1],
    ] as const);
  const interests = new Set<string>();
  const n = r.int(0, 5);
  for (let i = 0; i < n; i++) interests.add(r.pick(INTERESTS));
  const videoLanguages = [u.profile.language];
  if (r.chance(0.4)) videoLanguages.push(r.pick(LANGUAGES)[0]);
  const keywords = r.chance(0.2) ? ['spoiler', 'ads'] : [];
  const push = {
    'Desktop notification': r.pick(['Default', 'On', 'Off']),
    'New Comments on My Video': r.pick(['Default', 'On', 'Off']),
    'New Fans': r.pick(['Default', 'On', 'Off']),
    'New Likes on My Video': r.pick(['Default', 'On', 'Off']),
  };
  const common: JsonMap = {
    'Allow DownLoad': who(),
    'Allow Others to Find Me': onOff(),
    'App Language': u.profile.language,
    'Filter Comments': onOff(),
    Interests: [...interests].join('|'),
    'Personalized Ads': onOff(),
    'Private Account': r.chance(0.2) ? 'Enabled' : 'Disabled',
    'Push Notification': push,
    'Web Language': 'N/A',
    'Who Can Duet With Me': who(),
    'Who Can Post Comments': who(),
    'Who Can Send Me Message': who(),
    'Who Can Stitch with your videos': who(),
    'Who Can View Videos I Liked': r.pick(['Myself', 'Everyone']),
  };
  if (era === '2021-2023') {
    return sortedMap({
      ...common,
      'Ads Based on Data Received from Partners': onOff(),
      'Content Preferences': {
        'Keyword filters for videos in Following feed': keywords.join(', '),
        'Keyword filters for videos in For You feed': '',
        'Video Languages Preferences': videoLanguages,
      },
    });
  }
  const map: JsonMap = {
    ...common,
    'Allow Reuse of Content': who(),
    'Content Preferences': {
      'Keyword filters for videos in Following feed': keywords,
      'Keyword filters for videos in For You feed': [],
      'Video Languages Preferences': videoLanguages,
    },
    'Family Content Preferences': {},
    'Suggest your account to Facebook friends': r.chance(0.5) ? 'enabled' : 'disabled',
    'Suggest your account to contacts': r.chance(0.5) ? 'enabled' : 'disabled',
    'Suggest your account to people who open or send links to you': 'enabled',
  };
  if (era === '2026') {
    map['Autofill contact information'] = r.chance(0.5) ? 'On' : 'Off';
    map['Autofill payment information'] = 'Off';
    map.FamilyPairing = [{ FPAccountType: 'N/A', LinkedAccountUsername: 'N/A' }];
    map.ScreenTime = [
      {
        DailyScreenTimeLimit: r.pick(['N/A', '40 minutes', '60 minutes', '2 hours']),
        DailyScreenTimeToggleStatus: r.pick(['On', 'Off']),
        SleepHoursDuration: r.pick(['N/A', '23:00-07:00']),
        SleepHoursToggleStatus: r.pick(['On', 'Off']),
        WeeklyScreenTimeUpdatesToggleStatus: r.pick(['On', 'Off']),
      },
    ];
    // Verbatim from real 2026 exports, malformed key included.
    map['Who can see your following list::'] = who();
  }
  return sortedMap(map);
}

function isNestedMap(v: JsonValue): v is JsonMap {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    !(v instanceof RawJson) &&
    Object.keys(v).length > 0
  );
}

/**
 * Leaves of a settings map with their ` / `-joined key paths: strings as they are, lists and empty
 * maps as JSON text. This is the row count of the `settings` table for the export.
 */
export function settingsLeaves(map: JsonMap, prefix = ''): [string, string][] {
  const out: [string, string][] = [];
  for (const [key, value] of Object.entries(map)) {
    const path = prefix ? `${prefix} / ${key}` : key;
    if (isNestedMap(value)) out.push(...settingsLeaves(value, path));
    else out.push([path, typeof value === 'string' ? value : JSON.stringify(value)]);
  }
  return out;
}

/** `likesReceived`: likes on the listed posts plus others. */
export function likesReceived(u: SyntheticUser): number {
  let sum = u.profile.otherLikes;
  for (const c of walk(u.sequences.posts)) sum += postItem(u, c).likes;
  return sum;
}

function avatarUrl(u: SyntheticUser): string {
  const r = Rand.of(u.profile.key, S_PROFILE, 1);
  return (
    `https://p16-sign-va.tiktokcdn.com/tos-maliva-avt-0068/${r.hex(32)}~tplv-tiktokx-cropcenter:1080:1080.jpeg` +
    `?dr=14579&refresh_token=${r.hex(8)}&x-expires=${u.now + 2 * DAY}&x-signature=${r.hex(28)}%3D&idc=no1a`
  );
}

/** `Profile … ProfileMap` of the era (keys sorted, as TikTok writes this map). */
export function profileMap(u: SyntheticUser, era: Era): JsonMap {
  const p = u.profile;
  const r = Rand.of(p.key, S_PROFILE, 0);
  const platformInfo: JsonValue[] = r.chance(0.5)
    ? [{ Description: '', Name: p.displayName, Platform: 'Instagram', 'Profile Photo': avatarUrl(u) }]
    : [];
  const map: JsonMap = {
    PlatformInfo: platformInfo,
    bioDescription: p.bio,
    birthDate: formatBirthDate(p.birth),
    emailAddress: p.email,
    likesReceived: String(likesReceived(u)),
    profilePhoto: avatarUrl(u),
    profileVideo: 'None',
    telephoneNumber: p.phone || 'None',
    userName: u.username,
  };
  if (era !== '2021-2023') {
    Object.assign(map, {
      displayName: p.displayName,
      followerCount: followerCount(u),
      followingCount: followingCount(u),
      inferredGender: p.inferredGender,
      instagramLink: platformInfo.length > 0 ? `https://www.instagram.com/${u.username}` : '',
      lemon8Link: '',
      youtubeLink: '',
    });
  }
  if (era === '2026') {
    Object.assign(map, { accountRegion: p.region, aiSelf: '', fundraiser: 'N/A' });
  }
  return sortedMap(map);
}

export function autofill(): JsonMap {
  const keys = [
    'PhoneNumber',
    'Email',
    'FirstName',
    'LastName',
    'Address',
    'ZipCode',
    'Unit',
    'City',
    'State',
    'Country',
  ];
  return Object.fromEntries(keys.map((k) => [k, 'N/A']));
}

/** `Go Live Settings.SettingsMap` (2025+). Its key names are not documented; these are plausible. */
export function goLiveSettings(): JsonMap {
  return sortedMap({
    'Allow gifts': 'On',
    'Allow viewers to request to go LIVE with you': 'On',
    'Comment filter': 'N/A',
    'Filter keywords': [],
    'LIVE replay': 'Off',
    'LIVE moderators': 'N/A',
    'Muted viewers': null,
  });
}

export function watchLiveSettings(u: SyntheticUser): JsonMap {
  return {
    WatchLiveSettingsMap: { app: 'On', web: 'On' },
    MostRecentModificationTimeInApp: formatDate(u.createdAt + 3 * DAY),
    MostRecentModificationTimeInWeb: 'N/A',
  };
}

/** Ad interest categories (`AdInterestCategories`), a comma-separated string or `""`. */
export function adInterests(u: SyntheticUser): string {
  const r = Rand.of(u.profile.key, S_PROFILE, 2);
  if (r.chance(0.3)) return '';
  const set = new Set<string>();
  const n = r.int(1, 4);
  for (let i = 0; i < n; i++) set.add(r.pick(INTERESTS));
  return [...set].join(', ');
}
