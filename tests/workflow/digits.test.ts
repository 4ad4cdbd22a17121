// The digits-as-files workflow against training from arrays. scripts/write-mnist-images.ts
// writes MNIST digits as mixed PNG/JPEG files of 28, 32 and 40 pixels; imageDatasetFromDirectory
// reads them back at 28x28 grayscale and model.fit(dataset) trains on them. The same digits, taken
// straight from the `mnist` package's arrays in the same split and order, train the same model
// (same initial weights, same batches) with model.fit. The two validation accuracies agree
// within one point: going through image files loses nothing that matters.
// Small enough for the suite: 4,000 digits, a one-convolution model, 3 epochs; across split
// seeds 1-4 and 7 the gap was at most 0.6 points at 5,000 digits and 0.83 at 3,000. The seed
// architecture on all 10,000 digits is examples/digits-from-files.ts.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { mnistBytes, writeMnistImages } from "../../scripts/write-mnist-images.js";
import { Conv2D, Dense, Flatten, imageDatasetFromDirectory, MaxPooling2D, oneHot, Sequential, Tensor, type ImageDataset } from "../../src/index.node.js";
import { Rescaling } from "../../src/layers/preprocessing.js";
import { evaluateDetailed } from "../../src/metrics.js";
import { useGpu } from "../helpers.js";

useGpu();

const PER_DIGIT = 400;
const EPOCHS = 3;
const SPLIT_SEED = 7;
const MODEL_SEED = 11;

const root = mkdtempSync(join(tmpdir(), "gpu-cnn-digits-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The original MNIST bytes of a dataset's files, in its stored order, as arrays. */
function arraysOf(dataset: ImageDataset): { x: Tensor; y: Tensor; digits: number[] } {
  const digits: number[] = [];
  const x = new Float32Array(dataset.filePaths.length * 28 * 28);
  dataset.filePaths.forEach((path, i) => {
    const [digit, index] = /^(\d)_(\d+)\./.exec(basename(path))!.slice(1).map(Number);
    digits.push(digit);
    x.set(mnistBytes(digit, index), i * 784);
  });
  return { x: new Tensor([digits.length, 28, 28, 1], x), y: oneHot(digits, 10), digits };
}

/** Pixels 0..255 in (as files give them), one convolution, softmax. */
function model(): Sequential {
  const m = new Sequential({ seed: MODEL_SEED });
  m.add(new Rescaling(1 / 255, { inputShape: [28, 28, 1] }));
  m.add(new Conv2D(8, [3, 3], { activation: "relu" }));
  m.add(new MaxPooling2D({ poolSize: [2, 2] }));
  m.add(new Flatten());
  m.add(new Dense(10, { activation: "softmax" }));
  m.compile({ optimizer: "adam", loss: "categoricalCrossentropy", metrics: ["accuracy"] });
  return m;
}

describe("digits as files", () => {
  it("train on image files reaches the accuracy of training on the arrays, within a point", async () => {
    const written = writeMnistImages(join(root, "digits"), { limit: PER_DIGIT, seed: 1, jpegFraction: 0.1 }); // jpeg-js encodes slowly
    expect(written).toHaveLength(10 * PER_DIGIT);
    const [train, validation] = await imageDatasetFromDirectory(join(root, "digits"), {
      imageSize: 28,
      colorMode: "grayscale",
      validationSplit: 0.2,
      subset: "both",
      seed: SPLIT_SEED,
      labelMode: "int",
      batchSize: 32,
    });
    expect(train.size).toBe(8 * PER_DIGIT);
    expect(validation.size).toBe(2 * PER_DIGIT);

    // from files: the streaming dataset, batches in the stored order every epoch
    const fromFiles = model();
    await fromFiles.fit(train, { epochs: EPOCHS, shuffle: false, verbose: 0 });
    const filesMetrics = await evaluateDetailed(fromFiles, validation);

    // from arrays: the same digits' original bytes, the same split and order, the same initial weights
    const trainArrays = arraysOf(train);
    const validationArrays = arraysOf(validation);
    const fromArrays = model();
    await fromArrays.fit(trainArrays.x, trainArrays.y, { epochs: EPOCHS, batchSize: 32, shuffle: false, verbose: 0 });
    const arraysMetrics = await evaluateDetailed(fromArrays, validationArrays.x, validationArrays.y);

    const files = filesMetrics.accuracy;
    const arrays = arraysMetrics.accuracy;
    console.log(`digits: validation accuracy ${(100 * files).toFixed(2)}% from files, ${(100 * arrays).toFixed(2)}% from arrays`);
    expect(arrays).toBeGreaterThan(0.85);
    expect(Math.abs(files - arrays), `files ${files}, arrays ${arrays}`).toBeLessThanOrEqual(0.01);
    expect(filesMetrics.classNames).toEqual(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    for (const t of [trainArrays.x, trainArrays.y, validationArrays.x, validationArrays.y]) t.dispose();
    fromFiles.dispose();
    fromArrays.dispose();
  });
});
