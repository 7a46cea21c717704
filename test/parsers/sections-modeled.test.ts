import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CATALOG, type TableDef, type TableName } from '../../src/parsers/catalog/index.js';
import { parseJsonExport } from '../../src/parsers/json-export.js';
import type { ParseEvent, RecordEvent, RefusedEvent, WarningEvent } from '../../src/parsers/records.js';
import { parseTxtExport } from '../../src/parsers/txt-export.js';

async function parseJson(doc: unknown): Promise<ParseEvent[]> {
  const events: ParseEvent[] = [];
  for await (const e of parseJsonExport(
    Readable.from([Buffer.from(JSON.stringify(doc))]),
    'user_data_tiktok.json',
  ))
    events.push(e);
  return events;
}

async function parseTxt(file: string, text: string): Promise<ParseEvent[]> {
  const events: ParseEvent[] = [];
  for await (const e of parseTxtExport(Readable.from([Buffer.from(text)]), `TikTok_Data_1/Tiktok/${file}`))
    events.push(e);
  return events;
}

const rows = (events: ParseEvent[], table: string, part = '') =>
  events
    .filter((e): e is RecordEvent => e.kind === 'record' && e.table === table && e.part === part)
    .map((e) => e.row);
const warnings = (events: ParseEvent[]) => events.filter((e): e is WarningEvent => e.kind === 'warning');

/**
 * Each section that used to be kept only raw, under the categories each era puts it in (2021–23
 * `user_data.json`, late 2025, 2026), with the rows it must give.
 */
interface Case {
  section: string;
  eras: { era: string; category: string }[];
  /** The section's value in the export. */
  value: unknown;
  table: TableName;
  part?: string;
  expected: Record<string, unknown>[];
  /** The same records as a TXT file, when TXT exports have the section (and its rows, if others). */
  txt?: { file: string; text: string; expected?: Record<string, unknown>[] };
}

const OFF = {
  OffTikTokActivityDataList: [
    { TimeStamp: '2024-03-01 10:00:00', Source: 'shop.example', Event: 'Purchase' },
    { TimeStamp: '2024-03-01 10:05:00', Source: 'news.example', Event: 'ViewContent' },
  ],
};

const CASES: Case[] = [
  {
    section: 'Off TikTok Activity',
    eras: [
      { era: '2021-2023', category: 'Ads and data' },
      { era: '2025', category: 'Ads and data' },
      { era: '2026', category: 'Your Activity' },
    ],
    value: OFF,
    table: 'off_tiktok_activity',
    expected: [
      { happened_at: '2024-03-01T10:00:00Z', source: 'shop.example', event: 'Purchase', extra: null },
      { happened_at: '2024-03-01T10:05:00Z', source: 'news.example', event: 'ViewContent', extra: null },
    ],
    txt: {
      file: 'Ads and data/Off TikTok Activity.txt',
      text: 'TimeStamp: 2024-03-01 10:00:00\r\nSource: shop.example\r\nEvent: Purchase\r\n\r\nTimeStamp: 2024-03-01 10:05:00\r\nSource: news.example\r\nEvent: ViewContent\r\n',
    },
  },
  {
    section: 'Status',
    eras: [
      { era: '2021-2023', category: 'Activity' },
      { era: '2025', category: 'Your Activity' },
      { era: '2026', category: 'Your Activity' },
    ],
    value: {
      'Status List': [
        {
          Resolution: '1170*2532',
          'App Version': '34.1.0',
          IDFA: 'N/A',
          UID: '7000000000000000001',
          'Web ID': 'w1',
        },
      ],
    },
    table: 'devices',
    expected: [
      {
        resolution: '1170*2532',
        app_version: '34.1.0',
        idfa: null,
        gaid: null,
        android_id: null,
        idfv: null,
        uid: '7000000000000000001',
        did: null,
        web_id: 'w1',
        extra: '{"IDFA":"N/A"}',
      },
    ],
    txt: {
      file: 'Activity/Status.txt',
      text: 'Resolution: 1170*2532\nApp Version: 34.1.0\nIDFA: N/A\nUID: 7000000000000000001\nWeb ID: w1\n',
    },
  },
  {
    section: 'Reposts',
    eras: [{ era: '2026', category: 'Your Activity' }],
    value: {
      RepostList: [
        { Date: '2026-01-02 03:04:05', Link: 'https://www.tiktokv.com/share/video/7548000000000000001/' },
      ],
    },
    table: 'reposts',
    expected: [
      {
        reposted_at: '2026-01-02T03:04:05Z',
        video_id: '7548000000000000001',
        link: 'https://www.tiktokv.com/share/video/7548000000000000001/',
        extra: null,
      },
    ],
  },
  {
    section: 'Ads Visit History',
    eras: [{ era: '2026', category: 'Your Activity' }],
    value: {
      AdsVisitHistoryList: [
        { CreateTime: '2026-02-01 09:00:00', AdTitle: 'Shoes', AdLink: 'https://ads.example/1' },
      ],
    },
    table: 'ad_visits',
    expected: [
      {
        visited_at: '2026-02-01T09:00:00Z',
        ad_title: 'Shoes',
        ad_link: 'https://ads.example/1',
        extra: null,
      },
    ],
  },
  {
    section: 'Ad Interests',
    eras: [
      { era: '2021-2023', category: 'Ads and data' },
      { era: '2025', category: 'Ads and data' },
      { era: '2026', category: 'Your Activity' },
    ],
    value: { AdInterestCategories: 'Food & Drink|Travel| Games |Travel' },
    table: 'ad_interests',
    expected: [{ interest: 'Food & Drink' }, { interest: 'Travel' }, { interest: 'Games' }],
    txt: {
      file: 'Ads and data/Ad Interests.txt',
      text: 'Ad Interest Categories: Food & Drink|Travel| Games |Travel\n',
    },
  },
  {
    section: 'Product Browsing History',
    eras: [
      { era: '2021-2023', category: 'Tiktok Shopping' },
      { era: '2025', category: 'TikTok Shop' },
      { era: '2026', category: 'TikTok Shop' },
    ],
    value: {
      ProductBrowsingHistories: [
        { Date: '2025-05-01 12:00:00', ProductName: 'Mug', ShopName: 'Cups Ltd', Price: '£5' },
      ],
    },
    table: 'product_browsing',
    expected: [
      {
        browsed_at: '2025-05-01T12:00:00Z',
        product_name: 'Mug',
        shop_name: 'Cups Ltd',
        price: '£5',
        link: null,
        extra: null,
      },
    ],
    txt: {
      file: 'TikTok Shopping/Product Browsing History.txt',
      text: 'Date: 2025-05-01 12:00:00\nProduct Name: Mug\nShop Name: Cups Ltd\nPrice: £5\n',
    },
  },
  {
    section: 'Order History',
    eras: [
      { era: '2021-2023', category: 'Tiktok Shopping' },
      { era: '2025', category: 'TikTok Shop' },
      { era: '2026', category: 'TikTok Shop' },
    ],
    value: {
      OrderHistories: [
        {
          OrderTime: '2025-05-02 12:00:00',
          OrderId: '5770001',
          ProductName: 'Mug',
          Amount: '£5',
          OrderStatus: 'Delivered',
        },
      ],
    },
    table: 'shop_orders',
    expected: [
      {
        ordered_at: '2025-05-02T12:00:00Z',
        order_id: '5770001',
        product_name: 'Mug',
        shop_name: null,
        quantity: null,
        amount: '£5',
        status: 'Delivered',
        extra: null,
      },
    ],
  },
  {
    section: 'Vouchers',
    eras: [
      { era: '2025', category: 'TikTok Shop' },
      { era: '2026', category: 'TikTok Shop' },
    ],
    value: {
      Vouchers: [
        { VoucherName: '10% off', Discount: '10%', ExpireTime: '2025-12-31 23:59:59', Status: 'Unused' },
      ],
    },
    table: 'shop_vouchers',
    expected: [
      {
        name: '10% off',
        code: null,
        discount: '10%',
        valid_from: null,
        valid_until: '2025-12-31T23:59:59Z',
        status: 'Unused',
        shop_name: null,
        extra: null,
      },
    ],
  },
  {
    section: 'Shopping Cart List',
    eras: [{ era: '2025', category: 'TikTok Shop' }],
    value: { ShoppingCart: [{ Date: '2025-05-03 08:00:00', ProductName: 'Lamp', Price: '£20' }] },
    table: 'shop_activity',
    part: 'cart',
    expected: [
      {
        at: '2025-05-03T08:00:00Z',
        product_name: 'Lamp',
        shop_name: null,
        amount: '£20',
        status: null,
        content: null,
        extra: null,
      },
    ],
  },
  {
    section: 'Saved Address Information',
    eras: [
      { era: '2021-2023', category: 'Tiktok Shopping' },
      { era: '2026', category: 'TikTok Shop' },
    ],
    value: {
      SavedAddress: [
        { Name: 'A. Person', PhoneNumber: '+44 20 0000 0000', Address: '1 Example St', ZipCode: 'EX1 1AA' },
      ],
    },
    table: 'shop_addresses',
    expected: [
      {
        name: 'A. Person',
        phone: '+44 20 0000 0000',
        address: '1 Example St',
        city: null,
        region: null,
        postal_code: 'EX1 1AA',
        country: null,
        extra: null,
      },
    ],
  },
  {
    section: 'Location Reviews',
    eras: [
      { era: '2025', category: 'Location Review' },
      { era: '2026', category: 'Location Review' },
    ],
    value: {
      ReviewsList: [{ Date: '2025-06-01 18:00:00', PoiName: 'Café Example', Rating: '5', Review: 'Lovely' }],
    },
    table: 'location_reviews',
    expected: [
      {
        reviewed_at: '2025-06-01T18:00:00Z',
        place: 'Café Example',
        rating: '5',
        review: 'Lovely',
        link: null,
        extra: null,
      },
    ],
  },
  {
    section: 'POI Review',
    eras: [{ era: '2025', category: 'Activity' }],
    value: { ReviewsList: [{ Date: '2025-01-01 18:00:00', PoiName: 'Park', Review: 'Green' }] },
    table: 'location_reviews',
    expected: [
      {
        reviewed_at: '2025-01-01T18:00:00Z',
        place: 'Park',
        rating: null,
        review: 'Green',
        link: null,
        extra: null,
      },
    ],
  },
  {
    section: 'Most Recent Location Data',
    eras: [
      { era: '2021-2023', category: 'Activity' },
      { era: '2025', category: 'Your Activity' },
      { era: '2026', category: 'Your Activity' },
    ],
    value: { LocationData: { Date: '2025-07-01 07:00:00', GpsData: '52.5200, 13.4050', LastRegion: 'DE' } },
    table: 'locations',
    expected: [
      { recorded_at: '2025-07-01T07:00:00Z', gps: '52.5200, 13.4050', last_region: 'DE', extra: null },
    ],
    txt: {
      file: 'Activity/Most Recent Location Data.txt',
      text: 'Date: 2025-07-01 07:00:00\nGps Data: 52.5200, 13.4050\nLast Region: DE\n',
    },
  },
  {
    section: 'Activity Summary',
    eras: [{ era: '2026', category: 'Your Activity' }],
    value: {
      ActivitySummaryMap: {
        videosCommentedOnSinceAccountRegistration: 12,
        videosSharedSinceAccountRegistration: 3,
        videosWatchedToTheEndSinceAccountRegistration: 4321,
        note: 'Counts since registration.',
      },
    },
    table: 'section_values',
    part: 'activity_summary',
    expected: [
      { key: 'videosCommentedOnSinceAccountRegistration', value: '12' },
      { key: 'videosSharedSinceAccountRegistration', value: '3' },
      { key: 'videosWatchedToTheEndSinceAccountRegistration', value: '4321' },
      { key: 'note', value: 'Counts since registration.' },
    ],
  },
  {
    section: 'Go Live Settings',
    eras: [
      { era: '2021-2023', category: 'Tiktok Live' },
      { era: '2025', category: 'Tiktok Live' },
      { era: '2026', category: 'TikTok Live' },
    ],
    value: { SettingsMap: { 'Allow Gifts': 'Enabled', 'Mute Words': ['a', 'b'] } },
    table: 'section_values',
    part: 'go_live_settings',
    expected: [
      { key: 'Allow Gifts', value: 'Enabled' },
      { key: 'Mute Words', value: '["a","b"]' },
    ],
    txt: {
      file: 'TikTok Live/Go Live settings.txt',
      text: 'Allow Gifts: Enabled\n',
      expected: [{ key: 'Allow Gifts', value: 'Enabled' }],
    },
  },
  {
    section: 'Watch Live Settings',
    eras: [
      { era: '2025', category: 'Tiktok Live' },
      { era: '2026', category: 'TikTok Live' },
    ],
    value: { WatchLiveSettingsMap: { app: { 'Show Comments': 'On' }, web: null } },
    table: 'section_values',
    part: 'watch_live_settings',
    expected: [
      { key: 'app / Show Comments', value: 'On' },
      { key: 'web', value: null },
    ],
  },
  {
    section: 'Autofill',
    eras: [
      { era: '2025', category: 'Profile' },
      { era: '2026', category: 'Profile And Settings' },
    ],
    value: { AutofillMap: { 'First Name': 'Ana', 'Phone Number': '+44 0000' } },
    table: 'private_values',
    part: 'autofill',
    expected: [
      { key: 'First Name', value: 'Ana' },
      { key: 'Phone Number', value: '+44 0000' },
    ],
  },
];

describe('sections that were kept raw', () => {
  for (const c of CASES) {
    for (const { era, category } of c.eras) {
      it(`reads ${category}/${c.section} (${era}) into ${c.table}`, async () => {
        const events = await parseJson({ [category]: { [c.section]: c.value } });
        expect(rows(events, c.table, c.part)).toEqual(c.expected);
        expect(events.filter((e) => e.kind === 'raw')).toEqual([]);
        expect(events).toContainEqual({
          kind: 'section',
          table: c.table,
          part: c.part ?? '',
          path: `${category}/${c.section}`,
        });
        expect(warnings(events).filter((w) => w.code !== 'placeholder')).toEqual([]);
      });
    }
    if (c.txt !== undefined) {
      const { file, text, expected: txtExpected } = c.txt;
      it(`reads ${file} into ${c.table}`, async () => {
        const events = await parseTxt(file, text);
        const expected = (txtExpected ?? c.expected).map((row) =>
          // TXT writes every value as text; the numbers of a JSON map arrive the same way.
          row.extra === undefined ? row : { ...row, extra: row.extra === null ? null : expect.any(String) },
        );
        expect(rows(events, c.table, c.part)).toEqual(expected);
        expect(events.filter((e) => e.kind === 'raw')).toEqual([]);
      });
    }
  }

  it('reads Off TikTok Activity once when 2026 writes it under two categories, keeping the copy raw', async () => {
    const events = await parseJson({
      'Profile And Settings': { 'Off TikTok Activity': OFF },
      'Your Activity': { 'Off TikTok Activity': OFF },
    });
    expect(rows(events, 'off_tiktok_activity')).toHaveLength(2);
    expect(events.filter((e) => e.kind === 'raw').map((e) => (e as { path: string }).path)).toEqual([
      'Your Activity/Off TikTok Activity',
    ]);
    expect(warnings(events).map((w) => w.code)).toEqual(['duplicate_section']);
  });

  it('keeps a Shop section of an unverified shape raw instead of failing', async () => {
    const events = await parseJson({
      'TikTok Shop': { 'Order History': { OrderHistories: { '5770001': { Amount: '£5' } } } },
    });
    expect(rows(events, 'shop_orders')).toEqual([]);
    expect(events.filter((e) => e.kind === 'raw')).toHaveLength(1);
    expect(warnings(events).map((w) => w.code)).toEqual(['unexpected_shape']);
  });
});

/** Every dated list section of the catalog, with the first key its date column is written under. */
function datedSections(): {
  table: TableName;
  part: string;
  path: string[];
  dateKey: string;
  otherKey: string;
}[] {
  const out: { table: TableName; part: string; path: string[]; dateKey: string; otherKey: string }[] = [];
  for (const [table, def] of Object.entries(CATALOG) as [TableName, TableDef][]) {
    const columns = Object.entries(def.columns);
    const date = columns.find(([, c]) => c.type === 'timestamptz' && c.from.length > 0);
    // Another field of the natural key, so that a record without its date is still told apart.
    const keyColumns = def.key.flatMap((k) => (typeof k === 'string' ? [k] : [...k]));
    const other = columns.find(
      ([name, c]) =>
        name !== date?.[0] && keyColumns.includes(name) && c.from.length > 0 && c.type !== 'timestamptz',
    );
    if (date === undefined || other === undefined) continue;
    for (const section of def.sections) {
      for (const [aliases, target] of Object.entries(section.containers ?? {})) {
        if (!('kind' in target) || target.kind !== 'records') continue;
        out.push({
          table,
          part: target.part,
          path: [section.categories.at(-1)!, section.names[0]!, aliases.split('|')[0]!],
          dateKey: date[1].from[0]!,
          otherKey: other[1].from[0]!,
        });
      }
    }
  }
  return out;
}

describe('sentinel dates', () => {
  const sections = datedSections();

  it('covers the dated sections', () => {
    expect(sections.map((s) => s.table)).toEqual(
      expect.arrayContaining([
        'watch_history',
        'likes',
        'shares',
        'searches',
        'logins',
        'off_tiktok_activity',
        'reposts',
      ]),
    );
  });

  for (const s of sections) {
    it(`stores ${s.path.join('/')} records with TikTok's unknown dates, without the date`, async () => {
      const list = [
        { [s.dateKey]: '1969-12-31 23:59:59', [s.otherKey]: '7001' },
        { [s.dateKey]: '1970-01-01 00:00:00', [s.otherKey]: '7002' },
        { [s.dateKey]: '2024-05-01 12:00:00', [s.otherKey]: '7003' },
      ];
      const [category, section, container] = s.path as [string, string, string];
      const events = await parseJson({ [category]: { [section]: { [container]: list } } });
      const got = rows(events, s.table, s.part);
      expect(got).toHaveLength(3);
      const dateColumn = Object.entries(CATALOG[s.table].columns).find(
        ([, c]) => c.type === 'timestamptz',
      )![0];
      expect(got.map((r) => (r as Record<string, unknown>)[dateColumn])).toEqual([
        null,
        null,
        '2024-05-01T12:00:00Z',
      ]);
      expect(got.map((r) => r.extra)).toEqual([
        JSON.stringify({ [s.dateKey]: '1969-12-31 23:59:59' }),
        JSON.stringify({ [s.dateKey]: '1970-01-01 00:00:00' }),
        null,
      ]);
      const counted = warnings(events).filter((w) => w.code === 'unknown_date');
      expect(counted.map((w) => [w.path, w.field])).toEqual([
        [s.path.join('/'), s.dateKey],
        [s.path.join('/'), s.dateKey],
      ]);
      expect(events.filter((e): e is RefusedEvent => e.kind === 'refused')).toEqual([]);
    });
  }
});
