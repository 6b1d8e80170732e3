import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

// Workspace packages export their TypeScript sources under the "source" condition, so tests
// run against src/ directly, with no build step in between.
const exclude = ['**/node_modules/**', '**/dist/**'];

export default defineConfig({
  // No 'module' condition: vitest hands these conditions to its Node workers, and under
  // 'module' a plain require('@opentelemetry/api') from a CJS package picks the bundler-only ESM
  // build (extensionless imports) and fails. Node itself never uses 'module'.
  ssr: {
    resolve: {
      conditions: ['source', ...defaultServerConditions.filter((c) => c !== 'module')],
      externalConditions: ['source'],
    },
  },
  test: {
    // Packages Node would load wrongly under the conditions above, so Vite resolves their
    // imports instead: with 'module', @opentelemetry/api's bundler-only ESM build (imported by
    // @anthropic-ai/sdk); with 'source', eventsource-parser's raw .ts (imported by the MCP client).
    server: { deps: { inline: ['@anthropic-ai/sdk', '@modelcontextprotocol/sdk'] } },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: [
            'packages/*/src/**/*.test.ts',
            'apps/*/src/**/*.test.ts',
            'bench/src/**/*.test.ts',
            'scripts/**/*.test.mjs',
          ],
          exclude: [...exclude, '**/*.int.test.ts', '**/*.e2e.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['packages/*/src/**/*.int.test.ts', 'apps/*/src/**/*.int.test.ts'],
          exclude,
          globalSetup: ['packages/testing/src/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['apps/*/src/**/*.e2e.test.ts', 'packages/*/src/**/*.e2e.test.ts'],
          exclude,
          globalSetup: ['packages/testing/src/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
