import { defineConfig } from "vitest/config";

// Native addons (better-sqlite3, node-llama-cpp) break in the vm pools: run tests in forked processes.
// Two forks on the 2-core CI machine; end-to-end tests spawn the real binary and are I/O bound.
export default defineConfig({
  test: {
    pool: "forks",
    maxWorkers: 2,
    include: ["tests/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    globalSetup: ["tests/global-setup.ts"],
    reporters: ["default", "./tests/summary-reporter.ts"],
  },
});
