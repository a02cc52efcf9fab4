import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { printServedSchema, SCHEMA_FILE } from '../../../scripts/print-schema.js';

describe('schema.graphql', () => {
  it('matches the Pothos schema (run `npm run schema:print` after changing types)', () => {
    expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(printServedSchema());
  });
});
