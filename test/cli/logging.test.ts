import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger, readableLogs } from '../../src/logger.js';
import { visible } from '../../src/terminal-text.js';

function capture() {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { destination, text: () => chunks.join('') };
}

describe('log format', () => {
  it('is readable on a terminal and JSON otherwise, unless set', () => {
    expect(readableLogs({ isTerminal: true })).toBe(true);
    expect(readableLogs({ isTerminal: false })).toBe(false);
    expect(readableLogs({ format: 'json', isTerminal: true })).toBe(false);
    expect(readableLogs({ format: 'pretty', isTerminal: false })).toBe(true);
  });

  it('writes readable lines with pino-pretty, secrets redacted as in JSON', () => {
    const { destination, text } = capture();
    const logger = createLogger({ level: 'info', format: 'pretty', destination });
    logger.info({ account: 'ana', accessToken: 'act.secret-value' }, 'archive imported');
    const line = text();
    expect(line).toMatch(/INFO.*archive imported/);
    expect(line).toContain('account: "ana"');
    expect(line).not.toContain('secret-value');
    expect(() => JSON.parse(line)).toThrow();
  });

  it('writes JSON lines to a given destination by default', () => {
    const { destination, text } = capture();
    createLogger({ level: 'info', destination }).info({ account: 'ana' }, 'archive imported');
    expect(JSON.parse(text())).toMatchObject({ level: 30, account: 'ana', msg: 'archive imported' });
  });

  it('is set by logFormat or LOG_FORMAT', () => {
    expect(loadConfig({ configPath: undefined, env: {}, cwd: '/nonexistent' }).logFormat).toBe('auto');
    expect(loadConfig({ env: { LOG_FORMAT: 'JSON' }, cwd: '/nonexistent' }).logFormat).toBe('json');
    expect(() => loadConfig({ env: { LOG_FORMAT: 'xml' }, cwd: '/nonexistent' })).toThrow(/LOG_FORMAT.*auto/);
  });
});

describe('control characters from outside', () => {
  it('are written as JSON escapes; line feeds, tabs and other text are kept', () => {
    expect(visible('plain café 東京 🎉\ttab\nline')).toBe('plain café 東京 🎉\ttab\nline');
    expect(visible('a\u001b[31mred\u001b[0m\rover\bback\u0007\u007f\u009b2J\u202eevil')).toBe(
      'a\\u001b[31mred\\u001b[0m\\u000dover\\u0008back\\u0007\\u007f\\u009b2J\\u202eevil',
    );
  });

  it('reach readable log lines as text, in the message, fields and errors alike', () => {
    const { destination, text } = capture();
    const logger = createLogger({ level: 'info', format: 'pretty', destination });
    const member = 'user_data\u001b]0;owned\u0007\u001b[2J.json';
    logger.warn({ member, err: new Error(`\`${member}\` is not valid JSON`) }, `import of ${member} failed`);
    const line = text();
    expect(line).not.toMatch(/[\u001b\u0007]/);
    expect(line).toContain('import of user_data\\u001b]0;owned\\u0007\\u001b[2J.json failed');
    expect(line).toContain('`user_data\\u001b]0;owned\\u0007\\u001b[2J.json` is not valid JSON');
  });
});
