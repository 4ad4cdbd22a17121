// predictImage / predictImages / classify: a path, a Buffer, an ArrayBuffer and decoded pixels of
// the same file give the same answer, and it is what the model gives the dataset's tensor for
// that file (inference preprocesses exactly as training did); top-k is sorted and named with the
// model's class names; bad options and non-image models fail clearly.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeShapes } from "../../scripts/make-shapes.js";
import { classify, predictImage, predictImages } from "../../src/classify.js";
import { useNodeImageFiles } from "../../src/classify.node.js";
import { seedModel } from "../../src/cli/architecture.js";
import { decodeImage } from "../../src/data/decode.js";
import { Dense, imageDatasetFromDirectory, Sequential } from "../../src/index.node.js";
import { useGpu } from "../helpers.js";

useGpu();
useNodeImageFiles();

const root = mkdtempSync(join(tmpdir(), "gpu-cnn-classify-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("predictImage", () => {
  it("takes paths, Buffers, ArrayBuffers and pixels alike, and matches the model's output on the dataset's tensor", async () => {
    // images drawn at 24 pixels, read at 16: the resize is part of what must match
    const files = makeShapes(join(root, "shapes"), { perClass: 2, size: 24, seed: 9 });
    const model = seedModel({ inputShape: [16, 16, 3], classes: 3, seed: 4, augment: false });
    model.classNames = ["circle", "square", "triangle"];

    const dataset = await imageDatasetFromDirectory(join(root, "shapes"), { imageSize: 16, shuffle: false, batchSize: 6 });
    const { x } = await dataset.toArrays();
    const expected = await (await model.predict(x)).data();
    const byPath = await predictImages(model, [...dataset.filePaths], { topK: 3 });
    byPath.forEach((top, i) => {
      expect(top.map((c) => c.className).sort()).toEqual(["circle", "square", "triangle"]);
      for (const c of top) expect(c.probability).toBeCloseTo(expected[i * 3 + c.classIndex], 6);
      expect(top[0].probability).toBeGreaterThanOrEqual(top[1].probability);
      expect(top[1].probability).toBeGreaterThanOrEqual(top[2].probability);
    });

    const file = files[0];
    const bytes = readFileSync(file);
    const decoded = await decodeImage(bytes, file);
    const reference = await predictImage(model, file);
    expect(reference).toHaveLength(3); // default top 3
    expect(await predictImage(model, bytes)).toEqual(reference);
    expect(await predictImage(model, new Uint8Array(bytes).buffer)).toEqual(reference);
    expect(await predictImage(model, { width: decoded.width, height: decoded.height, channels: 4, data: decoded.data })).toEqual(reference);
    // ImageData: RGBA without a channels field
    expect(await predictImage(model, { width: decoded.width, height: decoded.height, data: new Uint8ClampedArray(decoded.data) })).toEqual(reference);
    if (typeof Blob !== "undefined") expect(await predictImage(model, new Blob([bytes]))).toEqual(reference);

    const one = await classify(model, file, { topK: 1 });
    expect(one).toEqual([reference[0]]);
    const many = await classify(model, [file, files[1]], { topK: 2 });
    expect(many).toHaveLength(2);
    expect(many[0]).toEqual(reference.slice(0, 2));
    const renamed = await predictImage(model, file, { classNames: ["a", "b", "c"], topK: 1 });
    expect(renamed[0].className).toBe(["a", "b", "c"][reference[0].classIndex]);
    expect(await predictImages(model, [])).toEqual([]);

    // scale: a model trained on [0, 1] without a Rescaling layer gets pixels / 255
    const scaled = await predictImages(model, [...dataset.filePaths], { topK: 3, scale: 1 / 255 });
    const { Tensor } = await import("../../src/tensor.js");
    const xs = await x.data();
    const expectedScaled = await (await model.predict(new Tensor(x.shape, xs.map((v) => v / 255)))).data();
    scaled.forEach((top, i) => {
      for (const c of top) expect(c.probability).toBeCloseTo(expectedScaled[i * 3 + c.classIndex], 6);
    });
    expect(scaled.map((top) => top.map((c) => c.probability))).not.toEqual(byPath.map((top) => top.map((c) => c.probability)));
    await expect(predictImage(model, file, { scale: 0 })).rejects.toThrow(/scale must be a positive number/);

    await expect(predictImage(model, file, { topK: 0 })).rejects.toThrow(/topK must be a positive integer/);
    await expect(predictImage(model, file, { classNames: ["a"] })).rejects.toThrow(/classNames lists 1 classes \(a\) but .* outputs 3/);
    await expect(predictImage(model, join(root, "missing.png"))).rejects.toThrow(/cannot read .*missing\.png/);
    await expect(predictImage(model, { width: 2, height: 2, channels: 3, data: new Uint8Array(5) })).rejects.toThrow(/2x2x3 needs 12 values, got 5/);
    const dense = new Sequential({ layers: [new Dense(3, { inputShape: [10], activation: "softmax" })] });
    await expect(predictImage(dense, file)).rejects.toThrow(/takes \(None, 10\), not images/);
    dense.dispose();
    x.dispose();
    model.dispose();
  });
});
