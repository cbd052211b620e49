import { defineConfig } from 'vitest/config';

// Not the shared config: that one resolves with the `import` and `module` conditions, and vitest passes them to the
// test process as `--conditions`, which makes `require('ejs')` inside @nx/devkit load ejs's ESM build (no `render`).
// The generator's tests import no workspace sources, so they run with Node's own resolution.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
