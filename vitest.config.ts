import { readFileSync } from "node:fs";
import { defineConfig } from "vitest/config";

// Import .wgsl files as strings, the way tsup's text loader bundles them.
const wgsl = {
  name: "wgsl-as-text",
  transform(_code: string, id: string) {
    if (!id.endsWith(".wgsl")) return null;
    return { code: `export default ${JSON.stringify(readFileSync(id, "utf8"))};`, map: null };
  },
};

export default defineConfig({
  plugins: [wgsl],
  test: {
    include: ["tests/**/*.test.ts"],
    exclude: ["node_modules/**"],
    setupFiles: ["tests/setup.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // One GPU device per worker; lavapipe already uses both cores for each dispatch.
    pool: "forks",
    poolOptions: { forks: { singleFork: true } },
    env: { XDG_RUNTIME_DIR: "/tmp" },
  },
});
