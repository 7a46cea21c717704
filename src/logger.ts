import { pino } from 'pino';
import pretty from 'pino-pretty';
import { visible } from './terminal-text.js';

/**
 * The logger every module receives (never a global). Lines on stderr: readable (pino-pretty) when
 * stderr is a terminal, JSON lines otherwise, for log collectors. Secrets are redacted by key
 * wherever they appear in a logged object, before either format, so a token never reaches a log
 * line by accident.
 */
export type Logger = pino.Logger;

export const REDACTED_KEYS = [
  'access_token',
  'accessToken',
  'refresh_token',
  'refreshToken',
  'client_secret',
  'clientSecret',
  'password',
  'authorization',
  'Authorization',
  'token',
  'code_verifier',
  'encryptionKey',
];

export interface CreateLoggerOptions {
  level: string;
  /** `auto`: readable on a terminal, JSON otherwise. A given destination gets JSON unless `pretty`. */
  format?: LogFormat | undefined;
  /** Where lines go; stderr by default so stdout stays for command output. */
  destination?: pino.DestinationStream | undefined;
  /** Whether stderr is a terminal; `process.stderr.isTTY` by default. */
  isTerminal?: boolean | undefined;
}

export type LogFormat = 'auto' | 'json' | 'pretty';

/** Whether lines are written for people (pino-pretty) rather than as JSON. */
export function readableLogs(
  options: Pick<CreateLoggerOptions, 'format' | 'destination' | 'isTerminal'>,
): boolean {
  const format = options.format ?? 'auto';
  if (format !== 'auto') return format === 'pretty';
  return options.destination === undefined && (options.isTerminal ?? process.stderr.isTTY === true);
}

export function createLogger(options: CreateLoggerOptions): Logger {
  const { level, destination } = options;
  const stream = readableLogs(options)
    ? visibleStrings(
        pretty({
          destination: destination ?? 2,
          sync: true,
          colorize: destination === undefined && process.stderr.isTTY === true,
          translateTime: 'SYS:HH:MM:ss.l',
          ignore: 'pid,hostname',
        }),
      )
    : (destination ?? pino.destination({ fd: 2, sync: true }));
  return pino(
    {
      level,
      base: undefined,
      redact: {
        paths: [
          ...REDACTED_KEYS,
          ...REDACTED_KEYS.map((key) => `*.${key}`),
          ...REDACTED_KEYS.map((key) => `*.*.${key}`),
        ],
        censor: '[redacted]',
      },
      serializers: { err: pino.stdSerializers.err },
    },
    stream,
  );
}

/**
 * Hands pino-pretty each JSON line with control characters in its strings made visible
 * (src/terminal-text.ts): pino-pretty would print a message or an error naming a file as it is,
 * escape sequences included. JSON lines need nothing: JSON escapes them.
 */
function visibleStrings(stream: pino.DestinationStream): pino.DestinationStream {
  const reviver = (_key: string, value: unknown) => (typeof value === 'string' ? visible(value) : value);
  return {
    write(line: string) {
      let safe: string;
      try {
        safe = `${JSON.stringify(JSON.parse(line, reviver))}\n`;
      } catch {
        safe = `${visible(line.trimEnd())}\n`;
      }
      stream.write(safe);
    },
  };
}

/** A logger that drops everything, for tests and library callers that pass none. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
