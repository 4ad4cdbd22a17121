// imageDatasetFromDirectory on small generated folders: Keras' listing, split and label
// conventions, batches whose pixels match their labels, streaming (prefetch, bounded cache,
// early exit), the preprocessing options, and one clear line for each kind of bad input.
// Each image is flat, coloured by its class and index, so any resize keeps its value and a
// row of a batch can be traced back to its file.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import jpeg from "jpeg-js";
import { afterAll, describe, expect, it } from "vitest";
import { imageDatasetFromDirectory, type ImageBatch, type ImageDataset } from "../../src/data/dataset.js";
import { imagesToTensor, loadImage } from "../../src/index.node.js";
import { encodePng } from "./png-writer.js";

const root = mkdtempSync(join(tmpdir(), "gpu-cnn-dataset-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let folders = 0;
/** A fresh folder under the temp root. */
function folder(): string {
  const dir = join(root, `set${folders++}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** The flat colour of image `index` of class `label`. */
const colourOf = (label: number, index: number): [number, number, number] => [10 + 40 * label, 3 * index + 1, 250 - index];

function flatPng(width: number, height: number, rgb: [number, number, number]): Uint8Array {
  const samples = new Array(width * height * 3);
  for (let p = 0; p < width * height; p++) samples.splice(p * 3, 3, ...rgb);
  return encodePng({ width, height, colorType: 2, bitDepth: 8, samples });
}

/**
 * Writes classes as <dir>/<name>/img_<i>.png, flat images of assorted sizes coloured by
 * colourOf(position of the class in `classes`, i), so list classes in sorted order. Returns the
 * sorted file list.
 */
function writeClasses(dir: string, classes: Record<string, number>): string[] {
  const files: string[] = [];
  Object.entries(classes).forEach(([name, count], label) => {
    mkdirSync(join(dir, name), { recursive: true });
    for (let i = 0; i < count; i++) {
      const file = join(dir, name, `img_${String(i).padStart(2, "0")}.png`);
      writeFileSync(file, flatPng(5 + (i % 4) * 3, 4 + (i % 3) * 5, colourOf(label, i)));
      files.push(file);
    }
  });
  return files.sort();
}

async function collect(dataset: AsyncIterable<ImageBatch>): Promise<{ batches: ImageBatch[]; paths: string[] }> {
  const batches: ImageBatch[] = [];
  for await (const batch of dataset) batches.push(batch);
  return { batches, paths: batches.flatMap((b) => b.paths) };
}

/** Checks every row of a batch has its file's colour and its class's label. */
async function expectRowsMatchFiles(batch: ImageBatch, dataset: ImageDataset, labelMode: "int" | "categorical"): Promise<void> {
  const [n, h, w, c] = batch.x.shape;
  const x = await batch.x.data();
  const y = await batch.y.data();
  for (let row = 0; row < n; row++) {
    const path = batch.paths[row];
    const label = dataset.classNames.indexOf(path.split("/").at(-2)!);
    const index = Number(/img_(\d+)/.exec(path)![1]);
    const pixel = Array.from(x.subarray(row * h * w * c, row * h * w * c + c));
    expect(pixel, path).toEqual(colourOf(label, index));
    if (labelMode === "int") expect(y[row]).toBe(label);
    else expect(Array.from(y.subarray(row * dataset.numClasses, (row + 1) * dataset.numClasses))).toEqual(dataset.classNames.map((_, k) => (k === label ? 1 : 0)));
  }
}

describe("listing and splitting as Keras", () => {
  const dir = folder();
  // listed out of order on purpose; classes sort to a_cats, b_dogs, c
  const sorted = writeClasses(dir, { a_cats: 3, b_dogs: 4, c: 3 });

  it("sorts classes and files, shuffles them as numpy's RandomState(seed), and takes validation from the end", async () => {
    // np.random.RandomState(42).permutation(10) == [8, 1, 5, 0, 7, 2, 9, 4, 3, 6]
    const permutation = [8, 1, 5, 0, 7, 2, 9, 4, 3, 6];
    const training = await imageDatasetFromDirectory(dir, { imageSize: 8, validationSplit: 0.2, subset: "training", seed: 42 });
    const validation = await imageDatasetFromDirectory(dir, { imageSize: 8, validationSplit: 0.2, subset: "validation", seed: 42 });
    expect(training.classNames).toEqual(["a_cats", "b_dogs", "c"]);
    expect(training.filePaths).toEqual(permutation.slice(0, 8).map((i) => sorted[i]));
    expect(validation.filePaths).toEqual(permutation.slice(8).map((i) => sorted[i]));
    expect(Array.from(validation.labels)).toEqual([1, 1]); // b_dogs/img_00, b_dogs/img_03
    expect([training.size, validation.size]).toEqual([8, 2]);

    const [bothTraining, bothValidation] = await imageDatasetFromDirectory(dir, { imageSize: 8, validationSplit: 0.2, subset: "both", seed: 42 });
    expect(bothTraining.filePaths).toEqual(training.filePaths);
    expect(bothValidation.filePaths).toEqual(validation.filePaths);
  });

  it("without shuffle keeps the sorted order (validation is then the last files)", async () => {
    const all = await imageDatasetFromDirectory(dir, { imageSize: 8, shuffle: false });
    expect(all.filePaths).toEqual(sorted);
    expect(Array.from(all.labels)).toEqual([0, 0, 0, 1, 1, 1, 1, 2, 2, 2]);
    const validation = await imageDatasetFromDirectory(dir, { imageSize: 8, shuffle: false, validationSplit: 0.3, subset: "validation" });
    expect(validation.filePaths).toEqual(sorted.slice(7));
  });

  it("subset both needs no seed, and its subsets never overlap", async () => {
    const [training, validation] = await imageDatasetFromDirectory(dir, { imageSize: 8, validationSplit: 0.5, subset: "both" });
    expect(new Set([...training.filePaths, ...validation.filePaths]).size).toBe(10);
    expect(validation.size).toBe(5);
  });

  it("classNames fixes the labels' order and may name classes without a folder", async () => {
    const dataset = await imageDatasetFromDirectory(dir, { imageSize: 8, shuffle: false, classNames: ["c", "zebra", "b_dogs", "a_cats"] });
    expect(dataset.classNames).toEqual(["c", "zebra", "b_dogs", "a_cats"]);
    expect(Array.from(dataset.labels)).toEqual([3, 3, 3, 2, 2, 2, 2, 0, 0, 0]);
  });

  it("skips hidden files and folders, lists nested folders in Keras' order, and notes other file types once", async () => {
    const nested = folder();
    writeClasses(nested, { x: 2, y: 2 });
    mkdirSync(join(nested, "x", "more"));
    writeFileSync(join(nested, "x", "more", "img_05.png"), flatPng(4, 4, colourOf(0, 5)));
    writeFileSync(join(nested, "x", "notes.txt"), "not an image");
    writeFileSync(join(nested, "y", "img_09.bmp"), "BM...");
    writeFileSync(join(nested, "y", "._img_00.png"), "macOS resource fork");
    mkdirSync(join(nested, ".ipynb_checkpoints"));
    writeFileSync(join(nested, ".ipynb_checkpoints", "img_00.png"), "junk");
    const warnings: string[] = [];
    const dataset = await imageDatasetFromDirectory(nested, { imageSize: 4, shuffle: false, warn: (m) => warnings.push(m) });
    expect(dataset.classNames).toEqual(["x", "y"]);
    expect(dataset.filePaths.map((p) => p.slice(nested.length + 1))).toEqual(["x/img_00.png", "x/img_01.png", "x/more/img_05.png", "y/img_00.png", "y/img_01.png"]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^gpu-cnn: ignored 2 files in .* that are not \.png, \.jpg, \.jpeg \(e\.g\. .*notes\.txt\); gpu-cnn lists only these.*Fix: convert them to PNG/);
    await collect(dataset); // the nested image decodes too
  });

  it("follows a linked class folder but not linked folders inside classes (no cycles)", async () => {
    const linked = folder();
    writeClasses(linked, { x: 2 });
    symlinkSync(join(linked, "x"), join(linked, "y"));
    symlinkSync(join(linked, "x"), join(linked, "x", "loop"));
    const dataset = await imageDatasetFromDirectory(linked, { imageSize: 4, shuffle: false });
    expect(dataset.classNames).toEqual(["x", "y"]);
    expect(dataset.filePaths.map((p) => p.slice(linked.length + 1))).toEqual(["x/img_00.png", "x/img_01.png", "y/img_00.png", "y/img_01.png"]);
  });
});

describe("batches", () => {
  const dir = folder();
  writeClasses(dir, { red: 7, sea: 7, tan: 7 }); // in sorted order: colourOf uses the position here

  it("every image once per epoch, in batches whose pixels and int labels match their files", async () => {
    const dataset = await imageDatasetFromDirectory(dir, { imageSize: [6, 5], batchSize: 4, seed: 3 });
    expect([dataset.size, dataset.numBatches, dataset.batchSize]).toEqual([21, 6, 4]);
    const { batches, paths } = await collect(dataset);
    expect(batches.map((b) => b.x.shape[0])).toEqual([4, 4, 4, 4, 4, 1]);
    expect(batches[0].x.shape).toEqual([4, 6, 5, 3]);
    expect(batches[0].y.shape).toEqual([4]);
    expect([...paths].sort()).toEqual([...dataset.filePaths].sort());
    for (const batch of batches) await expectRowsMatchFiles(batch, dataset, "int");
  });

  it("one-hot labels with labelMode categorical", async () => {
    const dataset = await imageDatasetFromDirectory(dir, { imageSize: 3, batchSize: 8, seed: 3, labelMode: "categorical" });
    const { batches } = await collect(dataset);
    expect(batches[0].y.shape).toEqual([8, 3]);
    for (const batch of batches) await expectRowsMatchFiles(batch, dataset, "categorical");
  });

  it("a new order each epoch, the same epochs for the same seed, the stored order without shuffle", async () => {
    const a = await imageDatasetFromDirectory(dir, { imageSize: 2, batchSize: 5, seed: 11 });
    const b = await imageDatasetFromDirectory(dir, { imageSize: 2, batchSize: 5, seed: 11 });
    const a1 = (await collect(a)).paths;
    const a2 = (await collect(a)).paths;
    expect(a2).not.toEqual(a1);
    expect((await collect(b)).paths).toEqual(a1);
    await b.toArrays(); // not an epoch: leaves the epoch orders alone
    expect((await collect(b)).paths).toEqual(a2);
    expect((await collect(a.batches({ shuffle: false }))).paths).toEqual(a.filePaths);
    const unshuffled = await imageDatasetFromDirectory(dir, { imageSize: 2, batchSize: 5, shuffle: false });
    expect((await collect(unshuffled)).paths).toEqual((await collect(unshuffled)).paths);
  });

  it("toArrays materialises the whole set in stored order", async () => {
    const dataset = await imageDatasetFromDirectory(dir, { imageSize: 2, batchSize: 4, seed: 5, labelMode: "categorical" });
    const { x, y } = await dataset.toArrays();
    expect(x.shape).toEqual([21, 2, 2, 3]);
    expect(y.shape).toEqual([21, 3]);
    await expectRowsMatchFiles({ x, y, paths: [...dataset.filePaths] }, dataset, "categorical");
  });

  it("decodes the next batch while the consumer holds the current one", async () => {
    const dataset = await imageDatasetFromDirectory(dir, { imageSize: 4, batchSize: 5, seed: 1 });
    const cache = (dataset as unknown as { cache: { size: number } }).cache;
    const iterator = dataset[Symbol.asyncIterator]();
    await iterator.next();
    expect(cache.size).toBeGreaterThanOrEqual(5);
    // no next() call: only prefetch can decode batch 2
    for (let i = 0; i < 50 && cache.size < 10; i++) await new Promise((r) => setTimeout(r, 10));
    expect(cache.size).toBe(10);
    await iterator.return(undefined);
  });

  it("keeps at most cacheBytes of decoded images, and still yields every image each epoch", async () => {
    const imageBytes = 4 * 4 * 3 * 4;
    const dataset = await imageDatasetFromDirectory(dir, { imageSize: 4, batchSize: 4, seed: 2, cacheBytes: 3 * imageBytes });
    const cache = (dataset as unknown as { cache: { size: number } }).cache;
    for (let epoch = 0; epoch < 2; epoch++) {
      const { batches, paths } = await collect(dataset);
      expect(paths).toHaveLength(21);
      expect(cache.size).toBeLessThanOrEqual(3);
      for (const batch of batches) await expectRowsMatchFiles(batch, dataset, "int");
    }
  });
});

describe("preprocessing options", () => {
  it("colorMode grayscale and rgba; imageSize as one number", async () => {
    const dir = folder();
    writeClasses(dir, { a: 2, b: 2 });
    const gray = await imageDatasetFromDirectory(dir, { imageSize: 3, colorMode: "grayscale", shuffle: false });
    const [batch] = (await collect(gray)).batches;
    expect(batch.x.shape).toEqual([4, 3, 3, 1]);
    const [r, g, b] = colourOf(0, 0);
    expect((await batch.x.data())[0]).toBe((9797 * r + 19234 * g + 3737 * b) >> 15);
    const rgba = await imageDatasetFromDirectory(dir, { imageSize: 3, colorMode: "rgba", shuffle: false });
    const x = await (await collect(rgba)).batches[0].x.data();
    expect(Array.from(x.subarray(0, 4))).toEqual([...colourOf(0, 0), 255]);
  });

  it("reads grayscale PNG and JPEG files among RGB ones (channels replicated)", async () => {
    const dir = folder();
    writeClasses(dir, { a: 1, b: 1 });
    writeFileSync(join(dir, "a", "gray.png"), encodePng({ width: 3, height: 3, colorType: 0, bitDepth: 8, samples: new Array(9).fill(77) }));
    const rgba = new Uint8Array(16 * 16 * 4).fill(0).map((_, i) => (i % 4 === 3 ? 255 : 120));
    writeFileSync(join(dir, "b", "photo.jpg"), jpeg.encode({ data: rgba, width: 16, height: 16 }, 95).data);
    const dataset = await imageDatasetFromDirectory(dir, { imageSize: 2, shuffle: false });
    const x = await (await dataset.toArrays()).x.data();
    expect(dataset.filePaths.map((p) => p.split("/").pop())).toEqual(["gray.png", "img_00.png", "img_00.png", "photo.jpg"]);
    expect(Array.from(x.subarray(0, 3))).toEqual([77, 77, 77]);
    for (const v of x.subarray(3 * 12, 3 * 12 + 3)) expect(Math.abs(v - 120)).toBeLessThanOrEqual(2);
  });

  it("cropToAspectRatio crops the centred window before resizing; without it the edges blend in", async () => {
    const dir = folder();
    mkdirSync(join(dir, "a"));
    mkdirSync(join(dir, "b"));
    // 8 wide, 4 high: black columns 0-1 and 6-7, white 2-5
    const samples: number[] = [];
    for (let y = 0; y < 4; y++) for (let x = 0; x < 8; x++) samples.push(x >= 2 && x < 6 ? 255 : 0);
    const png = encodePng({ width: 8, height: 4, colorType: 0, bitDepth: 8, samples });
    writeFileSync(join(dir, "a", "wide.png"), png);
    writeFileSync(join(dir, "b", "wide.png"), png);
    const cropped = await imageDatasetFromDirectory(dir, { imageSize: 2, cropToAspectRatio: true, colorMode: "grayscale" });
    expect(Array.from(await (await cropped.toArrays()).x.data())).toEqual(new Array(8).fill(255));
    const squashed = await imageDatasetFromDirectory(dir, { imageSize: 2, colorMode: "grayscale" });
    expect(Math.min(...(await (await squashed.toArrays()).x.data()))).toBeLessThan(255);
  });

  it("loadImage prepares a file exactly as the dataset does (what predictions need)", async () => {
    const dir = folder();
    writeFileSync(join(dir, "ignored.txt"), "");
    mkdirSync(join(dir, "a"));
    mkdirSync(join(dir, "b"));
    const samples = Array.from({ length: 13 * 9 * 3 }, (_, i) => (i * 37) % 256);
    writeFileSync(join(dir, "a", "x.png"), encodePng({ width: 13, height: 9, colorType: 2, bitDepth: 8, samples }));
    writeFileSync(join(dir, "b", "x.png"), encodePng({ width: 9, height: 13, colorType: 2, bitDepth: 8, samples }));
    const options = { imageSize: [5, 7] as [number, number], interpolation: "area" as const, cropToAspectRatio: true };
    const dataset = await imageDatasetFromDirectory(dir, { ...options, shuffle: false });
    const { x } = await dataset.toArrays();
    const images = await Promise.all(dataset.filePaths.map((p) => loadImage(p, options)));
    expect(Array.from(await imagesToTensor(images).data())).toEqual(Array.from(await x.data()));
    const fromBytes = await loadImage(encodePng({ width: 13, height: 9, colorType: 2, bitDepth: 8, samples }), options);
    expect(Array.from(fromBytes.data)).toEqual(Array.from(images[0].data));
  });
});

describe("bad images", () => {
  function withBadImage(bad = "img_02.png"): string {
    const dir = folder();
    writeClasses(dir, { a: 5, b: 5 });
    const good = flatPng(6, 6, [1, 2, 3]);
    writeFileSync(join(dir, "b", bad), good.subarray(0, good.length - 30)); // truncated
    return dir;
  }

  it("a truncated image fails the epoch with an error naming the file", async () => {
    const dataset = await imageDatasetFromDirectory(withBadImage(), { imageSize: 4, batchSize: 3, seed: 1 });
    await expect(collect(dataset)).rejects.toThrow(/^gpu-cnn: cannot decode \S+\/b\/img_02\.png as PNG: .*corrupt or truncated.*skipBadImages: true/);
    await expect(dataset.toArrays()).rejects.toThrow(/b\/img_02\.png/);
  });

  it("skipBadImages: one warning, the file counted in skipped, every other image still served", async () => {
    const warnings: string[] = [];
    const dataset = await imageDatasetFromDirectory(withBadImage(), { imageSize: 4, batchSize: 3, seed: 1, skipBadImages: true, warn: (m) => warnings.push(m) });
    expect(dataset.size).toBe(10);
    const first = await collect(dataset);
    expect(first.paths).toHaveLength(9);
    expect(first.paths.some((p) => p.endsWith("b/img_02.png"))).toBe(false);
    for (const batch of first.batches) await expectRowsMatchFiles(batch, dataset, "int");
    expect(dataset.skipped).toHaveLength(1);
    expect(dataset.skipped[0].path).toMatch(/b\/img_02\.png$/);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^gpu-cnn: skipping bad image \(skipBadImages\): cannot decode \S+\/b\/img_02\.png as PNG/);
    expect([dataset.size, dataset.numBatches]).toEqual([9, 3]);
    expect((await collect(dataset)).paths).toHaveLength(9);
    expect(warnings).toHaveLength(1); // known bad files are not read again
  });

  it("stopping early while the next batch (holding a bad image) is prefetched leaves no unhandled rejection", async () => {
    const dataset = await imageDatasetFromDirectory(withBadImage("img_01.png"), { imageSize: 4, batchSize: 3, shuffle: false });
    // sorted order: a/0..4, b/0..4, so batch 3 starts with the bad b/img_01; its prefetch fails
    // while the consumer holds batch 2, and the consumer then stops
    let seen = 0;
    for await (const batch of dataset) {
      seen += batch.paths.length;
      if (seen >= 6) {
        await new Promise((r) => setTimeout(r, 100));
        break;
      }
    }
    expect(seen).toBe(6);
  });
});

describe("bad arguments and folders: one line naming the problem and the fix", () => {
  const dir = folder();
  writeClasses(dir, { a: 3, b: 2 });

  it.each([
    [{ imageSize: 0 }, /^gpu-cnn: imageSize must be a positive integer or \[height, width\] of positive integers, got 0\. Fix: e\.g\. imageSize: \[64, 64\]\.$/],
    [{ imageSize: [0, 5] }, /imageSize must be .* got \[0,5\]/],
    [{ imageSize: [-4, 4] }, /imageSize must be .* got \[-4,4\]/],
    [{ imageSize: 2.5 }, /imageSize must be .* got 2\.5/],
    [{ imageSize: [4, 4, 3] }, /imageSize must be .* got \[4,4,3\]/],
    [{ batchSize: 0 }, /^gpu-cnn: batchSize must be a positive integer, got 0$/],
    [{ validationSplit: 0, subset: "training", seed: 1 }, /^gpu-cnn: validationSplit must be between 0 and 1 \(exclusive\), got 0\. Fix: e\.g\. validationSplit: 0\.2\.$/],
    [{ validationSplit: 1, subset: "training", seed: 1 }, /validationSplit must be between 0 and 1 \(exclusive\), got 1\./],
    [{ validationSplit: 1.5, subset: "training", seed: 1 }, /got 1\.5/],
    [{ subset: "training" }, /^gpu-cnn: subset "training" needs validationSplit\. Fix: pass validationSplit too, e\.g\. 0\.2\.$/],
    [{ validationSplit: 0.2 }, /^gpu-cnn: validationSplit needs subset \("training", "validation" or "both"\)/],
    [{ validationSplit: 0.2, subset: "validation" }, /^gpu-cnn: validationSplit with shuffle needs a seed.*Fix: pass seed \(any integer\), or use subset "both"\.$/],
    [{ validationSplit: 0.1, subset: "both" }, /^gpu-cnn: validationSplit 0\.1 of 5 images leaves no validation images\. Fix: add images or change validationSplit\.$/],
    [{ subset: "test", validationSplit: 0.2 }, /^gpu-cnn: subset must be "training", "validation" or "both", got "test"$/],
    [{ labelMode: "binary" }, /^gpu-cnn: labelMode must be "int" or "categorical", got "binary"$/],
    [{ colorMode: "bgr" }, /^gpu-cnn: colorMode must be "rgb", "grayscale" or "rgba", got "bgr"$/],
    [{ interpolation: "lanczos3" }, /^gpu-cnn: interpolation must be "bilinear", "nearest" or "area", got "lanczos3"$/],
    [{ seed: -1 }, /^gpu-cnn: seed must be an integer from 0 to 4294967295, got -1$/],
    [{ image_size: [8, 8] }, /^gpu-cnn: imageDatasetFromDirectory\(\): unknown option "image_size" \(did you mean "imageSize"\?\); the options are imageSize, /],
    [{ classNames: ["a"] }, /^gpu-cnn: \S+ has folders that are not in classNames: b \(classNames: a\)\. Fix: remove those folders or add them to classNames\.$/],
  ])("%j", async (options, message) => {
    await expect(imageDatasetFromDirectory(dir, options as never)).rejects.toThrow(message);
  });

  it("a missing folder, a file, a folder without class folders", async () => {
    await expect(imageDatasetFromDirectory(join(root, "nope"))).rejects.toThrow(/^gpu-cnn: image folder \S+\/nope does not exist\. Fix: pass a folder that holds one sub-folder of images per class\.$/);
    await expect(imageDatasetFromDirectory(join(dir, "a", "img_00.png"))).rejects.toThrow(/^gpu-cnn: \S+img_00\.png is not a folder\./);
    const flat = folder();
    writeFileSync(join(flat, "img.png"), flatPng(2, 2, [1, 2, 3]));
    await expect(imageDatasetFromDirectory(flat)).rejects.toThrow(/^gpu-cnn: \S+ has no class sub-folders\. Fix: put each class's images in its own sub-folder, e\.g\. \S+\/cats\/1\.png\.$/);
  });

  it("an empty class folder", async () => {
    const empty = folder();
    writeClasses(empty, { a: 2 });
    mkdirSync(join(empty, "b"));
    writeFileSync(join(empty, "b", "readme.txt"), "");
    await expect(imageDatasetFromDirectory(empty, { warn: () => {} })).rejects.toThrow(/^gpu-cnn: class folder \S+\/b has no \.png\/\.jpg\/\.jpeg images\. Fix: add images to it or remove the folder\.$/);
  });

  it("fewer than two classes for categorical labels (int labels allow one)", async () => {
    const single = folder();
    writeClasses(single, { only: 2 });
    await expect(imageDatasetFromDirectory(single, { labelMode: "categorical" })).rejects.toThrow(
      /^gpu-cnn: \S+ has 1 class folder \(only\); labelMode "categorical" needs at least 2 classes\. Fix: add one sub-folder of images per class\.$/,
    );
    expect((await imageDatasetFromDirectory(single)).classNames).toEqual(["only"]);
  });
});
