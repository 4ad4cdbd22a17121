import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import type { Server } from "node:http";
import { bundle, launch, open, root, serve } from "./harness.js";

let browser: Browser;
let server: Server;
let url: string;

beforeAll(async () => {
  const js = await bundle(`${root}/tests/browser/smoke.page.ts`);
  ({ url, server } = await serve({ "/": `<!doctype html><script type="module" src="/page.js"></script>`, "/page.js": js }));
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
  server?.close();
});

describe("browser", () => {
  it("runs an op on WebGPU in headless Chromium (SwiftShader)", async () => {
    const page = await open(browser, url);
    await page.waitForFunction(() => "run" in window);
    const result = (await page.evaluate(() => (window as unknown as { run: () => Promise<unknown> }).run())) as { adapter: string; y: number[] };
    console.log("browser adapter:", result.adapter);
    expect(result.y).toEqual([0, 2, 0, 4]);
    expect(result.adapter).toMatch(/navigator\.gpu/);
  });
});
