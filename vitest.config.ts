import { defineConfig } from "vitest/config";
import { SummaryReporter } from "./.ci/summary-reporter";

// One vitest run covers every package, service and cross-package test.
// Integration tests start real processes and do real fsyncs, so they get generous
// timeouts; goals about speed live in the benchmarks, never in these timeouts.
export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.ts", "services/*/test/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    reporters: ["default", new SummaryReporter()],
    coverage: {
      provider: "v8",
      include: ["packages/*/src/**/*.ts"],
      reporter: ["text-summary", "text"],
    },
  },
});
