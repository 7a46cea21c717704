import { inspect } from 'node:util';

const REDACTED = '[redacted]';

/**
 * A string that must never reach a log, an error message or a serialized object: client secret,
 * access and refresh tokens, PKCE verifiers. `String(secret)`, `JSON.stringify`, `util.inspect` and
 * template literals all print `[redacted]`; only {@link Secret.reveal} gives the value, at the one
 * place that sends it.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  static of(value: string | Secret): Secret {
    return value instanceof Secret ? value : new Secret(value);
  }

  reveal(): string {
    return this.#value;
  }

  get length(): number {
    return this.#value.length;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }

  [Symbol.toPrimitive](): string {
    return REDACTED;
  }
}

/**
 * The bytes of a key written as 64 hex digits or base64 (standard or URL-safe); undefined when the
 * text is neither. The caller checks the length.
 */
export function decodeKeyText(text: string): Buffer | undefined {
  const value = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, 'hex');
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) return Buffer.from(value, 'base64');
  return undefined;
}
