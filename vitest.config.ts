import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/global.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: forks keep native engines (node-llama-cpp) isolated per file.
    pool: 'forks',
    maxWorkers: 2,
  },
});
