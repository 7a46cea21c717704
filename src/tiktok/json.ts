import { isLosslessNumber, LosslessNumber, parse, stringify } from 'lossless-json';

/**
 * JSON with exact 64-bit integers. TikTok's ids (`request_id`) are int64 and exceed 2^53, which
 * `JSON.parse` would round. Numbers parse to {@link LosslessNumber}; the schemas at the boundary turn
 * them into decimal strings (ids) or numbers (small values). Bigints and LosslessNumbers serialize
 * as bare JSON numbers.
 */
export function parseExactJson(text: string): unknown {
  return parse(text);
}

export function stringifyExactJson(value: unknown): string {
  const text = stringify(value);
  if (text === undefined) throw new TypeError('Value cannot be serialized as JSON.');
  return text;
}

/** A non-negative decimal integer of at most 20 digits, the form we keep int64 ids in. */
export const INT64_TEXT = /^(0|[1-9][0-9]{0,19})$/;

/** The decimal string of an exact integer JSON value, or undefined when it is not one. */
export function integerText(value: unknown): string | undefined {
  if (isLosslessNumber(value)) {
    const text = (value as LosslessNumber).value;
    return /^-?(0|[1-9][0-9]*)$/.test(text) ? text : undefined;
  }
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  return undefined;
}

/** A request id as a JSON number token, for request bodies. */
export function int64(id: string): LosslessNumber {
  if (!INT64_TEXT.test(id)) throw new TypeError(`\`${id}\` is not an int64 id.`);
  return new LosslessNumber(id);
}

/** Replaces LosslessNumbers by plain numbers (when safe) or decimal strings, for generic JSON. */
export function plainJson(value: unknown): unknown {
  if (isLosslessNumber(value)) {
    const text = (value as LosslessNumber).value;
    const number = Number(text);
    return Number.isSafeInteger(number) || (!Number.isInteger(number) && Number.isFinite(number))
      ? number
      : text;
  }
  if (Array.isArray(value)) return value.map(plainJson);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, plainJson(inner)]));
  }
  return value;
}

export { LosslessNumber };
