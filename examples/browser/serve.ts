// `npm run demo:web`: builds the browser demo and serves it on http://localhost (WebGPU needs a
// secure context, and localhost is one).
//   npm run demo:web                   serve on port 8080 (or the next free one)
//   npm run demo:web -- --port 3000    pick the port
//   npm run demo:web -- --out site     write index.html, main.js, styles.css to ./site instead
import { mkdir, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { join, resolve } from "node:path";
import { buildDemo } from "./build.js";

const TYPES: Record<string, string> = { "/": "text/html; charset=utf-8", "/main.js": "text/javascript; charset=utf-8", "/styles.css": "text/css; charset=utf-8" };

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const started = performance.now();
const files = await buildDemo();
const kb = (s: string | Uint8Array): string => `${Math.round((typeof s === "string" ? Buffer.byteLength(s) : s.byteLength) / 1024)} KB`;
console.log(`built the demo in ${Math.round(performance.now() - started)} ms (main.js ${kb(files["/main.js"])}, MNIST digits included)`);

const out = option("--out");
if (out) {
  const dir = resolve(out);
  await mkdir(dir, { recursive: true });
  for (const [path, body] of Object.entries(files)) await writeFile(join(dir, path === "/" ? "index.html" : path.slice(1)), body);
  console.log(`wrote ${dir}; serve it from any static web server (over https, or on localhost)`);
} else {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname.replace(/\/index\.html$/, "/");
    const body = files[path];
    if (body === undefined) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    res.writeHead(200, { "content-type": TYPES[path], "cache-control": "no-store" }).end(body);
  });
  const listen = (port: number): void => {
    server.once("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "EADDRINUSE" && !option("--port")) listen(port + 1);
      else throw e;
    });
    server.listen(port, "localhost", () => {
      console.log(`gpu-cnn demo: http://localhost:${port}/  (Ctrl+C to stop)`);
      console.log("open it in a browser with WebGPU (Chrome or Edge 113+, Safari 26, Firefox 141+ on Windows)");
    });
  };
  listen(Number(option("--port") ?? process.env.PORT ?? 8080));
}
