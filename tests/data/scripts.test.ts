// The example-data scripts: deterministic from their seed, the layout imageDatasetFromDirectory
// reads, and (for MNIST) the original digit bytes preserved where the file is a 28-pixel PNG.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { imageDatasetFromDirectory } from "../../src/data/dataset.js";
import { decodeImage } from "../../src/data/decode.js";
import { makeShapes, SHAPE_CLASSES } from "../../scripts/make-shapes.js";
import { mnistBytes, OUTPUT_SIZES, writeMnistImages } from "../../scripts/write-mnist-images.js";

const root = mkdtempSync(join(tmpdir(), "gpu-cnn-scripts-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const sameFiles = (a: string[], b: string[], fromA: string, fromB: string) => {
  expect(a.map((f) => relative(fromA, f))).toEqual(b.map((f) => relative(fromB, f)));
  for (let i = 0; i < a.length; i++) expect(readFileSync(a[i]).equals(readFileSync(b[i])), a[i]).toBe(true);
};

describe("make-shapes", () => {
  it("writes the same bytes for the same seed, others for another, in class folders", async () => {
    const first = makeShapes(join(root, "shapes1"), { perClass: 3, seed: 5 });
    const again = makeShapes(join(root, "shapes2"), { perClass: 3, seed: 5 });
    const other = makeShapes(join(root, "shapes3"), { perClass: 1, seed: 6 });
    expect(first).toHaveLength(9);
    sameFiles(first, again, join(root, "shapes1"), join(root, "shapes2"));
    expect(readFileSync(first[0]).equals(readFileSync(other[0]))).toBe(false);
    expect(new Set(first.map((f) => f.split(".").pop()))).toEqual(new Set(["png", "jpg"]));

    const dataset = await imageDatasetFromDirectory(join(root, "shapes1"), { imageSize: 64, shuffle: false, labelMode: "categorical" });
    expect(dataset.classNames).toEqual([...SHAPE_CLASSES]);
    const { x, y } = await dataset.toArrays();
    expect(x.shape).toEqual([9, 64, 64, 3]);
    expect(y.shape).toEqual([9, 3]);
    // each image holds two colours far apart (shape and background), not flat noise
    const pixels = await x.data();
    for (let i = 0; i < 9; i++) {
      const image = pixels.subarray(i * 64 * 64 * 3, (i + 1) * 64 * 64 * 3);
      const corner = [image[0], image[1], image[2]];
      let far = 0;
      for (let p = 0; p < 64 * 64; p++) if (Math.hypot(image[p * 3] - corner[0], image[p * 3 + 1] - corner[1], image[p * 3 + 2] - corner[2]) > 60) far++;
      expect(far / (64 * 64)).toBeGreaterThan(0.05);
      expect(far / (64 * 64)).toBeLessThan(0.6);
    }
  });
});

describe("write-mnist-images", () => {
  it("writes digits 0-9 as mixed-size PNG and JPEG files, deterministically, keeping 28-pixel PNGs exact", async () => {
    const files = writeMnistImages(join(root, "mnist1"), { limit: 2, seed: 2 });
    const again = writeMnistImages(join(root, "mnist2"), { limit: 2, seed: 2 });
    expect(files).toHaveLength(20);
    sameFiles(files, again, join(root, "mnist1"), join(root, "mnist2"));

    const sizes = new Set<number>();
    const formats = new Set<string>();
    let exact = 0;
    for (const file of files) {
      const [digit, index] = /(\d+)_(\d+)\.\w+$/.exec(file)!.slice(1).map(Number);
      const image = await decodeImage(readFileSync(file), file);
      sizes.add(image.width);
      formats.add(image.format);
      expect(image.sourceChannels, file).toBe(image.format === "png" ? 1 : 3);
      if (image.format === "png" && image.width === 28) {
        const gray = image.data.filter((_, i) => i % 4 === 0);
        expect(Buffer.from(gray).equals(Buffer.from(mnistBytes(digit, index))), file).toBe(true);
        exact++;
      }
    }
    expect([...sizes].sort((a, b) => a - b)).toEqual(OUTPUT_SIZES);
    expect(formats).toEqual(new Set(["png", "jpeg"]));
    expect(exact).toBeGreaterThan(0);

    const dataset = await imageDatasetFromDirectory(join(root, "mnist1"), { imageSize: 28, colorMode: "grayscale", shuffle: false });
    expect(dataset.classNames).toEqual(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    expect((await dataset.toArrays()).x.shape).toEqual([20, 28, 28, 1]);
  });
});
