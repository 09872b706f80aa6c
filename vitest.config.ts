import { defineConfig } from 'vitest/config';

// Two projects: `unit` tests pure logic in milliseconds; `integration` starts real PostgreSQL,
// Toxiproxy and services, so it runs its files one at a time to keep the 2-core machine honest.
export default defineConfig({
  test: {
    reporters: ['default', './test/support/plain-summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
