import { defineConfig } from 'vitest/config';

// Real-process and namespace tests spawn node processes and wait on real timers, so they get
// generous timeouts; unit and property tests stay fast. Files run in parallel across 2 workers
// (the machine has 2 cores); integration files serialise themselves where they share ports.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'gossip/**/*.test.ts', 'crdt/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    maxWorkers: 2,
    reporters: ['default'],
  },
});
