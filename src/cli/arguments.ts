/** Parsers of option values that several commands share. */
import { InvalidArgumentError } from 'commander';
import { DURATION_FORM, parseDuration } from '../duration.js';

/** A duration option (`30s`, `12h`, `7d`) in milliseconds. */
export function duration(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined) throw new InvalidArgumentError(`expected ${DURATION_FORM}.`);
  return ms;
}
