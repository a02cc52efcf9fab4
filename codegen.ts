import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * Typed operations for tests and clients: operations written with `graphql(...)` from
 * test/generated are typed against the committed schema.graphql. `npm run codegen` regenerates
 * (the test and lint scripts run it first).
 */
const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: ['test/**/*.ts', '!test/generated/**'],
  ignoreNoDocuments: true,
  generates: {
    'test/generated/': {
      preset: 'client',
      config: {
        useTypeImports: true,
        emitLegacyCommonJSImports: false,
        enumsAsTypes: true,
        scalars: { DateTime: 'string', JSON: 'unknown', ID: 'string' },
      },
      presetConfig: { fragmentMasking: false },
    },
  },
};

export default config;
