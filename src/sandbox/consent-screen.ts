import escapeHtml from 'escape-html';

/** What each scope lets the app read, as the screen says it (docs/tiktok-api.md §0). */
const SCOPE_WORDS: Record<string, string> = {
  'portability.all.single': 'a copy of all your data, once',
  'portability.all.ongoing': 'a copy of all your data, again and again',
  'portability.activity.single': 'a copy of your activity, once',
  'portability.activity.ongoing': 'a copy of your activity, again and again',
  'portability.directmessages.single': 'a copy of your direct messages, once',
  'portability.directmessages.ongoing': 'a copy of your direct messages, again and again',
  'portability.postsandprofile.single': 'a copy of your posts and profile, once',
  'portability.postsandprofile.ongoing': 'a copy of your posts and profile, again and again',
  'user.info.basic': 'your basic profile (name and avatar)',
};

/** Parameters the screen adds; the rest of the consent URL is carried over as it came. */
const OWN = new Set(['sandbox_decision', 'sandbox_user', 'sandbox_scope']);

/**
 * The sandbox's consent screen: who signs in (one radio button per sandbox user, the `sandbox_user`
 * asked for or the first checked), a checkbox per requested scope (all checked), and Authorize or
 * Cancel. Both buttons submit the consent URL again with the choice (`sandbox_decision`, `sandbox_user`,
 * `sandbox_scope`), which the consent page answers with TikTok's redirect. No script, no outside asset.
 */
export function consentScreen(consentUrl: URL, users: readonly string[], scopes: readonly string[]): string {
  const q = consentUrl.searchParams;
  const chosen = users.includes(q.get('sandbox_user') ?? '') ? q.get('sandbox_user') : users[0];
  const hidden = [...q.entries()]
    .filter(([key]) => !OWN.has(key))
    .map(([key, value]) => `<input type="hidden" name="${escapeHtml(key)}" value="${escapeHtml(value)}">`)
    .join('\n');
  const userChoices = users
    .map(
      (user, i) =>
        `<label><input type="radio" name="sandbox_user" value="${escapeHtml(user)}" id="user-${i}"${user === chosen ? ' checked' : ''}> ${escapeHtml(user)}</label>`,
    )
    .join('\n');
  const scopeChoices = scopes
    .map(
      (scope) =>
        `<label><input type="checkbox" name="sandbox_scope" value="${escapeHtml(scope)}" checked> ${escapeHtml(SCOPE_WORDS[scope] ?? scope)} <code>${escapeHtml(scope)}</code></label>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Authorize ${escapeHtml(q.get('client_key') ?? '')} · TikTok sandbox</title>
<style>
body { font: 16px/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 32rem; padding: 1rem; }
fieldset { border: 1px solid #999; border-radius: 6px; margin: 1rem 0; }
label { display: block; padding: 0.4rem 0; }
code { font-size: 0.8em; color: #555; }
button { font: inherit; padding: 0.7rem 1.2rem; margin: 0.3rem 0.5rem 0.3rem 0; border-radius: 6px; border: 1px solid #333; }
button[value="allow"] { background: #fe2c55; color: #fff; border-color: #fe2c55; }
</style>
</head>
<body>
<main>
<p><strong>TikTok sandbox</strong>: a local stand-in for TikTok's consent page; nothing reaches TikTok.</p>
<h1>App <code>${escapeHtml(q.get('client_key') ?? '')}</code> asks to access your TikTok data</h1>
<form method="get" action="/v2/auth/authorize/">
${hidden}
<fieldset><legend>Sign in as</legend>
${userChoices}
</fieldset>
<fieldset><legend>Allow the app to get</legend>
${scopeChoices}
</fieldset>
<button type="submit" name="sandbox_decision" value="allow">Authorize</button>
<button type="submit" name="sandbox_decision" value="deny">Cancel</button>
</form>
</main>
</body>
</html>
`;
}
