// vitest.config.ts — test runner settings: every test/*.test.ts, generous timeouts (ONNX Runtime sessions), one process per file.
// test/web/ (a browser end to end) needs Chromium and runs apart: `npm run test:web` (vitest.web.config.ts).
import { configDefaults, defineConfig } from 'vitest/config';
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: [...configDefaults.exclude, 'test/web/**'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
