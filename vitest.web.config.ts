// vitest.web.config.ts — `npm run test:web`: the browser end to end (test/web/), Chromium headless via playwright-core.
import { defineConfig } from 'vitest/config';
export default defineConfig({
  test: {
    include: ['test/web/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 180_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
