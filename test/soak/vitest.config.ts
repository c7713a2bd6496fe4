// `npm run test:soak`: the long-running durability and soak suites, kept out of the default run
// (their files end in .soak.ts, which the main config does not include).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/soak/**/*.soak.ts'],
    testTimeout: 20 * 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
