// Test configuration: unit tests (pure cores, fast) and integration tests (real nats-server
// and real processes, each cluster isolated by its own port, subject prefix and dirs).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
