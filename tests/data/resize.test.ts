// Resizing matches TensorFlow: bilinear and nearest against tf.js (the same half-pixel-centre
// kernels as tf.image.resize), area against a float64 box-filter reference and hand-worked
// cases from TensorFlow's ResizeArea, and Keras' smart_resize crop.
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import type { RawImage } from "../../src/data/decode.js";
import { cropToAspectRatio, resizeImage } from "../../src/data/resize.js";
import { Random } from "../../src/random.js";

const seed = process.env.SEED ? Number(process.env.SEED) : Math.floor(Math.random() * 2 ** 31);
console.log(`tests/data/resize.test.ts: SEED=${seed}`);
const random = new Random(seed);

beforeAll(async () => {
  await tf.setBackend("cpu");
});

function randomImage(height: number, width: number, channels: number): RawImage {
  return { width, height, channels, data: Uint8Array.from({ length: width * height * channels }, () => random.int(256)) };
}

function maxError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

function tfResize(image: RawImage, height: number, width: number, method: "bilinear" | "nearest"): Float32Array {
  return tf.tidy(() => {
    const x = tf.tensor4d(Float32Array.from(image.data), [1, image.height, image.width, image.channels]);
    const y = method === "bilinear" ? tf.image.resizeBilinear(x, [height, width], false, true) : tf.image.resizeNearestNeighbor(x, [height, width], false, true);
    return y.dataSync() as Float32Array;
  });
}

const SHAPES: [number, number, number, number, number][] = [
  // in h, in w, channels, out h, out w: down, up, mixed, odd ratios, to and from one pixel
  [28, 28, 1, 64, 64],
  [40, 32, 3, 28, 28],
  [17, 23, 3, 9, 31],
  [5, 7, 4, 13, 3],
  [64, 48, 3, 21, 20],
  [1, 1, 3, 4, 5],
  [9, 6, 1, 1, 1],
  [30, 30, 3, 45, 20],
];

describe("bilinear (tf.image.resize, half-pixel centres, no antialias)", () => {
  for (const [ih, iw, c, oh, ow] of SHAPES) {
    it(`${ih}x${iw}x${c} -> ${oh}x${ow} matches tf.js`, () => {
      const image = randomImage(ih, iw, c);
      const ours = resizeImage(image, oh, ow, "bilinear");
      expect([ours.height, ours.width, ours.channels]).toEqual([oh, ow, c]);
      expect(maxError(ours.data, tfResize(image, oh, ow, "bilinear"))).toBeLessThan(1e-3);
    });
  }

  it("a hand-worked case: 3 -> 2 samples at 0.25 and 1.75", () => {
    // (i + 0.5) * 1.5 - 0.5: 0.25 and 1.75
    const out = resizeImage({ width: 3, height: 1, channels: 1, data: Uint8Array.from([0, 100, 200]) }, 1, 2);
    expect(Array.from(out.data)).toEqual([25, 175]);
  });

  it("the same size returns the values as float32, unchanged", () => {
    const image = randomImage(5, 4, 3);
    const out = resizeImage(image, 5, 4);
    expect(out.data).toBeInstanceOf(Float32Array);
    expect(Array.from(out.data)).toEqual(Array.from(image.data));
  });
});

describe("nearest (half-pixel centres)", () => {
  for (const [ih, iw, c, oh, ow] of SHAPES) {
    it(`${ih}x${iw}x${c} -> ${oh}x${ow} matches tf.js exactly`, () => {
      const image = randomImage(ih, iw, c);
      expect(maxError(resizeImage(image, oh, ow, "nearest").data, tfResize(image, oh, ow, "nearest"))).toBe(0);
    });
  }
});

/** Float64 box filter: each output pixel averages the input over its footprint, by overlap length. */
function areaReference(image: RawImage, height: number, width: number): Float64Array {
  const weights = (outSize: number, inSize: number) =>
    Array.from({ length: outSize }, (_, i) => {
      const from = (i * inSize) / outSize;
      const to = ((i + 1) * inSize) / outSize;
      return Array.from({ length: inSize }, (_, j) => Math.max(0, Math.min(j + 1, to) - Math.max(j, from)) / (to - from));
    });
  const wy = weights(height, image.height);
  const wx = weights(width, image.width);
  const c = image.channels;
  const out = new Float64Array(height * width * c);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let j = 0; j < image.height; j++) {
        for (let i = 0; i < image.width; i++) {
          const w = wy[y][j] * wx[x][i];
          if (w === 0) continue;
          for (let k = 0; k < c; k++) out[(y * width + x) * c + k] += w * image.data[(j * image.width + i) * c + k];
        }
      }
    }
  }
  return out;
}

describe("area (TensorFlow's ResizeArea)", () => {
  for (const [ih, iw, c, oh, ow] of SHAPES) {
    it(`${ih}x${iw}x${c} -> ${oh}x${ow} matches a float64 box filter`, () => {
      const image = randomImage(ih, iw, c);
      expect(maxError(resizeImage(image, oh, ow, "area").data, areaReference(image, oh, ow))).toBeLessThan(1e-3);
    });
  }

  it("halving averages 2x2 blocks exactly", () => {
    const out = resizeImage({ width: 4, height: 2, channels: 1, data: Uint8Array.from([0, 2, 10, 20, 4, 6, 30, 40]) }, 1, 2, "area");
    expect(Array.from(out.data)).toEqual([3, 25]);
  });

  it("4 -> 3: TensorFlow's worked example (in[0] + in[1]/3) * 0.75, ...", () => {
    const out = resizeImage({ width: 4, height: 1, channels: 1, data: Uint8Array.from([30, 60, 90, 120]) }, 1, 3, "area");
    const expected = [(30 + 60 / 3) * 0.75, ((60 * 2) / 3 + (90 * 2) / 3) * 0.75, (90 / 3 + 120) * 0.75];
    expect(maxError(out.data, expected)).toBeLessThan(1e-4);
  });
});

describe("cropToAspectRatio (Keras' smart_resize crop)", () => {
  const indexed = (height: number, width: number): RawImage => ({ width, height, channels: 1, data: Uint8Array.from({ length: width * height }, (_, i) => i) });

  it("a tall image to a square keeps the centred square", () => {
    const out = cropToAspectRatio(indexed(10, 6), 32, 32);
    expect([out.height, out.width]).toEqual([6, 6]);
    expect(out.data[0]).toBe(2 * 6); // starts at row floor((10 - 6) / 2) = 2
  });

  it("a 4x9 image to 2:3 keeps 4x6 from column 1", () => {
    const out = cropToAspectRatio(indexed(4, 9), 2, 3);
    expect([out.height, out.width]).toEqual([4, 6]);
    expect(Array.from(out.data.subarray(0, 6))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(out.data.subarray(6, 12))).toEqual([10, 11, 12, 13, 14, 15]);
  });

  it("an image already of that ratio is returned as is", () => {
    const image = indexed(4, 8);
    expect(cropToAspectRatio(image, 16, 32)).toBe(image);
  });
});

describe("bad arguments", () => {
  const image = randomImage(4, 4, 1);
  it.each([
    [0, 4],
    [4, -1],
    [2.5, 4],
    [Number.NaN, 4],
  ])("size [%s, %s]: one line naming it", (h, w) => {
    expect(() => resizeImage(image, h, w)).toThrow(/^gpu-cnn: image size must be two positive integers \[height, width\], got \[/);
  });

  it("an unknown interpolation names the ones there are", () => {
    expect(() => resizeImage(image, 2, 2, "bicubic" as never)).toThrow('gpu-cnn: interpolation "bicubic" is not supported; use "bilinear", "nearest" or "area".');
  });
});
