// Headless Chromium with WebGPU on SwiftShader, driven by playwright-core, for the browser tests.
// Debian's /usr/bin/chromium is used (npm's browser downloads fail here); pages are served from
// localhost because navigator.gpu needs a secure context.
import { build } from "esbuild";
import { createServer, type Server } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, resolve } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";

export const root = resolve(__dirname, "../..");

const CHROMIUM_FLAGS = [
  "--enable-unsafe-webgpu",
  "--enable-unsafe-swiftshader",
  "--use-webgpu-adapter=swiftshader",
  "--no-sandbox",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** Bundles a browser entry (TypeScript) for the browser platform; fails on any Node built-in. */
export async function bundle(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    loader: { ".wgsl": "text" },
    logLevel: "silent",
  });
  return result.outputFiles[0].text;
}

const TYPES: Record<string, string> = {
  ".html": "text/html",
  ".js": "text/javascript",
  ".css": "text/css",
  ".json": "application/json",
  ".png": "image/png",
};

/** Serves `files` (path -> content) from localhost; returns the base URL and the server. */
export async function serve(files: Record<string, string | Uint8Array>): Promise<{ url: string; server: Server }> {
  const server = createServer(async (req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const body = files[path] ?? (path.startsWith("/root/") ? await readFile(join(root, path.slice(6))).catch(() => undefined) : undefined);
    if (body === undefined) {
      res.writeHead(404).end();
      return;
    }
    const type = path.endsWith("/") ? TYPES[".html"] : (TYPES[extname(path)] ?? "application/octet-stream");
    res.writeHead(200, { "content-type": type }).end(body);
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return { url: `http://localhost:${port}`, server };
}

export async function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: CHROMIUM_FLAGS });
}

/** Opens `url` and collects console errors, so a failing page says why. */
export async function open(browser: Browser, url: string): Promise<Page> {
  const page = await browser.newPage();
  page.on("pageerror", (e) => console.error("page error:", e.message));
  page.on("console", (m) => {
    if (m.type() === "error") console.error("page console:", m.text());
  });
  await page.goto(url);
  return page;
}

/** A page script's exported functions, callable from the test (window.page[name](...args)). */
export interface TestPage {
  page: Page;
  /** Calls window.page[name](...args) in the page; arguments and result travel as JSON. */
  call<T>(name: string, ...args: unknown[]): Promise<T>;
  close(): Promise<void>;
}

/**
 * Bundles `entry` (a page script that assigns its test functions to window.page), serves it (and
 * `files`, path -> content) on localhost, and opens it once in headless Chromium: each test file
 * starts one page, so the device (and its kernel compiles) starts once per file.
 */
export async function startPage(entry: string, files: Record<string, string | Uint8Array> = {}): Promise<TestPage> {
  const js = await bundle(entry);
  const { url, server } = await serve({ ...files, "/": `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><script type="module" src="/page.js"></script>`, "/page.js": js });
  const browser = await launch();
  try {
    const page = await open(browser, url);
    await page.waitForFunction(() => "page" in window, undefined, { timeout: 30_000 });
    return {
      page,
      call: <T>(name: string, ...args: unknown[]) =>
        page.evaluate(
          ([n, a]) => (window as unknown as { page: Record<string, (...x: unknown[]) => Promise<unknown>> }).page[n as string](...(a as unknown[])),
          [name, args] as const,
        ) as Promise<T>,
      async close() {
        await browser.close();
        server.close();
      },
    };
  } catch (e) {
    await browser.close();
    server.close();
    throw e;
  }
}

/** Bytes as base64 and back: how binary data crosses page.evaluate (JSON only). */
export const base64 = {
  encode: (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64"),
  decode: (text: string): Uint8Array => new Uint8Array(Buffer.from(text, "base64")),
};
