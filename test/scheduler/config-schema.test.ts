import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ENV_SETTINGS, LIBPQ_VARS } from '../../src/config/env.js';
import { configJsonSchema } from '../../src/config/json-schema.js';
import { configTable, TABLE_END, TABLE_START } from '../../src/config/reference.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (name: string) => readFileSync(path.join(ROOT, name), 'utf8');

interface SchemaNode {
  type?: string;
  properties?: Record<string, SchemaNode>;
  additionalProperties?: SchemaNode | boolean;
  enum?: unknown[];
  anyOf?: SchemaNode[];
}

/** The keys of `value` the schema does not know, as dotted paths (a small walk, enough for the example). */
function unknownKeys(value: unknown, schema: SchemaNode, at = ''): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [];
  const problems: string[] = [];
  for (const [key, child] of Object.entries(value)) {
    const where = at ? `${at}.${key}` : key;
    const node =
      schema.properties?.[key] ??
      (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
    if (!node) problems.push(where);
    else problems.push(...unknownKeys(child, node, where));
  }
  return problems;
}

describe('the config file JSON Schema', () => {
  it('is the one generated from the schema that validates the file (run `npm run config-schema`)', () => {
    expect(read('tiktok-sync.config.schema.json')).toBe(configJsonSchema());
  });

  it('is referenced by the example file, which uses only settings it describes', () => {
    const example = JSON.parse(read('tiktok-sync.config.example.json'));
    expect(example.$schema).toBe('./tiktok-sync.config.schema.json');
    const schema = JSON.parse(read('tiktok-sync.config.schema.json')) as SchemaNode;
    expect(schema.additionalProperties).toBe(false);
    expect(unknownKeys(example, schema)).toEqual([]);
    expect(unknownKeys({ sync: { intervall: '1h' } }, schema)).toEqual(['sync.intervall']);
  });

  it('describes every setting, with its allowed words and ranges', () => {
    const schema = JSON.parse(read('tiktok-sync.config.schema.json'));
    const undescribed: string[] = [];
    const walk = (node: { properties?: Record<string, { description?: string }> }, at: string) => {
      for (const [key, child] of Object.entries(node.properties ?? {})) {
        if (!child.description) undescribed.push(`${at}${key}`);
        walk(child as typeof node, `${at}${key}.`);
      }
    };
    walk(schema, '');
    expect(undescribed).toEqual([]);
    expect(schema.properties.logLevel.enum).toContain('debug');
    expect(schema.properties.sync.properties.concurrency).toMatchObject({ minimum: 1, maximum: 256 });
  });

  it('and the README has one table of every setting and variable, generated from it', () => {
    const readme = read('README.md');
    const table = readme.slice(readme.indexOf(TABLE_START), readme.indexOf(TABLE_END) + TABLE_END.length);
    expect(table).toBe(configTable());
    for (const setting of ENV_SETTINGS) {
      const row = table.split('\n').find((line) => line.includes(`\`${setting.name}\``));
      expect(row, setting.name).toContain(`\`${setting.key}\``);
    }
    for (const name of [...LIBPQ_VARS, 'TIKTOK_SYNC_CONFIG']) expect(table).toContain(`\`${name}\``);
    expect(table).toContain('| `sync.interval` | `TIKTOK_SYNC_INTERVAL` | `24h` |');
  });
});
