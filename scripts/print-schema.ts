/**
 * Prints the Pothos schema to schema.graphql (committed). `--check` exits 1 when the committed
 * file is stale, which CI and test/unit/schema/schema-drift.test.ts rely on.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { buildSchema } from '../src/graphql/schema.js';

export const SCHEMA_FILE = fileURLToPath(new URL('../schema.graphql', import.meta.url));

export function printServedSchema(): string {
  return `${printSchema(lexicographicSortSchema(buildSchema()))}\n`;
}

async function main() {
  const printed = printServedSchema();
  if (process.argv.includes('--check')) {
    const committed = await readFile(SCHEMA_FILE, 'utf8').catch(() => '');
    if (committed !== printed) {
      console.error('schema.graphql is stale: run `npm run schema:print` and commit it');
      process.exit(1);
    }
    return;
  }
  await writeFile(SCHEMA_FILE, printed);
  console.log('wrote schema.graphql');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
