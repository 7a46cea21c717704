import { z } from 'zod';
import { fileSchema } from './schema.js';

/**
 * The config file's JSON Schema, as written to tiktok-sync.config.schema.json. The schema describes
 * the shape, the allowed words and the ranges; the rules that need code (duration and cron
 * grammar, time zones, URLs, the encryption key) are checked when the file is loaded
 * (src/config/load.ts), with a message that says what was expected.
 */
export function configJsonSchema(): string {
  return `${JSON.stringify(configJsonSchemaObject(), null, 2)}\n`;
}

export function configJsonSchemaObject(): Record<string, unknown> {
  const schema = z.toJSONSchema(fileSchema, { io: 'input', target: 'draft-2020-12' });
  return {
    $schema: schema.$schema,
    title: 'tiktok-sync config file',
    description:
      'Settings of tiktok-sync (README.md, "Configuration"). Environment variables override the same settings.',
    ...Object.fromEntries(Object.entries(schema).filter(([key]) => key !== '$schema')),
  };
}
