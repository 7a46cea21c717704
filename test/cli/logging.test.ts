import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger, readableLogs } from '../../src/logger.js';

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
