import { defineConfig } from "tsup";

// Two entries with one API: index.ts for browsers (navigator.gpu), index.node.ts which adds
// Dawn. WGSL files are inlined as strings so the browser build needs no file system.
export default defineConfig({
  entry: { index: "src/index.ts", "index.node": "src/index.node.ts" },
  format: ["esm", "cjs"],
  dts: true,
  sourcemap: true,
  clean: true,
  target: "es2022",
  loader: { ".wgsl": "text" },
  external: ["webgpu", "pngjs", "jpeg-js"],
  // keep `import("webgpu")` a real dynamic import in the CommonJS build (webgpu is ESM-only)
  esbuildOptions(options) {
    options.supported = { ...options.supported, "dynamic-import": true };
  },
});
