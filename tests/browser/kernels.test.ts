// In headless Chromium (WebGPU on SwiftShader): a subset of the kernel tests against the float64
// references, and a tiny model's gradients against central differences. The page computes; the
// checks and their names come back here.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPage, root, type TestPage } from "./harness.js";
import type { Measured } from "./page/kit.js";
import { testSeed } from "../helpers.js";

const seed = testSeed("browser kernels");
let page: TestPage;

beforeAll(async () => {
  page = await startPage(`${root}/tests/browser/kernels.page.ts`);
  console.log("browser adapter:", await page.call<string>("start"));
});
afterAll(async () => {
  await page?.close();
});

function expectAll(results: Measured[]): void {
  expect(results.length).toBeGreaterThan(0);
  for (const r of results) expect(r.err, `${r.what}: relative error ${r.err}`).toBeLessThan(r.tol);
}

describe("kernels in the browser", () => {
  it("conv2d (stride 1 and 2, valid and same), max pooling, dense, softmax and cross-entropy match the float64 references, forward and gradients", async () => {
    const results = await page.call<Measured[]>("kernels", seed);
    expectAll(results);
    expect(results.filter((r) => r.what.startsWith("conv2d")).length).toBeGreaterThanOrEqual(5 * 3);
  });

  it("a tiny Sequential's gradients match central differences of the same model in float64", async () => {
    const results = await page.call<Measured[]>("modelGradients", seed);
    expectAll(results);
    expect(results.length).toBe(1 + 6); // the loss, then kernel and bias of 3 layers
  });
});
