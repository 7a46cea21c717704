/**
 * The report's pages: each reads its queries (queries.ts) and says what it found as charts, tables
 * and facts (model.ts). A chart with nothing to draw is replaced by a sentence saying so.
 */
import type { Block, ChartSpec, ColumnKind, Datum, Section, Value } from './model.js';
import { PAGES, type PageName } from './model.js';
import * as q from './queries.js';

export interface AccountScope {
  accountId: string;
  name: string;
  zone: string;
}

const count = (n: number) => n.toLocaleString('en');
const plural = (n: number, one: string, many = `${one}s`) => `${count(n)} ${n === 1 ? one : many}`;

function section(scope: AccountScope | undefined, page: PageName, intro: string, blocks: Block[]): Section {
  return {
    id: scope ? `account-${scope.accountId}-${page}` : page,
    page,
    title: PAGES[page],
    intro,
    blocks,
  };
}

/** A chart block, or the sentence `empty` when there is no datum to draw. */
function chart(
  scope: AccountScope | undefined,
  caption: string,
  spec: Omit<ChartSpec, 'id'>,
  empty: string,
): Block {
  if (spec.data.length === 0) return { type: 'empty', name: spec.name, text: empty };
  const id = scope ? `account-${scope.accountId}-${spec.name}-chart` : `${spec.name}-chart`;
  return { type: 'chart', caption, chart: { id, ...spec } };
}

function table(caption: string, columns: [name: string, kind: ColumnKind][], rows: Value[][]): Block {
  return {
    type: 'table',
    caption,
    columns: columns.map(([name]) => name),
    kinds: columns.map(([, kind]) => kind),
    rows,
  };
}

const EVENT_NAMES: Record<string, string> = {
  watched: 'videos watched',
  liked: 'videos liked',
  searched: 'searches',
  messaged: 'messages',
  other: 'other actions',
};
const WEEKDAYS: Record<string, string> = {
  1: 'Mon',
  2: 'Tue',
  3: 'Wed',
  4: 'Thu',
  5: 'Fri',
  6: 'Sat',
  7: 'Sun',
};
const HOURS = Object.fromEntries(
  Array.from({ length: 24 }, (_, h) => [String(h), String(h).padStart(2, '0')]),
);

export async function activityPage(db: q.Queryable, scope: AccountScope): Promise<Section> {
  const { accountId, name, zone } = scope;
  const daily = await q.dailyActivity(db, accountId, zone);
  const cells = await q.hourOfWeek(db, accountId, zone);
  const perDay = new Map<string, number>();
  for (const row of daily) perDay.set(row.day, (perDay.get(row.day) ?? 0) + row.n);
  const total = [...perDay.values()].reduce((sum, n) => sum + n, 0);
  const busiest = [...perDay].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0];
  const days = [...perDay.keys()];
  const blocks: Block[] = [];
  if (total > 0) {
    blocks.push({
      type: 'facts',
      items: [
        ['Events', count(total)],
        ['Days with activity', count(perDay.size)],
        ['From', days[0] ?? ''],
        ['To', days.at(-1) ?? ''],
        ['Busiest day', busiest ? `${busiest[0]} (${plural(busiest[1], 'event')})` : ''],
      ],
    });
  }
  blocks.push(
    chart(
      scope,
      `Events per day in ${zone}, by kind.`,
      {
        name: 'activity-daily',
        kind: 'daily-bars',
        data: daily.map((row) => ({ day: row.day, kind: EVENT_NAMES[row.kind] ?? row.kind, n: row.n })),
        x: { field: 'day', label: `Day (${zone})`, time: true },
        y: { field: 'n', label: 'Events per day (count)' },
        color: { field: 'kind', label: 'Kind of event', names: EVENT_NAMES },
      },
      `No timestamped activity is stored for account \`${name}\`, so there is no day to draw.`,
    ),
    chart(
      scope,
      `Events per hour of the week in ${zone}: darker cells are busier hours.`,
      {
        name: 'activity-heatmap',
        kind: 'heatmap',
        data: cells,
        x: { field: 'hour', label: `Hour of the day (${zone})`, names: HOURS },
        y: { field: 'weekday', label: `Weekday (${zone})`, names: WEEKDAYS },
        color: { field: 'n', label: 'Events in that hour (count, all weeks)' },
      },
      `No timestamped activity is stored for account \`${name}\`, so there is no hour of the week to draw.`,
    ),
  );
  return section(
    scope,
    'activity',
    `Every timestamped action of every section (tiktok.events), records no longer in the latest export included, counted per day and per hour of the week in ${zone}.`,
    blocks,
  );
}

export async function sessionsPage(db: q.Queryable, scope: AccountScope): Promise<Section> {
  const { accountId, name, zone } = scope;
  const sessions = await q.watchSessions(db, accountId, zone);
  const perDay = new Map<string, number>();
  for (const s of sessions) perDay.set(s.day, (perDay.get(s.day) ?? 0) + 1);
  const lengths = sessions.map((s) => s.minutes).sort((a, b) => a - b);
  const videos = sessions.reduce((sum, s) => sum + s.videos, 0);
  const blocks: Block[] = [];
  if (sessions.length > 0) {
    blocks.push({
      type: 'facts',
      items: [
        ['Sessions', count(sessions.length)],
        ['Videos watched', count(videos)],
        ['Median length', `${lengths[Math.floor((lengths.length - 1) / 2)]} min`],
        ['Longest', `${lengths.at(-1)} min`],
        ['Days with a session', count(perDay.size)],
      ],
    });
  }
  const none = `No watch history is stored for account \`${name}\`, so there are no sessions.`;
  blocks.push(
    chart(
      scope,
      `Watch sessions started per day in ${zone}.`,
      {
        name: 'sessions-daily',
        kind: 'daily-bars',
        data: [...perDay].map(([day, n]) => ({ day, n })),
        x: { field: 'day', label: `Day the session started (${zone})`, time: true },
        y: { field: 'n', label: 'Sessions per day (count)' },
      },
      none,
    ),
    chart(
      scope,
      'Each session: when it started and how long it lasted.',
      {
        name: 'sessions-length',
        kind: 'time-dots',
        data: sessions.map((s) => ({ start: s.start, minutes: s.minutes, videos: s.videos })),
        x: { field: 'start', label: `Session start (${zone})`, time: true },
        y: { field: 'minutes', label: 'Length, first to last watch (minutes)' },
      },
      none,
    ),
  );
  return section(
    scope,
    'sessions',
    `Watches in time order, cut into sessions wherever more than ${q.SESSION_GAP_MINUTES} minutes pass between two watches; a session's length runs from its first watch to its last (one watch: 0 minutes).`,
    blocks,
  );
}

const CHANGE_NAMES: Record<string, string> = {
  likes_withdrawn: 'likes withdrawn',
  follows_ended: 'follows ended',
  new_followers: 'new followers',
  posts_removed: 'posts removed',
};

export async function changesPage(db: q.Queryable, scope: AccountScope): Promise<Section> {
  const { accountId, name, zone } = scope;
  const perDay = await q.changesPerDay(db, accountId, zone);
  const latest = await q.latestChanges(db, accountId, zone, 25);
  const totals = new Map<string, number>();
  for (const row of perDay) totals.set(row.change, (totals.get(row.change) ?? 0) + row.n);
  const blocks: Block[] = [];
  if (perDay.length > 0) {
    blocks.push({
      type: 'facts',
      items: Object.entries(CHANGE_NAMES).map(([key, label]): [string, string] => [
        label,
        count(totals.get(key) ?? 0),
      ]),
    });
  }
  blocks.push(
    chart(
      scope,
      'Records the syncs changed, by kind of change, on the day TikTok made the export each read.',
      {
        name: 'changes',
        kind: 'daily-bars',
        data: perDay.map((row) => ({
          day: row.day,
          change: CHANGE_NAMES[row.change] ?? row.change,
          n: row.n,
        })),
        x: { field: 'day', label: `Day the export was made (${zone})`, time: true },
        y: { field: 'n', label: 'Records changed (count)' },
        color: { field: 'change', label: 'Change', names: CHANGE_NAMES },
      },
      `No sync has changed anything for account \`${name}\` yet: likes withdrawn, follows ended, new followers and removed posts show from its second successful sync on.`,
    ),
  );
  if (latest.length > 0) {
    blocks.push(
      table(
        `The latest ${plural(latest.length, 'change')}, newest first.`,
        [
          [`Export made (${zone})`, 'time'],
          ['Change', 'text'],
          ['Record', 'text'],
        ],
        latest.map((row) => [row.at, CHANGE_NAMES[row.change] ?? row.change, row.item]),
      ),
    );
  }
  return section(
    scope,
    'changes',
    "Per successful sync or import: the likes, follows and posts it marked removed (no longer in TikTok's export), and the followers it stored for the first time (not counted for the account's first run, which stores them all).",
    blocks,
  );
}

const MEASURES = [
  ['follower_count', 'followers', 'Followers'],
  ['following_count', 'following', 'Accounts followed'],
  ['likes_received', 'likes-received', 'Likes received'],
] as const;

export async function audiencePage(db: q.Queryable, scope: AccountScope): Promise<Section> {
  const { accountId, name, zone } = scope;
  const snapshots = await q.profileSnapshots(db, accountId, zone);
  const blocks: Block[] = [];
  const last = snapshots.at(-1);
  if (last) {
    blocks.push({
      type: 'facts',
      items: MEASURES.map(([field, , label]): [string, string] => [
        `${label} (latest)`,
        last[field] === null ? 'unknown' : count(last[field]),
      ]),
    });
  }
  for (const [field, chartName, label] of MEASURES) {
    const data: Datum[] = snapshots
      .filter((s) => s[field] !== null)
      .map((s) => ({ at: s.at, value: s[field] }));
    blocks.push(
      chart(
        scope,
        `${label} in each export that changed it.`,
        {
          name: chartName,
          kind: 'steps',
          data,
          x: { field: 'at', label: `Export made (${zone})`, time: true },
          y: { field: 'value', label: `${label} (count)` },
        },
        `No ${label.toLowerCase()} count is stored for account \`${name}\`: its exports held no profile with one.`,
      ),
    );
  }
  return section(
    scope,
    'audience',
    "The profile's counts over the syncs (tiktok.profile_snapshots): a point is stored for each export in which a count changed, placed at the time TikTok made it.",
    blocks,
  );
}

export async function searchesPage(db: q.Queryable, scope: AccountScope): Promise<Section> {
  const { accountId, name } = scope;
  const searches = await q.topSearches(db, accountId);
  const tags = await q.topHashtags(db, accountId);
  const list = await q.hashtagList(db, accountId);
  const blocks: Block[] = [
    chart(
      scope,
      `The ${plural(searches.length, 'term')} searched most often.`,
      {
        name: 'searches',
        kind: 'ranked-bars',
        data: searches.map((row) => ({ label: row.term, n: row.n })),
        x: { field: 'n', label: 'Searches (count)' },
        y: { field: 'label', label: 'Search term' },
      },
      `No searches are stored for account \`${name}\`.`,
    ),
    chart(
      scope,
      `The ${plural(tags.length, 'hashtag')} written most often in post captions and watched videos' titles.`,
      {
        name: 'hashtags',
        kind: 'ranked-bars',
        data: tags.map((row) => ({ label: `#${row.tag}`, n: row.n })),
        x: { field: 'n', label: 'Times written (count)' },
        y: { field: 'label', label: 'Hashtag' },
      },
      `No hashtags appear in the captions of account \`${name}\`'s posts or in the titles of the videos it watched.`,
    ),
  ];
  if (list.length > 0) {
    blocks.push({
      type: 'note',
      text: `The export's own Hashtag list: ${list.map((row) => `#${row.name}`).join(', ')}.`,
    });
  }
  return section(
    scope,
    'searches',
    `The ${q.TOP} most frequent search terms (trimmed, lower-cased) and hashtags, records no longer in the latest export included.`,
    blocks,
  );
}

export async function messagesPage(db: q.Queryable, scope: AccountScope): Promise<Section> {
  const { accountId, name, zone } = scope;
  const [totals] = await q.messageTotals(db, accountId);
  const top = await q.topConversations(db, accountId, zone);
  const weeks = await q.messagesPerWeek(db, accountId, zone);
  const label = (kind: string, conversation: string) =>
    kind === 'direct' ? conversation : `${conversation} (${kind})`;
  const blocks: Block[] = [];
  if (totals && totals.messages > 0) {
    blocks.push({
      type: 'facts',
      items: [
        ['Messages', count(totals.messages)],
        ['Conversations', count(totals.conversations)],
        ['Shown below', `the ${count(top.length)} busiest`],
      ],
    });
  }
  blocks.push(
    chart(
      scope,
      `Messages per week in each of the ${plural(top.length, 'busiest conversation')}; darker is more.`,
      {
        name: 'messages-weekly',
        kind: 'span-cells',
        data: weeks.map((row) => ({
          conversation: label(row.kind, row.conversation),
          week: row.week,
          next: row.next,
          n: row.n,
        })),
        x: { field: 'week', label: `Week, Monday to Sunday (${zone})`, time: true },
        x2: 'next',
        y: { field: 'conversation', label: 'Conversation' },
        color: { field: 'n', label: 'Messages that week (count)' },
      },
      `No direct messages are stored for account \`${name}\`.`,
    ),
  );
  if (top.length > 0) {
    blocks.push(
      table(
        'The conversations with the most messages.',
        [
          ['Conversation', 'text'],
          ['Messages', 'number'],
          [`First (${zone})`, 'time'],
          [`Last (${zone})`, 'time'],
        ],
        top.map((row) => [label(row.kind, row.conversation), count(row.n), row.first, row.last]),
      ),
    );
  }
  return section(
    scope,
    'messages',
    `Direct messages sent and received, per week and conversation, for the ${q.TOP_CONVERSATIONS} conversations with the most messages.`,
    blocks,
  );
}

export async function loginsPage(db: q.Queryable, scope: AccountScope): Promise<Section> {
  const { accountId, name, zone } = scope;
  const logins = await q.logins(db, accountId, zone);
  const devices = await q.devices(db, accountId, zone);
  const blocks: Block[] = [
    chart(
      scope,
      'Each login: when, on which device, over which network.',
      {
        name: 'logins',
        kind: 'time-dots',
        data: logins,
        x: { field: 'at', label: `Login time (${zone})`, time: true },
        y: { field: 'device', label: 'Device (model · system)' },
        color: { field: 'network', label: 'Network' },
      },
      `No logins are stored for account \`${name}\`.`,
    ),
  ];
  blocks.push(
    devices.length > 0
      ? table(
          "The export's device list (Status): app versions and screens, and when each was first in an export.",
          [
            ['App version', 'text'],
            ['Screen', 'text'],
            [`First in an export (${zone})`, 'time'],
            [`No longer listed since (${zone})`, 'time'],
          ],
          devices.map((d) => [d.app_version, d.resolution, d.seen, d.removed ?? 'still listed']),
        )
      : { type: 'empty', name: 'devices', text: `The exports of account \`${name}\` hold no device list.` },
  );
  return section(
    scope,
    'logins',
    `Logins from the export's Login History, by device and network, in ${zone}; then the devices and app versions the export lists.`,
    blocks,
  );
}

/** The sync history and freshness of the accounts (all when `accountId` is undefined). */
export async function syncsPage(
  db: q.Queryable,
  accountId: string | undefined,
  zone: string,
): Promise<Section> {
  const runs = await q.syncRuns(db, accountId ?? null, zone);
  const fresh = await q.freshness(db, accountId ?? null, zone);
  const recent = runs.slice(-20).reverse();
  const age = (hours: number | null) =>
    hours === null ? 'no export' : hours < 48 ? `${hours} h` : `${Math.round(hours / 24)} days`;
  const blocks: Block[] = [
    table(
      'Freshness per account: the last success, and how old the newest export is.',
      [
        ['Account', 'text'],
        [`Last success (${zone})`, 'time'],
        [`Newest export made (${zone})`, 'time'],
        ['Age of that export', 'text'],
        ['Successful runs', 'number'],
        ['Current records', 'number'],
      ],
      fresh.map((row) => [
        row.account,
        row.last_success ?? 'never',
        row.newest_export ?? 'none',
        age(row.age_hours),
        count(row.successful_runs),
        count(row.current_rows),
      ]),
    ),
    chart(
      undefined,
      'Every sync and import, by account and outcome.',
      {
        name: 'sync-runs',
        kind: 'time-dots',
        data: runs.map((run) => ({ started: run.started, account: run.account, status: run.status })),
        x: { field: 'started', label: `Run started (${zone})`, time: true },
        y: { field: 'account', label: 'Account' },
        color: { field: 'status', label: 'Outcome' },
      },
      'No sync or import has run yet: `tiktok-sync import` or `tiktok-sync sync` records the first.',
    ),
  ];
  if (recent.length > 0) {
    blocks.push(
      table(
        `The latest ${plural(recent.length, 'run')}, newest first.`,
        [
          ['Run', 'number'],
          ['Account', 'text'],
          ['Kind', 'text'],
          ['Outcome', 'text'],
          [`Started (${zone})`, 'time'],
          ['Took (s)', 'number'],
          [`Export made (${zone})`, 'time'],
          ['Inserted', 'number'],
          ['Removed', 'number'],
          ['Error', 'text'],
        ],
        recent.map((run) => [
          run.run_id,
          run.account,
          run.kind,
          run.status,
          run.started_shown,
          run.seconds,
          run.exported,
          count(run.inserted),
          count(run.removed),
          run.error,
        ]),
      ),
    );
  }
  return section(
    undefined,
    'syncs',
    `Every sync and import (tiktok_sync.sync_runs) and how fresh each account's data is (tiktok.sync_freshness), in ${zone}.`,
    blocks,
  );
}
