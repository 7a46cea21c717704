import { pino } from 'pino';

/**
 * The logger every module receives (never a global). JSON lines on stderr; secrets are redacted by
 * key wherever they appear in a logged object, so a token never reaches a log line by accident.
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
  /** Where lines go; stderr by default so stdout stays for command output. */
  destination?: pino.DestinationStream;
}

export function createLogger({ level, destination }: CreateLoggerOptions): Logger {
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
    destination ?? pino.destination({ fd: 2, sync: true }),
  );
}

/** A logger that drops everything, for tests and library callers that pass none. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
