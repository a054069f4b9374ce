import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/support/BuildOnce.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Integration tests start real servers and move real bytes; two at a time fit a 2-core box.
    maxWorkers: 2,
    minWorkers: 1
  }
})
