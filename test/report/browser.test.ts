// The functions given to page.evaluate run in the page: they are typed against the browser's DOM.
/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The report in a real browser: Debian's Chromium, headless, driven by playwright-core. Each chart
 * must draw as many marks as the database holds data points (counted by the tests' own SQL), an
 * empty section must say so instead, nothing may be logged as an error or fetched from anywhere,
 * and `serve` must answer the same page. Screenshots go to test-artifacts/report/.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../cli/run-cli.js';
import { HAVE_CHROMIUM, launchChromium, sayWhenChromiumIsMissing } from '../helpers/chromium.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { ACCOUNT_CHARTS, ANA, BO, expectedPoints, seedAccounts } from './support.js';

sayWhenChromiumIsMissing("the report's browser tests");

const ARTIFACTS = path.resolve(import.meta.dirname, '../../test-artifacts/report');
const PHONE = { width: 375, height: 812 };
const DESKTOP = { width: 1280, height: 900 };

/** A chart as the browser drew it. */
interface Drawn {
  account: string | null;
  chart: string;
  /** data-points: how many data points the page says the chart has. */
  points: number;
  /** The SVG marks drawn for them. */
  marks: number;
  /** The SVG's text: axis titles, ticks, legend. */
  text: string;
  width: number;
}

interface Visit {
  charts: Drawn[];
  empty: { account: string | null; name: string; text: string }[];
  /** Console errors, page errors, and requests for anything but the page itself. */
  problems: string[];
  /** How wide the page is laid out (wider than the viewport: it scrolls sideways). */
  scrollWidth: number;
}

let database: TestDatabase;
let dir: string;
let browser: Browser;
let reportFile: string;
let zonedFile: string;

describe.skipIf(!HAVE_CHROMIUM)('the report in Chromium', () => {
  beforeAll(async () => {
    database = await createTestDatabase();
    dir = await mkdtemp(path.join(tmpdir(), 'report-browser-'));
    await seedAccounts(database, dir);
    vi.stubEnv('DATABASE_URL', database.url);
    vi.stubEnv('TIKTOK_SYNC_DATA_DIR', dir);
    reportFile = path.join(dir, 'report.html');
    zonedFile = path.join(dir, 'report-new-york.html');
    const written = await runCli(['report', '--out', reportFile]);
    expect(written.stderr).toEqual([]);
    expect(written.code).toBe(0);
    const zoned = await runCli([
      'report',
      '--account',
      ANA.name,
      '--tz',
      'America/New_York',
      '--out',
      zonedFile,
    ]);
    expect(zoned.code).toBe(0);
    await mkdir(ARTIFACTS, { recursive: true });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    vi.unstubAllEnvs();
    await database?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  async function visit(
    url: string,
    viewport: { width: number; height: number },
    shot?: string,
  ): Promise<Visit> {
    const page: Page = await browser.newPage({ viewport });
    const problems: string[] = [];
    const origin = url.startsWith('file:') ? url : new URL(url).origin;
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('request', (request) => {
      const asked = request.url();
      if (asked !== url && !asked.startsWith(origin) && !asked.startsWith('data:'))
        problems.push(`request: ${asked}`);
    });
    try {
      await page.goto(url);
      await page.waitForFunction(() => document.documentElement.dataset.chartsDrawn !== undefined);
      const found = await page.evaluate(() => ({
        drawn: Number(document.documentElement.dataset.chartsDrawn),
        charts: [...document.querySelectorAll('figure.chart')].map((figure) => ({
          account: figure.getAttribute('data-account'),
          chart: figure.getAttribute('data-chart') ?? '',
          points: Number(figure.getAttribute('data-points')),
          marks: figure.querySelectorAll('svg g.report-data > *').length,
          text: [...figure.querySelectorAll('svg')].map((svg) => svg.textContent).join(' '),
          width: Math.max(
            0,
            ...[...figure.querySelectorAll('svg')].map((svg) => svg.getBoundingClientRect().width),
          ),
        })),
        empty: [...document.querySelectorAll('p.empty')].map((p) => ({
          account: p.getAttribute('data-account'),
          name: p.getAttribute('data-empty') ?? '',
          text: p.textContent ?? '',
        })),
        scrollWidth: document.documentElement.scrollWidth,
      }));
      expect(found.drawn).toBe(found.charts.length);
      if (shot) await page.screenshot({ path: path.join(ARTIFACTS, shot), fullPage: true });
      return { charts: found.charts, empty: found.empty, problems, scrollWidth: found.scrollWidth };
    } finally {
      await page.close();
    }
  }

  /** Every chart of every account: drawn with the database's count of points, or said to be empty. */
  async function expectCharts(result: Visit): Promise<void> {
    for (const account of [ANA, BO]) {
      const expected = await expectedPoints(database, account.name, account.zone);
      for (const chart of ACCOUNT_CHARTS) {
        const drawn = result.charts.find((c) => c.account === account.name && c.chart === chart);
        const where = `${account.name}'s ${chart} chart`;
        if (expected[chart] === 0) {
          expect(drawn, `${where} has no data and is not drawn`).toBeUndefined();
          expect(
            result.empty.some((e) => e.account === account.name && e.name === chart),
            `${where} says it is empty`,
          ).toBe(true);
        } else {
          expect({ where, points: drawn?.points, marks: drawn?.marks }).toEqual({
            where,
            points: expected[chart],
            marks: expected[chart],
          });
        }
      }
    }
    const { rows } = await database.pool.query('select count(*)::int as n from tiktok_sync.sync_runs');
    const runs = result.charts.find((c) => c.chart === 'sync-runs');
    expect({ points: runs?.points, marks: runs?.marks }).toEqual({ points: rows[0].n, marks: rows[0].n });
  }

  it('draws every chart with as many marks as the database holds data points, with nothing logged or fetched', async () => {
    const expected = await expectedPoints(database, ANA.name, ANA.zone);
    // The synthetic data has something to draw everywhere for ana, changes between its syncs included.
    for (const chart of ACCOUNT_CHARTS) expect(expected[chart], chart).toBeGreaterThan(0);
    expect(expected.followers).toBeGreaterThanOrEqual(2);

    const desktop = await visit(`file://${reportFile}`, DESKTOP, 'report-desktop.png');
    expect(desktop.problems).toEqual([]);
    await expectCharts(desktop);
  });

  it('says which sections are empty instead of drawing an empty chart', async () => {
    const result = await visit(`file://${reportFile}`, DESKTOP);
    const messages = result.empty.find((e) => e.account === BO.name && e.name === 'messages-weekly');
    expect(messages?.text).toBe('No direct messages are stored for account bo.');
    const changes = result.empty.find((e) => e.account === BO.name && e.name === 'changes');
    expect(changes?.text).toMatch(/^No sync has changed anything for account bo yet/);
    expect(result.charts.filter((c) => c.account === BO.name && c.chart === 'messages-weekly')).toEqual([]);
  });

  it('labels the axes with their units and the time zone', async () => {
    const result = await visit(`file://${reportFile}`, DESKTOP);
    for (const chart of result.charts.filter((c) => c.account !== null)) {
      const zone = chart.account === ANA.name ? ANA.zone : BO.zone;
      if (chart.chart !== 'searches' && chart.chart !== 'hashtags')
        expect(chart.text, chart.chart).toContain(`(${zone})`);
    }
    const heatmap = result.charts.find((c) => c.account === ANA.name && c.chart === 'activity-heatmap');
    expect(heatmap?.text).toContain(`Hour of the day (${ANA.zone})`);
    expect(heatmap?.text).toContain(`Weekday (${ANA.zone})`);
    expect(heatmap?.text).toContain('Events in that hour (count, all weeks)');
    const daily = result.charts.find((c) => c.account === ANA.name && c.chart === 'activity-daily');
    expect(daily?.text).toContain('Events per day (count)');
    expect(result.charts.find((c) => c.chart === 'searches')?.text).toContain('Searches (count)');
  });

  it('counts days and hours in the zone given with --tz', async () => {
    const result = await visit(`file://${zonedFile}`, DESKTOP);
    expect(result.problems).toEqual([]);
    const expected = await expectedPoints(database, ANA.name, 'America/New_York');
    for (const chart of ['activity-daily', 'activity-heatmap', 'sessions-daily', 'messages-weekly']) {
      const drawn = result.charts.find((c) => c.chart === chart);
      expect({ chart, marks: drawn?.marks }).toEqual({ chart, marks: expected[chart] });
      expect(drawn?.text).toContain('(America/New_York)');
    }
    expect(result.charts.map((c) => c.account).filter((a) => a !== null && a !== ANA.name)).toEqual([]);
  });

  it('fits a 375 px phone screen', async () => {
    const phone = await visit(`file://${reportFile}`, PHONE, 'report-phone.png');
    expect(phone.problems).toEqual([]);
    expect(phone.scrollWidth).toBeLessThanOrEqual(PHONE.width);
    for (const chart of phone.charts) expect(chart.width, chart.chart).toBeLessThanOrEqual(PHONE.width - 16);
    await expectCharts(phone);
  });

  it('is served read-only by `serve`, the same as the file', async () => {
    const stop = new AbortController();
    let announce: (url: string) => void = () => {};
    const announced = new Promise<string>((resolve) => {
      announce = resolve;
    });
    const serving = runCli(['serve', '--listen', '127.0.0.1:0'], {
      signal: stop.signal,
      onLine: (line) => {
        const url = / on (http:\/\/\S+?)\/ read-only/.exec(line)?.[1];
        if (url) announce(url);
      },
    });
    try {
      const url = await Promise.race([
        announced,
        serving.then((run) => {
          throw new Error(`serve stopped early: ${run.text}`);
        }),
      ]);
      const served = await visit(`${url}/`, DESKTOP, 'serve-desktop.png');
      expect(served.problems).toEqual([]);
      await expectCharts(served);
      const file = await visit(`file://${reportFile}`, DESKTOP);
      const shape = (v: Visit) =>
        v.charts.map(({ account, chart, points, marks }) => ({ account, chart, points, marks }));
      expect(shape(served)).toEqual(shape(file));
      expect(served.empty).toEqual(file.empty);

      const health = await fetch(`${url}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ ok: true });
      const post = await fetch(`${url}/`, { method: 'POST', body: 'x' });
      expect(post.status).toBe(405);
      expect(post.headers.get('allow')).toBe('GET, HEAD');
      expect((await fetch(`${url}/other`)).status).toBe(404);
    } finally {
      stop.abort();
    }
    const run = await serving;
    expect(run.code).toBe(0);
  });
});
