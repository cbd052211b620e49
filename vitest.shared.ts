import { defineConfig } from 'vitest/config';

// Tests run against each package's TypeScript sources (the `@pretext/source` export condition),
// so `npm test` never tests a stale `dist/`.
export default defineConfig({
  resolve: { conditions: ['@pretext/source', 'module', 'node', 'import', 'default'] },
  ssr: { resolve: { conditions: ['@pretext/source', 'module', 'node', 'import', 'default'], externalConditions: ['@pretext/source'] } },
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
