/**
 * The pages people see when they open an invite link and come back from TikTok: small HTML, one
 * inline style sheet (allowed by its hash), no script and nothing fetched from anywhere, readable on
 * a phone. Every value from outside (operator settings, TikTok's error text) is escaped.
 */
import { createHash } from 'node:crypto';
import escapeHtml from 'escape-html';
import type { SyncInterval } from '../config.js';
import { when } from './store.js';

const STYLE = `
:root { color-scheme: light; --ink: #1d232b; --muted: #55606d; --line: #d8dde3; --accent: #1f5fa0; }
* { box-sizing: border-box; }
body { margin: 0; font: 17px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #fff; }
main { max-width: 36rem; margin: 0 auto; padding: 24px 18px 40px; }
h1 { font-size: 1.45rem; line-height: 1.3; margin: 0 0 14px; }
h2 { font-size: 1.1rem; margin: 26px 0 6px; }
p, li { margin: 6px 0; }
ul { padding-left: 1.2rem; }
.muted { color: var(--muted); font-size: 0.93rem; }
a { color: var(--accent); }
.button { display: inline-block; width: 100%; margin: 22px 0 8px; padding: 14px 18px; min-height: 48px; border: 0; border-radius: 8px; background: var(--accent); color: #fff; font: inherit; font-weight: 600; text-align: center; cursor: pointer; }
.button:focus-visible, a:focus-visible { outline: 3px solid #f0b400; outline-offset: 2px; }
.box { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; margin: 12px 0; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 0.92em; overflow-wrap: anywhere; }
`;

/** For the Content-Security-Policy: the one style sheet the pages have. */
export const STYLE_HASH = `'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`;

export interface Operator {
  readonly name: string;
  readonly contact: string;
}

/** A page: its HTTP status, title and `<main>` content (already HTML). */
export interface Page {
  status: number;
  title: string;
  body: string;
  /** What the page says, for the log line and the tests (`invite_expired`, `consent_denied` …). */
  kind: string;
  /** The methods answered, for a 405. */
  allow?: string;
}

export function renderPage(page: Page): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>${escapeHtml(page.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main data-page="${escapeHtml(page.kind)}">
${page.body}
</main>
</body>
</html>
`;
}

const h = escapeHtml;

/** The operator's contact as a link when it is an email address or a web address, else as text. */
function contact(operator: Operator): string {
  const value = operator.contact.trim();
  if (/^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/.test(value)) return `<a href="mailto:${h(value)}">${h(value)}</a>`;
  if (/^https:\/\/\S+$/i.test(value)) return `<a href="${h(value)}" rel="noreferrer">${h(value)}</a>`;
  return h(value);
}

const askOperator = (operator: Operator) => `${h(operator.name)} (${contact(operator)})`;

/** What each kind of portability scope shares (docs/tiktok-api.md §0). */
const SHARED: Record<string, string> = {
  all: 'Everything TikTok keeps about your account: your profile and the videos you posted, your activity (videos watched, likes, favorites, comments, searches, shares, follows and logins) and your direct messages',
  activity:
    'Your activity on TikTok: videos watched, likes, favorites, comments, searches, shares, follows and logins',
  directmessages: 'Your direct messages',
  postsandprofile: 'Your profile and the videos you posted',
};

/** A scope in words: what it shares and how often, e.g. "Your direct messages, copied about every 24h". */
function scopeInWords(scope: string, interval: SyncInterval): string {
  const match = /^portability\.(\w+)\.(single|ongoing)$/.exec(scope);
  if (!match || !SHARED[match[1]!]) return scope;
  const how =
    match[2] === 'single'
      ? 'copied once'
      : interval.kind === 'every'
        ? `copied again about every ${interval.text}, until you withdraw your consent`
        : 'copied again on a schedule, until you withdraw your consent';
  return `${SHARED[match[1]!]}: ${how}.`;
}

export function consentPage(options: {
  operator: Operator;
  scopes: readonly string[];
  interval: SyncInterval;
  action: string;
  expiresAt: Date;
}): Page {
  const { operator } = options;
  return {
    kind: 'invite',
    status: 200,
    title: `Share your TikTok data with ${operator.name}`,
    body: `<h1>${h(operator.name)} asks for a copy of your TikTok data</h1>
<p>With this link you can let ${h(operator.name)} receive a copy of the data TikTok keeps about your account, through TikTok's Data Portability API. You decide on TikTok's own page: nothing is shared unless you agree there.</p>
<h2>What will be shared</h2>
<ul>
${options.scopes.map((scope) => `<li>${h(scopeInWords(scope, options.interval))} <span class="muted">(<code>${h(scope)}</code>)</span></li>`).join('\n')}
</ul>
<h2>Who asks</h2>
<div class="box"><p><strong>${h(operator.name)}</strong></p><p>Contact: ${contact(operator)}</p></div>
<form method="post" action="${h(options.action)}">
<button class="button" type="submit">Continue to TikTok</button>
</form>
<p class="muted">TikTok asks you to sign in and to agree. You can withdraw your consent later by removing this app's access in your TikTok settings, or by asking ${h(operator.name)}. This link works once, until ${h(when(options.expiresAt))}.</p>`,
  };
}

export function successPage(operator: Operator, scopes: readonly string[], interval: SyncInterval): Page {
  return {
    kind: 'connected',
    status: 200,
    title: 'Your TikTok account is connected',
    body: `<h1>Done: your TikTok account is connected</h1>
<p>${h(operator.name)} now receives a copy of:</p>
<ul>
${scopes.map((scope) => `<li>${h(scopeInWords(scope, interval))}</li>`).join('\n')}
</ul>
<p>The first copy is being asked for now; TikTok takes a while to prepare it.</p>
<p class="muted">To stop sharing, remove this app's access in your TikTok settings, or contact ${askOperator(operator)}. You can close this page.</p>`,
  };
}

const nothingStored = 'Nothing was shared or stored.';

export function invalidLinkPage(operator: Operator | undefined): Page {
  return {
    kind: 'invite_unknown',
    status: 404,
    title: 'This link is not valid',
    body: `<h1>This link is not valid</h1>
<p>No invite has this address. Check that you opened the whole link, as you received it.</p>
${operator ? `<p>If it still does not work, ask ${askOperator(operator)} for a new link.</p>` : ''}`,
  };
}

export function expiredLinkPage(operator: Operator, expiredAt: Date): Page {
  return {
    kind: 'invite_expired',
    status: 410,
    title: 'This link has expired',
    body: `<h1>This link has expired</h1>
<p>It worked until ${h(when(expiredAt))}. ${nothingStored}</p>
<p>Ask ${askOperator(operator)} for a new link.</p>`,
  };
}

export function usedLinkPage(operator: Operator, usedAt: Date): Page {
  return {
    kind: 'invite_used',
    status: 410,
    title: 'This link was already used',
    body: `<h1>This link was already used</h1>
<p>A TikTok account was connected through it on ${h(when(usedAt))}; a link works once. If that was you, there is nothing more to do.</p>
<p>Otherwise ask ${askOperator(operator)} for a new link.</p>`,
  };
}

export function revokedLinkPage(operator: Operator): Page {
  return {
    kind: 'invite_revoked',
    status: 410,
    title: 'This link was withdrawn',
    body: `<h1>This link was withdrawn</h1>
<p>${h(operator.name)} no longer asks for data through it. ${nothingStored}</p>
<p>Questions: ${contact(operator)}.</p>`,
  };
}

export function deniedPage(operator: Operator): Page {
  return {
    kind: 'consent_denied',
    status: 200,
    title: 'You did not agree to share your data',
    body: `<h1>You did not agree to share your data</h1>
<p>You declined on TikTok's page. ${nothingStored}</p>
<p>If that was a mistake, open your invite link again: it still works. Questions: ${contact(operator)}.</p>`,
  };
}

export function partialScopesPage(
  operator: Operator,
  missing: readonly string[],
  interval: SyncInterval,
): Page {
  return {
    kind: 'consent_partial',
    status: 200,
    title: 'Not everything asked for was allowed',
    body: `<h1>Not everything asked for was allowed</h1>
<p>On TikTok's page, some of the data ${h(operator.name)} asks for was left out:</p>
<ul>
${missing.map((scope) => `<li>${h(scopeInWords(scope, interval))}</li>`).join('\n')}
</ul>
<p>${h(operator.name)} needs all of it, so ${nothingStored.toLowerCase()} To share it, open your invite link again and allow everything asked for. Questions: ${contact(operator)}.</p>`,
  };
}

export type StateProblem = 'missing' | 'unknown' | 'used' | 'expired';

export function statePage(operator: Operator | undefined, problem: StateProblem, ttlMinutes: number): Page {
  const again = operator
    ? `Open your invite link again to start over${problem === 'used' ? '' : `, or ask ${askOperator(operator)} for help`}.`
    : 'Open your invite link again to start over.';
  const pages: Record<StateProblem, { title: string; text: string }> = {
    missing: {
      title: 'This answer from TikTok is incomplete',
      text: `The address lacks the <code>state</code> that ties it to a consent started here. ${nothingStored}`,
    },
    unknown: {
      title: 'This answer from TikTok is not valid',
      text: `It does not belong to a consent started here (the address was changed, or it is too old). ${nothingStored}`,
    },
    used: {
      title: 'This answer from TikTok was already used',
      text: `Each consent is completed once. If you reloaded this page after connecting, your account is connected already and there is nothing more to do.`,
    },
    expired: {
      title: 'This sign-in took too long',
      text: `More than ${ttlMinutes} minutes passed between this site and TikTok's answer. ${nothingStored}`,
    },
  };
  const { title, text } = pages[problem];
  return {
    kind: `state_${problem}`,
    status: 400,
    title,
    body: `<h1>${h(title)}</h1>
<p>${text}</p>
<p>${again}</p>`,
  };
}

export function tiktokErrorPage(
  operator: Operator,
  error: { code: string; description?: string | undefined; logId?: string | undefined },
): Page {
  const said = error.description ? `: ${h(error.description)}` : '';
  const logId = error.logId ? ` (TikTok log id <code>${h(error.logId)}</code>)` : '';
  return {
    kind: 'tiktok_error',
    status: 502,
    title: 'TikTok reported a problem',
    body: `<h1>TikTok reported a problem</h1>
<p>TikTok answered <code>${h(error.code)}</code>${said}${logId}. ${nothingStored}</p>
<p>Try again later from your invite link. If it keeps happening, tell ${askOperator(operator)} what this page says.</p>`,
  };
}

export function accountConflictPage(operator: Operator): Page {
  return {
    kind: 'account_conflict',
    status: 409,
    title: 'This link was made for another TikTok account',
    body: `<h1>This link was made for another TikTok account</h1>
<p>The TikTok account you signed in with is not the one this link is for. ${nothingStored}</p>
<p>Open the link again and sign in to TikTok with the account it is meant for, or ask ${askOperator(operator)} for a new link.</p>`,
  };
}

export function crossSitePage(): Page {
  return {
    kind: 'cross_site',
    status: 403,
    title: 'Open the invite link itself',
    body: `<h1>Open the invite link itself</h1>
<p>This request came from another site. ${nothingStored} Open the link you received to continue.</p>`,
  };
}

export function notSetUpPage(): Page {
  return {
    kind: 'not_set_up',
    status: 404,
    title: 'Invite links are not set up here',
    body: `<h1>Invite links are not set up here</h1>
<p>This server does not accept invite links. Ask whoever sent you the link to check it.</p>`,
  };
}

export function methodPage(allowed: string, allow: string): Page {
  return {
    kind: 'method_not_allowed',
    status: 405,
    allow,
    title: 'Not allowed',
    body: `<h1>Not allowed</h1>
<p>This address answers ${h(allowed)} only. Open your invite link in a browser.</p>`,
  };
}

export function failurePage(operator: Operator | undefined): Page {
  return {
    kind: 'failed',
    status: 500,
    title: 'Something went wrong on our side',
    body: `<h1>Something went wrong on our side</h1>
<p>Your consent could not be completed. ${nothingStored}</p>
<p>Try again in a few minutes from your invite link${operator ? `; if it keeps happening, tell ${askOperator(operator)}` : ''}.</p>`,
  };
}
