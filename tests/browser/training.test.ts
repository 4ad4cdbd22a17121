// The same training run in headless Chromium (WebGPU on SwiftShader) and in Node (Dawn on
// lavapipe): same seed, same data, same per-step losses. Models saved on one side (TF.js
// artifacts) load on the other and predict the same; training resumes across the move.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initGpu, loadModel, modelToArtifacts, type Sequential } from "../../src/index.node.js";
import { base64, root, startPage, type TestPage } from "./harness.js";
import { BATCH, CLASSES, EPOCHS, parityModel, patterns, predictions, resume, SAMPLES, SEED, trainParity } from "./page/parity.js";
import type { ArtifactsJSON } from "./training.page.js";

const train = patterns(SEED, SAMPLES);
const test = patterns(SEED + 1, 10);
const extra = patterns(SEED + 2, BATCH);
let page: TestPage;
let node: Sequential;
let nodeLosses: number[];
let browser: { losses: number[]; probs: number[]; saved: ArtifactsJSON };

/** Largest |a - b| / |b| over the pairs. */
function maxRelDiff(a: number[], b: number[]): number {
  expect(a.length).toBe(b.length);
  return Math.max(...a.map((v, i) => Math.abs(v - b[i]) / Math.abs(b[i])));
}

function maxAbsDiff(a: number[], b: number[]): number {
  expect(a.length).toBe(b.length);
  return Math.max(...a.map((v, i) => Math.abs(v - b[i])));
}

beforeAll(async () => {
  page = await startPage(`${root}/tests/browser/training.page.ts`);
  await initGpu();
  console.log("browser adapter:", await page.call<string>("start"));
});
afterAll(async () => {
  node?.dispose();
  await page?.close();
});

describe("training in the browser", () => {
  it(`gives Node's per-step losses (seed ${SEED}, same data) within 1e-4 relative`, async () => {
    node = parityModel();
    nodeLosses = await trainParity(node, train);
    browser = await page.call("train", train, test);
    console.log("per-step losses, node:   ", nodeLosses.map((l) => l.toFixed(6)).join(" "));
    console.log("per-step losses, browser:", browser.losses.map((l) => l.toFixed(6)).join(" "));
    expect(browser.losses.length).toBe(EPOCHS * Math.ceil(SAMPLES / BATCH));
    expect(browser.losses.every(Number.isFinite)).toBe(true);
    const diff = maxRelDiff(browser.losses, nodeLosses);
    console.log(`largest relative difference: ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(1e-4);
    // it learned something: the last epoch's mean loss is below the first's
    const half = browser.losses.length / 2;
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(browser.losses.slice(half))).toBeLessThan(mean(browser.losses.slice(0, half)));
    // and both trained models predict alike
    expect(maxAbsDiff(browser.probs, await predictions(node, test))).toBeLessThan(1e-4);
    expect(browser.probs.length).toBe(test.count * CLASSES);
  });

  it("saves the model in the page (TF.js artifacts); Node loads it and predicts the same (1e-5)", async () => {
    expect(browser, "the training test ran first").toBeTruthy();
    expect(browser.saved.fields.format).toBe("layers-model");
    expect(browser.saved.fields.modelTopology.class_name).toBe("Sequential");
    const loaded = await loadModel({ ...browser.saved.fields, weightData: base64.decode(browser.saved.weightData) });
    try {
      expect(loaded.countParams()).toBe(node.countParams());
      expect(maxAbsDiff(await predictions(loaded, test), browser.probs)).toBeLessThan(1e-5);
      // the Adam state came along: two more steps in Node equal two more steps in the page
      const inNode = await resume(loaded, extra);
      const inPage = await page.call<number[]>("resume", extra);
      expect(maxRelDiff(inNode, inPage)).toBeLessThan(1e-4);
    } finally {
      loaded.dispose();
    }
  });

  it("loads a model Node saved and predicts what Node predicts (1e-5)", async () => {
    const { weightData, ...fields } = await modelToArtifacts(node);
    const saved: ArtifactsJSON = { fields, weightData: base64.encode(new Uint8Array(weightData)) };
    const inPage = await page.call<number[]>("load", saved, test);
    expect(maxAbsDiff(inPage, await predictions(node, test))).toBeLessThan(1e-5);
  });
});
