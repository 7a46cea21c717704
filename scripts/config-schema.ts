/**
 * Writes tiktok-sync.config.schema.json, the JSON Schema of the config file, from the zod schema
 * that validates it (src/config/schema.ts), and the README's configuration table (src/config/reference.ts). Editors use it for completion and checks through the
 * `$schema` key of the config file; test/scheduler/config-schema.test.ts fails when it is stale.
 *
 *   npm run config-schema
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { configJsonSchema } from '../src/config/json-schema.js';
import { withConfigTable } from '../src/config/reference.js';

const target = fileURLToPath(new URL('../tiktok-sync.config.schema.json', import.meta.url));
writeFileSync(target, configJsonSchema());
console.log(`wrote ${target}`);
const readme = fileURLToPath(new URL('../README.md', import.meta.url));
writeFileSync(readme, withConfigTable(readFileSync(readme, 'utf8')));
console.log(`wrote the configuration table of ${readme}`);
