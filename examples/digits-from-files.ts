// The digits-as-files workflow at full size, against training from arrays. All 10,000 digits of
// the `mnist` package are written as PNG/JPEG files of 28, 32 and 40 pixels in class folders
// (scripts/write-mnist-images.ts), read back with imageDatasetFromDirectory at 28x28 grayscale
// (80% to train, 20% to validate) and trained with model.fit(dataset). The same digits' original bytes, in
// the same split and batch order, train the same model (same initial weights) with model.fit.
// Both validation accuracies are printed; they agree within a point.
//   node --import tsx --import ./scripts/wgsl.mjs examples/digits-from-files.ts [epochs] [image-dir]
// (writing the files takes a minute or two the first time; they are reused afterwards)
import { existsSync } from "node:fs";
import { basename } from "node:path";
import { Conv2D, Dense, disposeGpu, Flatten, imageDatasetFromDirectory, MaxPooling2D, oneHot, Sequential, tensor, type ImageDataset } from "../src/index.node.js";
import { Rescaling } from "../src/layers/preprocessing.js";
import { evaluateDetailed } from "../src/metrics.js";
import { mnistBytes, writeMnistImages } from "../scripts/write-mnist-images.js";

const EPOCHS = Number(process.argv[2] ?? 3);
const DIR = process.argv[3] ?? "data/mnist-images";
const SPLIT_SEED = 42;
const MODEL_SEED = 42;

if (!existsSync(DIR)) {
  console.log(`writing the 10,000 digits as image files to ${DIR} ...`);
  writeMnistImages(DIR, { seed: 1 });
}

/** The seed architecture behind Rescaling(1/255): it takes 0..255 pixels, as files give them. */
function model(): Sequential {
  const m = new Sequential({ seed: MODEL_SEED });
  m.add(new Rescaling(1 / 255, { inputShape: [28, 28, 1] }));
  m.add(new Conv2D(32, [3, 3], { activation: "relu" }));
  m.add(new MaxPooling2D({ poolSize: [2, 2] }));
  m.add(new Flatten());
  m.add(new Dense(128, { activation: "relu" }));
  m.add(new Dense(10, { activation: "softmax" }));
  m.compile({ optimizer: "adam", loss: "categoricalCrossentropy", metrics: ["accuracy"] });
  return m;
}

/** The original MNIST bytes of a dataset's files (named <digit>_<index>), in its stored order. */
function arraysOf(dataset: ImageDataset) {
  const digits: number[] = [];
  const x = new Float32Array(dataset.filePaths.length * 784);
  dataset.filePaths.forEach((path, i) => {
    const [digit, index] = /^(\d)_(\d+)\./.exec(basename(path))!.slice(1).map(Number);
    digits.push(digit);
    x.set(mnistBytes(digit, index), i * 784);
  });
  return { x: tensor(x, [digits.length, 28, 28, 1]), y: oneHot(digits, 10) };
}

const [train, validation] = await imageDatasetFromDirectory(DIR, {
  imageSize: 28, colorMode: "grayscale", validationSplit: 0.2, subset: "both", seed: SPLIT_SEED, batchSize: 32,
});
console.log(`${train.size} digits to train, ${validation.size} to validate`);

let start = performance.now();
const fromFiles = model();
await fromFiles.fit(train, { epochs: EPOCHS, shuffle: false, validationData: validation, verbose: 2 });
const files = await evaluateDetailed(fromFiles, validation);
console.log(`from files: ${(100 * files.accuracy).toFixed(2)}% (${((performance.now() - start) / 1000).toFixed(0)} s)`);

start = performance.now();
const t = arraysOf(train);
const v = arraysOf(validation);
const fromArrays = model();
await fromArrays.fit(t.x, t.y, { epochs: EPOCHS, batchSize: 32, shuffle: false, validationData: [v.x, v.y], verbose: 2 });
const arrays = await evaluateDetailed(fromArrays, v.x, v.y);
console.log(`from arrays: ${(100 * arrays.accuracy).toFixed(2)}% (${((performance.now() - start) / 1000).toFixed(0)} s)`);
console.log(`difference: ${(100 * Math.abs(files.accuracy - arrays.accuracy)).toFixed(2)} points`);
fromFiles.dispose();
fromArrays.dispose();
await disposeGpu();
