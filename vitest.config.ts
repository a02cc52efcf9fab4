import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

// Three projects in one run:
// - unit: no database or pub/sub (fake LLM, workspace agent, retry policy, …), run once;
// - embedded / services: the same integration suite against PGlite + in-process pub/sub and
//   against Postgres + Redis (test/support/backend.ts reads TEST_BACKEND);
// - replicas: several server processes on one Postgres + Redis, so services only.
// test/security/ holds the attack tests (issue #8): unit/ (no backend), api/ (both backends) and
// services/ (Redis faults and other attacks that need Postgres + Redis).
export default defineConfig({
  // graphql-js must be one module instance: Pothos and Yoga load its CommonJS entry, while Vite
  // would resolve our own `import 'graphql'` to the ESM one ("Cannot use GraphQLScalarType from
  // another module or realm").
  resolve: { alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }] },
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Vitest's default is one worker per core minus one: a single file at a time on the 2-core
    // CI machines. The integration files mostly wait (on servers, the fake LLM, sandboxes), each
    // on its own database, so two at a time nearly halves the run without sharing any state.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'test/security/unit/**/*.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'embedded',
          include: ['test/integration/**/*.test.ts', 'test/security/api/**/*.test.ts'],
          env: { TEST_BACKEND: 'embedded' },
        },
      },
      {
        extends: true,
        test: {
          name: 'services',
          include: [
            'test/integration/**/*.test.ts',
            'test/security/api/**/*.test.ts',
            'test/replicas/**/*.test.ts',
            'test/security/services/**/*.test.ts',
          ],
          env: { TEST_BACKEND: 'services' },
        },
      },
    ],
  },
});
