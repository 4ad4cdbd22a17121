// Predictions and preprocessing in headless Chromium (WebGPU on SwiftShader), on the browser
// entry: one PNG given as every kind of image a page holds (bytes, Blob, File, a served URL, a
// data: URL, <img> loaded or still loading, ImageBitmap, ImageData, <canvas>, OffscreenCanvas)
// gives the same top-k as its plain decoded pixels, and the probabilities Node computes for the
// same weights and PNG (1e-4); loadImage prepares each kind exactly as Node's
// imageDatasetFromDirectory prepares the file; inputs that are not images fail naming the input.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { drawShape, encodeRgb } from "../../scripts/make-shapes.js";
import {
  Conv2D,
  decodeImage,
  Dense,
  Flatten,
  imageDatasetFromDirectory,
  initGpu,
  loadImage,
  MaxPooling2D,
  modelToArtifacts,
  predictImage,
  Rescaling,
  saveModel,
  Sequential,
  type ClassProbability,
  type ImagePreprocessOptions,
} from "../../src/index.node.js";
import { Random } from "../../src/random.js";
import { base64, root, startPage, type TestPage } from "./harness.js";
import type { KindResult } from "./classify.page.js";
import type { ArtifactsJSON } from "./training.page.js";

const CLASSES = ["circle", "square", "triangle"];

/** A noisy triangle, 32 wide and 22 high (not square, so the crop option has work to do). */
function shapePng(): Uint8Array {
  const rgba = drawShape("triangle", 32, new Random(5), 12);
  return encodeRgb(rgba.subarray(0, 32 * 22 * 4), 32, 22, "png");
}

/** Untrained but seeded: its outputs are far enough apart to order, and fixed by the seed. */
function smallModel(): Sequential {
  const model = new Sequential({
    seed: 11,
    layers: [
      new Rescaling(1 / 127.5, -1, { inputShape: [16, 16, 3] }),
      new Conv2D(6, [3, 3], { activation: "relu" }),
      new MaxPooling2D({ poolSize: [2, 2] }),
      new Flatten(),
      new Dense(3, { activation: "softmax" }),
    ],
  });
  model.classNames = [...CLASSES];
  return model;
}

/** Preprocessing settings the page repeats: the defaults, and every option changed. */
const SETTINGS: ImagePreprocessOptions[] = [
  { imageSize: 16 },
  { imageSize: [12, 20], colorMode: "grayscale", interpolation: "area", cropToAspectRatio: true },
  { imageSize: 9, colorMode: "rgba", interpolation: "nearest" },
];

const png = shapePng();
const dir = mkdtempSync(join(tmpdir(), "gpu-cnn-browser-classify-"));
let page: TestPage;
let model: Sequential;

/** Class index -> probability, from a top-k list. */
const byClass = (top: ClassProbability[]): number[] => {
  const out = new Array<number>(CLASSES.length).fill(NaN);
  for (const c of top) out[c.classIndex] = c.probability;
  return out;
};
const maxAbsDiff = (a: number[], b: number[]): number => Math.max(...a.map((v, i) => Math.abs(v - b[i])));

beforeAll(async () => {
  await initGpu();
  model = smallModel();
  // the model as a folder too, served beside the PNG, for loadModel(url) in the page
  await saveModel(model, join(dir, "model"));
  page = await startPage(`${root}/tests/browser/classify.page.ts`, {
    "/shape.png": png,
    "/models/small/model.json": readFileSync(join(dir, "model", "model.json")),
    "/models/small/weights.bin": readFileSync(join(dir, "model", "weights.bin")),
  });
  const { weightData, ...fields } = await modelToArtifacts(model);
  const saved: ArtifactsJSON = { fields, weightData: base64.encode(new Uint8Array(weightData)) };
  const started = await page.call<{ adapter: string; classNames: string[] | null }>("start", saved);
  console.log("browser adapter:", started.adapter);
  expect(started.classNames).toEqual(CLASSES); // class names travel with the model
});
afterAll(async () => {
  model?.dispose();
  await page?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("predictions in the browser", () => {
  it("every browser image kind gives the decoded pixels' top-k, and Node's probabilities within 1e-4", async () => {
    const decoded = await decodeImage(png, "shape.png");
    const pixels = { width: decoded.width, height: decoded.height, rgba: base64.encode(decoded.data) };
    const result = await page.call<{ pixels: ClassProbability[]; kinds: KindResult[]; batch: ClassProbability[][] }>(
      "predict", base64.encode(png), pixels, "/shape.png",
    );
    const node = await predictImage(model, png, { topK: 3 });
    console.log("node:   ", node.map((c) => `${c.className} ${c.probability.toFixed(6)}`).join(", "));
    console.log("browser:", result.pixels.map((c) => `${c.className} ${c.probability.toFixed(6)}`).join(", "));
    // an untrained model, but its classes are told apart by more than the tolerance
    expect(node[0].probability - node[1].probability).toBeGreaterThan(1e-3);
    expect(node[1].probability - node[2].probability).toBeGreaterThan(1e-3);

    expect(result.pixels.map((c) => c.className)).toEqual(node.map((c) => c.className));
    expect(maxAbsDiff(byClass(result.pixels), byClass(node))).toBeLessThan(1e-4);
    expect(result.kinds).toHaveLength(12);
    const order = result.pixels.map((c) => c.className);
    for (const { kind, top } of result.kinds) {
      expect(top.map((c) => c.className), kind).toEqual(order);
      expect(maxAbsDiff(byClass(top), byClass(result.pixels)), kind).toBeLessThan(1e-6);
      expect(maxAbsDiff(byClass(top), byClass(node)), kind).toBeLessThan(1e-4);
    }
    expect(result.batch).toHaveLength(12);
    for (const top of result.batch) expect(maxAbsDiff(byClass(top), byClass(node))).toBeLessThan(1e-4);
  });

  it("the README's example: loadModel(url of model.json) and predictImage(model, file)", async () => {
    const top = await page.call<ClassProbability[]>("readmeExample", "/models/small/model.json", base64.encode(png));
    const node = await predictImage(model, png, { topK: 2 });
    expect(top.map((c) => c.className)).toEqual(node.map((c) => c.className));
    expect(maxAbsDiff(top.map((c) => c.probability), node.map((c) => c.probability))).toBeLessThan(1e-4);
  });

  it("loadImage + imagesToTensor prepare every kind exactly as imageDatasetFromDirectory prepares the file", async () => {
    // the PNG in a two-class folder, read by the dataset with each setting
    const set = join(dir, "set");
    mkdirSync(join(set, "a"), { recursive: true });
    mkdirSync(join(set, "b"), { recursive: true });
    writeFileSync(join(set, "a", "shape.png"), png);
    writeFileSync(join(set, "b", "other.png"), encodeRgb(drawShape("circle", 16, new Random(6), 12), 16, 16, "png"));
    const inPage = await page.call<{ kind: string; values: number[] }[][]>("preprocess", base64.encode(png), "/shape.png", SETTINGS);
    for (let s = 0; s < SETTINGS.length; s++) {
      const dataset = await imageDatasetFromDirectory(set, { ...SETTINGS[s], shuffle: false, batchSize: 2 });
      expect(dataset.filePaths[0]).toBe(join(set, "a", "shape.png"));
      const { x, y } = await dataset.toArrays();
      const all = await x.data();
      x.dispose();
      y.dispose();
      const fromDataset = Array.from(all.subarray(0, all.length / 2));
      expect(Array.from((await loadImage(png, SETTINGS[s])).data)).toEqual(fromDataset);
      expect(inPage[s]).toHaveLength(12);
      for (const { kind, values } of inPage[s]) expect(values, `${kind} with ${JSON.stringify(SETTINGS[s])}`).toEqual(fromDataset);
    }
  });

  it("inputs that are not images give one clear error naming the input", async () => {
    const errors = await page.call<Record<string, string>>("badInputs", base64.encode(png), "/missing.png");
    console.log(errors);
    expect(errors.blob).toMatch(/^gpu-cnn: cannot decode image 0 \(a Blob of type text\/plain, 20 bytes\): .*not an image/);
    expect(errors.file).toMatch(/^gpu-cnn: cannot decode notes\.txt: .*not an image/);
    expect(errors.third).toMatch(/^gpu-cnn: cannot decode image 2 \(a Blob of type text\/plain, 20 bytes\)/);
    expect(errors.missing).toBe("gpu-cnn: cannot read /missing.png: HTTP 404 Not Found");
    expect(errors.brokenImg).toMatch(/^gpu-cnn: cannot decode image 0 \(blob:http:\/\/localhost:\d+\/[-\w]+\): .*did not load, or it is not an image/);
    expect(errors.empty).toBe("gpu-cnn: cannot decode image 0: it is empty");
    expect(errors.notAnImage).toMatch(/^gpu-cnn: image 0: cannot read an image from number; pass a path or URL, PNG\/JPEG bytes, a Blob or File/);
    expect(errors.loadImage).toMatch(/^gpu-cnn: cannot decode image 0 \(a Blob of type text\/plain, 20 bytes\)/);
    for (const message of Object.values(errors)) expect(message).not.toMatch(/\n|\.\./); // one line, one sentence at a time
  });
});
