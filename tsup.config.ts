import { defineConfig, type Options } from "tsup";

const shared: Options = {
  sourcemap: true,
  target: "es2022",
  loader: { ".wgsl": "text" },
  external: ["webgpu", "pngjs", "jpeg-js"],
  // keep `import("webgpu")` a real dynamic import in the CommonJS build (webgpu is ESM-only)
  esbuildOptions(options) {
    options.supported = { ...options.supported, "dynamic-import": true };
  },
};

// The library: two entries with one API, index.ts for browsers (navigator.gpu) and
// index.node.ts which adds Dawn. WGSL files are inlined as strings, so the browser build needs
// no file system. Then the `gpu-cnn` command (bin/gpu-cnn.js runs dist/cli.js), ESM only.
export default defineConfig([
  { ...shared, entry: { index: "src/index.ts", "index.node": "src/index.node.ts" }, format: ["esm", "cjs"], dts: true, clean: true },
  { ...shared, entry: { cli: "src/cli/main.ts" }, format: ["esm"], dts: false, clean: false },
]);
