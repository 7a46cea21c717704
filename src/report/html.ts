/**
 * The report as one self-contained HTML page: the pages of each account and the sync history as
 * HTML (tables, facts and sentences read without scripts), the charts' data as JSON, and the chart
 * library and client.js inlined. A Content-Security-Policy lets the page load nothing from anywhere,
 * so it opens offline and shows the same from a file or from `serve`.
 */
import escapeHtml from 'escape-html';
import { type ReportAssets, reportAssets } from './assets.js';
import { type Block, chartsOf, type Report, type Section, type Value } from './model.js';
import { STYLES } from './styles.js';

/** Escaped text in which `code` spans become <code>. */
function sentence(text: string): string {
  return escapeHtml(text).replace(/`([^`]+)`/g, '<code>$1</code>');
}

const attribute = (value: string) => `"${escapeHtml(value)}"`;

function cell(value: Value): string {
  return value === null ? '' : escapeHtml(String(value));
}

function block(b: Block, account: string | undefined): string {
  const owner = account === undefined ? '' : ` data-account=${attribute(account)}`;
  switch (b.type) {
    case 'chart':
      return [
        `<figure class="chart" id=${attribute(b.chart.id)} data-chart=${attribute(b.chart.name)}${owner} data-points="${b.chart.data.length}">`,
        `<figcaption>${sentence(b.caption)}</figcaption>`,
        `<div class="plot" role="img" aria-label=${attribute(b.caption)}></div>`,
        `<noscript><p>The charts need JavaScript; the tables and figures on this page do not.</p></noscript>`,
        '</figure>',
      ].join('\n');
    case 'empty':
      return `<p class="empty" data-empty=${attribute(b.name)}${owner}>${sentence(b.text)}</p>`;
    case 'note':
      return `<p>${sentence(b.text)}</p>`;
    case 'facts':
      return `<dl class="facts">${b.items
        .map(([label, value]) => `<div><dt>${escapeHtml(label)}</dt><dd>${escapeHtml(value)}</dd></div>`)
        .join('')}</dl>`;
    case 'table': {
      const align = (i: number) => (b.kinds[i] === 'text' ? '' : ` class="${b.kinds[i]}"`);
      const head = b.columns.map((name, i) => `<th scope="col"${align(i)}>${escapeHtml(name)}</th>`).join('');
      const body = b.rows
        .map((row) => `<tr>${row.map((value, i) => `<td${align(i)}>${cell(value)}</td>`).join('')}</tr>`)
        .join('\n');
      // The caption stays above the scrolling box: a wide table scrolls on a phone, its caption does not.
      return [
        `<p class="caption">${sentence(b.caption)}</p>`,
        `<div class="table" tabindex="0"><table aria-label=${attribute(b.caption)}><thead><tr>${head}</tr></thead><tbody>`,
        body,
        '</tbody></table></div>',
      ].join('\n');
    }
  }
}

function section(s: Section, account: string | undefined): string {
  return [
    `<section class="page" id=${attribute(s.id)} data-page=${attribute(s.page)}>`,
    `<h3>${escapeHtml(s.title)}</h3>`,
    `<p class="intro">${sentence(s.intro)}</p>`,
    ...s.blocks.map((b) => block(b, account)),
    '</section>',
  ].join('\n');
}

function navigation(report: Report): string {
  const links = (sections: Section[]) =>
    `<ul>${sections.map((s) => `<li><a href="#${escapeHtml(s.id)}">${escapeHtml(s.title)}</a></li>`).join('')}</ul>`;
  return [
    '<nav aria-label="Pages">',
    ...report.accounts.map(
      (account) => `<strong>Account ${escapeHtml(account.name)}</strong>${links(account.sections)}`,
    ),
    `<strong>All accounts</strong>${links([report.syncs])}`,
    '</nav>',
  ].join('\n');
}

/** The Content-Security-Policy: the inlined scripts by hash, inline styles (Plot writes some), nothing else. */
function policy(assets: ReportAssets): string {
  const scripts = [...assets.libraries, assets.client].map((script) => script.hash).join(' ');
  return `default-src 'none'; script-src ${scripts}; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'`;
}

export function renderReport(report: Report, assets: ReportAssets = reportAssets()): string {
  const scope = report.account === undefined ? 'all accounts' : `account ${report.account}`;
  // JSON in a script element: `<` escaped so that no text in the data can close the element.
  const data = JSON.stringify({ charts: chartsOf(report) }).replace(/</g, '\\u003c');
  const accounts = report.accounts.map((account) =>
    [
      `<article class="account" id="account-${escapeHtml(account.accountId)}" data-account=${attribute(account.name)}>`,
      `<h2>Account ${escapeHtml(account.name)}</h2>`,
      `<p class="muted">Days, hours and times in ${escapeHtml(account.zone)} (${
        account.zoneSource === 'option' ? 'chosen with --tz' : "the account's own time zone"
      }).</p>`,
      ...account.sections.map((s) => section(s, account.name)),
      '</article>',
    ].join('\n'),
  );
  const none =
    report.accounts.length === 0
      ? [
          `<p class="empty" data-empty="accounts">${sentence('No accounts are stored yet: `tiktok-sync import <export> --account <name>` or `tiktok-sync connect` adds the first.')}</p>`,
        ]
      : [];
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta http-equiv="Content-Security-Policy" content=${attribute(policy(assets))}>`,
    `<title>TikTok data report: ${escapeHtml(scope)}</title>`,
    `<style>${STYLES}</style>`,
    '</head>',
    '<body>',
    '<header>',
    `<h1>TikTok data report: ${escapeHtml(scope)}</h1>`,
    `<p class="muted">Made ${escapeHtml(report.generatedAt)} (${escapeHtml(report.syncZone)}) from the database; it shows what the database held then.</p>`,
    '</header>',
    navigation(report),
    '<main>',
    ...none,
    ...accounts,
    `<h2>All accounts</h2>`,
    section(report.syncs, undefined),
    '</main>',
    '<footer>Made by <code>tiktok-sync report</code>; charts by Observable Plot. This page loads nothing from the network.</footer>',
    ...assets.libraries.map((script) => `<script>${script.text}</script>`),
    `<script type="application/json" id="report-data">${data}</script>`,
    `<script type="module">${assets.client.text}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
