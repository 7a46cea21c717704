/**
 * What the report shows, as data: per account its pages (sections) of charts, tables and facts, and
 * the sync history of all of them. Built from one read-only snapshot of the database; rendered to
 * HTML by html.ts and drawn in the browser by client.js.
 */

/** A value in a chart's data or a table cell. */
export type Value = string | number | null;
export type Datum = Record<string, Value>;

/** How client.js draws a chart (one Observable Plot mark per datum for each kind). */
export type ChartKind =
  /** Stacked bars per day on a time axis, coloured by `color`. */
  | 'daily-bars'
  /** Cells of weekday × hour, shaded by `color` (a count). */
  | 'heatmap'
  /** Dots on a time axis; `y` numeric or a category. */
  | 'time-dots'
  /** Horizontal bars, largest first. */
  | 'ranked-bars'
  /** A step line through dots on a time axis. */
  | 'steps'
  /** Horizontal bars spanning `x` to `x2` (a week) for each category of `y`, shaded by `color`. */
  | 'span-cells';

export interface Channel {
  /** The datum's field. */
  field: string;
  /** The axis or legend title, with its unit and, for times, the zone. */
  label: string;
  /** Wall-clock text (`YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SS`) in the report's zone. */
  time?: boolean;
  /** Names for the values shown as ticks (e.g. weekday 1 → Mon). */
  names?: Record<string, string>;
}

export interface ChartSpec {
  /** The figure's DOM id, stable for an account and chart: `account-<id>-<name>-chart`. */
  id: string;
  /** The chart's name, the same for every account (`activity-daily`, `heatmap` …). */
  name: string;
  kind: ChartKind;
  /** One mark per datum. */
  data: Datum[];
  x: Channel;
  /** The end of a span (`span-cells`). */
  x2?: string;
  y: Channel;
  color?: Channel;
}

/** How a table column is set: numbers right-aligned, times kept on one line. */
export type ColumnKind = 'number' | 'text' | 'time';

export type Block =
  | { type: 'chart'; caption: string; chart: ChartSpec }
  /** Said instead of drawing an empty chart; `name` is the chart's that would have been drawn. */
  | { type: 'empty'; name: string; text: string }
  | { type: 'table'; caption: string; columns: string[]; kinds: ColumnKind[]; rows: Value[][] }
  | { type: 'facts'; items: [label: string, value: string][] }
  | { type: 'note'; text: string };

export interface Section {
  /** DOM id: `account-<id>-<page>` or `syncs`. */
  id: string;
  page: PageName;
  title: string;
  /** One sentence on what the page shows. */
  intro: string;
  blocks: Block[];
}

export const PAGES = {
  activity: 'Activity over time',
  sessions: 'Watch sessions',
  changes: 'What changed between syncs',
  audience: 'Followers, following and likes received',
  searches: 'Top searches and hashtags',
  messages: 'Messages per conversation',
  logins: 'Logins and devices',
  syncs: 'Sync history and freshness',
} as const;
export type PageName = keyof typeof PAGES;

export interface AccountReport {
  accountId: string;
  name: string;
  /** The zone of the account's days, hours and times. */
  zone: string;
  /** Where the zone comes from: `--tz`, or the account's own (`tiktok-sync account timezone`). */
  zoneSource: 'option' | 'account';
  sections: Section[];
}

export interface Report {
  /** When the report was made, in {@link syncZone}. */
  generatedAt: string;
  /** The zone of the sync history (`--tz`, else the one account's, else UTC). */
  syncZone: string;
  /** The account asked for, if one was. */
  account: string | undefined;
  accounts: AccountReport[];
  syncs: Section;
}

/** Every chart of a report, in page order. */
export function chartsOf(report: Report): ChartSpec[] {
  return [...report.accounts.flatMap((account) => account.sections), report.syncs].flatMap((section) =>
    section.blocks.flatMap((block) => (block.type === 'chart' ? [block.chart] : [])),
  );
}
