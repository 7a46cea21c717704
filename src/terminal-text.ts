/**
 * Text bound for a terminal, with its control characters made visible. File names (zip members,
 * paths) and account names come from outside; printed as they are, an ESC in one is obeyed by the
 * terminal (colours, a cleared screen, a changed window title) and a CR or a backspace rewrites what
 * was printed before it. So C0 controls other than line feed and tab, DEL and C1 controls, and the
 * bidirectional overrides and isolates (which show characters in another order than they are) are
 * written as JSON writes escapes: ESC becomes the six characters `\u001b`. The form is JSON's so that
 * JSON printed by a command (`status --json`) stays valid JSON with the same values.
 *
 * Applied to every line a command prints (src/cli/output.ts) and to readable log lines
 * (src/logger.ts); JSON log lines escape control characters already.
 */

const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const CONTROLS = new RegExp(CONTROL.source, 'g');

/** `text` with control characters written as `\uXXXX`; line feeds and tabs are kept. */
export function visible(text: string): string {
  if (!CONTROL.test(text)) return text;
  return text.replace(CONTROLS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
