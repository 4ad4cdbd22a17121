// Augmentation layers on the GPU: the affine sampling kernel against a float64 reference of
// TensorFlow's ImageProjectiveTransformV3 (itself checked against tf.js' CPU kernel), each layer
// against that reference given the same per-image parameters (drawn by a twin layer with the
// same seed), flips exactly, contrast and brightness by their formulas; identity outside
// training, seeding, Keras' factor ranges, chunked batches, a Sequential that trains and
// predicts with augmentation, configs, and bad input.
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { gpu } from "../../src/device.js";
import {
  backward,
  Conv2D,
  Dense,
  Flatten,
  ops,
  RandomBrightness,
  RandomContrast,
  RandomFlip,
  RandomRotation,
  RandomTranslation,
  RandomZoom,
  Rescaling,
  Sequential,
  tensor,
  type Tensor,
} from "../../src/index.node.js";
import { serializeLayer } from "../../src/io/keras.js";
import { rotationTransform, zoomTransform } from "../../src/layers/augmentation.js";
import { affineRef, brightnessRef, contrastRef, wrapJumps, type AffineRefOptions, type FillModeRef } from "../ref/augment.js";
import { expectClose, numel, Random, testSeed, useGpu } from "../helpers.js";

useGpu();
const random = new Random(testSeed("augmentation"));
const FILL_MODES: FillModeRef[] = ["reflect", "wrap", "constant", "nearest"];

beforeAll(async () => {
  await tf.setBackend("cpu");
});

function images(shape: number[], lo = 0, hi = 255): Float32Array {
  return Float32Array.from(random.array(numel(shape), lo, hi));
}

/** A random rotation + zoom + shift per image, in TensorFlow's layout (float32, as the GPU sees it). */
function randomTransforms(n: number, h: number, w: number): Float32Array {
  const out = new Float32Array(n * 8);
  for (let b = 0; b < n; b++) {
    const r = rotationTransform(random.uniform(-Math.PI, Math.PI), h, w);
    const z = random.uniform(0.6, 1.6);
    // zoom about the centre, then shift by up to half the image
    const t = [r[0] * z, r[1] * z, r[2] + random.uniform(-0.5, 0.5) * w, r[3] * z, r[4] * z, r[5] + random.uniform(-0.5, 0.5) * h, 0, 0];
    out.set(t, b * 8);
  }
  return out;
}

/** The values with the pixels at a jump of the wrap mapping zeroed (see wrapJumps). */
function skipJumps(values: ArrayLike<number>, shape: number[], transforms: ArrayLike<number>): Float64Array {
  const jumps = wrapJumps(shape, transforms);
  const c = shape[3];
  return Float64Array.from(values as ArrayLike<number>, (v, i) => (jumps[Math.floor(i / c)] ? 0 : v));
}

describe("affineTransform op", () => {
  it("the float64 reference agrees with tf.js' Transform kernel (bilinear, every fill mode)", () => {
    const shape = [1, 7, 9, 2]; // tf.js' CPU kernel returns after the first image: one at a time
    for (let trial = 0; trial < 3; trial++) {
      const x = images(shape);
      const transforms = randomTransforms(1, 7, 9);
      for (const fillMode of FILL_MODES) {
        const expected = tf.tidy(() =>
          tf.image.transform(tf.tensor4d(x, shape as [number, number, number, number]), tf.tensor2d(transforms, [1, 8]), "bilinear", fillMode, 7).dataSync(),
        );
        const ours = affineRef(x, shape, transforms, { interpolation: "bilinear", fillMode, fillValue: 7 });
        expectClose(fillMode === "wrap" ? skipJumps(ours, shape, transforms) : ours, fillMode === "wrap" ? skipJumps(expected, shape, transforms) : expected, `reference vs tf.js ${fillMode}`, 1e-5);
      }
    }
  });

  for (const fillMode of FILL_MODES) {
    it(`bilinear, fill ${fillMode}: rotation, zoom and shift per image`, async () => {
      const shape = [random.int(1, 4), random.int(1, 13), random.int(1, 13), random.pick([1, 3, 4])];
      const [n, h, w] = shape;
      const x = images(shape);
      const transforms = randomTransforms(n, h, w);
      if (n > 1) transforms.set([1, 0, 0, 0, 1, 0, 0.01, -0.02], 0); // one projective transform
      const options: AffineRefOptions = { interpolation: "bilinear", fillMode, fillValue: -5 };
      const y = await ops.affineTransform(tensor(x, shape), tensor(transforms, [n, 8]), options).data();
      const ref = affineRef(x, shape, transforms, options);
      if (fillMode === "wrap") expectClose(skipJumps(y, shape, transforms), skipJumps(ref, shape, transforms), `affine wrap ${shape}`);
      else expectClose(y, ref, `affine ${fillMode} ${shape}`);
    });
  }

  it("nearest: whole-pixel shifts and flips land exactly, every fill mode", async () => {
    const shape = [4, 6, 5, 3];
    const x = images(shape);
    const transforms = new Float32Array(4 * 8);
    transforms.set([1, 0, -2, 0, 1, 3, 0, 0], 0);
    transforms.set([-1, 0, 4, 0, 1, 0, 0, 0], 8);
    transforms.set([1, 0, 7, 0, -1, 5, 0, 0], 16);
    transforms.set([0, 1, 0, 1, 0, -1, 0, 0], 24); // transpose, shifted
    for (const fillMode of FILL_MODES) {
      const options: AffineRefOptions = { interpolation: "nearest", fillMode, fillValue: 3 };
      const y = await ops.affineTransform(tensor(x, shape), tensor(transforms, [4, 8]), options).data();
      expect(Array.from(y)).toEqual(Array.from(affineRef(x, shape, transforms, options), Math.fround));
    }
  });

  it("has no gradient, and says where augmentation belongs", () => {
    const x = tensor(images([1, 3, 3, 1]), [1, 3, 3, 1]);
    x.requiresGrad = true;
    const y = ops.sum(ops.affineTransform(x, tensor(new Float32Array([1, 0, 0, 0, 1, 0, 0, 0]), [1, 8])));
    expect(() => backward(y)).toThrow(/affineTransform .* has no gradient; augmentation layers belong before any layer with weights/);
  });

  it("rejects inputs that are not image batches, and transforms of the wrong shape", () => {
    expect(() => ops.affineTransform(tensor(new Float32Array(12), [3, 4]), tensor(new Float32Array(8), [1, 8]))).toThrow(/affineTransform: expects images \[batch, height, width, channels\]/);
    expect(() => ops.affineTransform(tensor(new Float32Array(8), [2, 2, 2, 1]), tensor(new Float32Array(8), [1, 8]))).toThrow(/transforms \[1, 8\] must be \[2, 8\]/);
  });
});

/** Runs `layer` in training mode on x and compares it with `reference` given its twin's draws. */
async function checkLayer<L extends { apply(x: Tensor, args: { training: boolean }): Tensor }>(
  layer: L,
  twin: L,
  shape: number[],
  reference: (x: Float32Array, twin: L) => ArrayLike<number>,
  what: string,
  [lo, hi] = [0, 255],
): Promise<Float32Array> {
  const x = images(shape, lo, hi);
  const y = await layer.apply(tensor(x, shape), { training: true }).data();
  expectClose(y, reference(x, twin), what);
  return y;
}

describe("geometric layers", () => {
  it("RandomFlip flips exactly, each image left-right and/or top-bottom at random", async () => {
    const shape = [16, 5, 6, 3];
    const [n, h, w, c] = shape;
    for (const [seed, mode] of [[1, "horizontal"], [2, "vertical"], [3, "horizontal_and_vertical"]] as const) {
      // fixed seeds: the mix of flipped and unflipped images below is then certain
      const twin = new RandomFlip(mode, { seed });
      const x = images(shape);
      const y = await new RandomFlip(mode, { seed }).apply(tensor(x, shape), { training: true }).data();
      const t = twin.drawTransforms(n, h, w);
      const expected = new Float32Array(x.length);
      let flippedX = 0;
      let flippedY = 0;
      for (let b = 0; b < n; b++) {
        const fx = t[b * 8] === -1;
        const fy = t[b * 8 + 4] === -1;
        flippedX += fx ? 1 : 0;
        flippedY += fy ? 1 : 0;
        for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) for (let k = 0; k < c; k++) {
          expected[((b * h + i) * w + j) * c + k] = x[((b * h + (fy ? h - 1 - i : i)) * w + (fx ? w - 1 - j : j)) * c + k];
        }
      }
      expect(Array.from(y), mode).toEqual(Array.from(expected));
      // 16 images: some flipped and some not, on the axes the mode names (and never on the others)
      if (mode !== "vertical") expect(flippedX > 0 && flippedX < n, `${mode}: ${flippedX} of ${n} flipped left-right`).toBe(true);
      else expect(flippedX).toBe(0);
      if (mode !== "horizontal") expect(flippedY > 0 && flippedY < n, `${mode}: ${flippedY} of ${n} flipped top-bottom`).toBe(true);
      else expect(flippedY).toBe(0);
    }
  });

  it("RandomTranslation, RandomRotation and RandomZoom match the reference for their draws", async () => {
    const shape = [5, 9, 11, 3];
    const [n, h, w] = shape;
    type Geometric = RandomTranslation | RandomRotation | RandomZoom;
    for (const fillMode of FILL_MODES) {
      const options = { seed: random.int(0, 1e9), fillMode, fillValue: 17 };
      const makers: [string, () => Geometric][] = [
        ["RandomTranslation", () => new RandomTranslation(0.3, [-0.2, 0.4], options)],
        ["RandomRotation", () => new RandomRotation(0.5, options)],
        ["RandomZoom", () => new RandomZoom(0.4, [-0.3, 0.5], options)],
      ];
      for (const [what, make] of makers) {
        const x = images(shape);
        const y = await make().apply(tensor(x, shape), { training: true }).data();
        const transforms = make().drawTransforms(n, h, w); // the twin draws what the layer applied
        const ref = affineRef(x, shape, transforms, { interpolation: "bilinear", fillMode, fillValue: 17 });
        if (fillMode === "wrap") expectClose(skipJumps(y, shape, transforms), skipJumps(ref, shape, transforms), `${what} wrap`);
        else expectClose(y, ref, `${what} ${fillMode}`);
      }
    }
    const nearest = { seed: 5, interpolation: "nearest" as const, fillMode: "constant" as const };
    const layer = new RandomTranslation([0.25, 0.25], [-0.5, -0.5], nearest);
    // whole-pixel shifts: 8 rows * 0.25 = 2 down, 6 columns * -0.5 = 3 left
    const x = images([1, 8, 6, 1]);
    const y = await layer.apply(tensor(x, [1, 8, 6, 1]), { training: true }).data();
    for (let i = 0; i < 8; i++) for (let j = 0; j < 6; j++) {
      const from = [i - 2, j + 3];
      expect(y[i * 6 + j]).toBe(from[0] >= 0 && from[1] < 6 ? x[from[0] * 6 + from[1]] : 0);
    }
  });

  it("Keras' ranges: RandomRotation(0.1) turns within ±0.1·2π; a negative zoom factor zooms in", async () => {
    const angles = new RandomRotation(0.1, { seed: 1 }).drawAngles(2000);
    expect(Math.max(...angles.map(Math.abs))).toBeLessThanOrEqual(0.2 * Math.PI);
    expect(Math.min(...angles)).toBeLessThan(-0.18 * Math.PI);
    expect(Math.max(...angles)).toBeGreaterThan(0.18 * Math.PI);
    const turned = new RandomRotation([0.25, 0.25], { seed: 1 }).drawAngles(1)[0];
    expect(turned).toBeCloseTo(Math.PI / 2, 12);
    expect(new RandomRotation([0.3, -0.1], {}).range).toEqual([-0.1, 0.3]); // a pair is sorted, as Keras 3

    const zoomIn = new RandomZoom([-0.5, -0.2], undefined, { seed: 2 }).drawZooms(500);
    expect(zoomIn.every(([zy, zx]) => zy >= 0.5 && zy <= 0.8 && zx === zy)).toBe(true); // no widthFactor: aspect kept
    const both = new RandomZoom(0.3, 0.1, { seed: 3 }).drawZooms(500);
    expect(both.some(([zy]) => zy < 1) && both.some(([zy]) => zy > 1)).toBe(true);
    expect(both.every(([zy, zx]) => Math.abs(zy - 1) <= 0.3 && Math.abs(zx - 1) <= 0.1)).toBe(true);

    // zooming in samples inside the image only; zooming out shows the fill around it
    const shape = [4, 10, 10, 1];
    const x = images(shape, 0, 1);
    const inside = await new RandomZoom([-0.5, -0.2], { seed: 4, fillMode: "constant", fillValue: 99 }).apply(tensor(x, shape), { training: true }).data();
    expect(inside.every((v) => v <= 1)).toBe(true);
    const outside = await new RandomZoom([0.5, 0.8], { seed: 4, fillMode: "constant", fillValue: 99 }).apply(tensor(x, shape), { training: true }).data();
    for (let b = 0; b < 4; b++) expect(outside[b * 100]).toBe(99); // each image's corner is fill

    // positive translation shifts down and right; the rotation matrix turns about the centre
    expect(rotationTransform(Math.PI, 5, 7).map((v) => Math.round(v * 1e9) / 1e9)).toEqual([-1, -0, 6, 0, -1, 4, 0, 0]);
    expect(zoomTransform(2, 0.5, 5, 9)).toEqual([0.5, 0, 2, 0, 2, -2, 0, 0]);
  });
});

describe("colour layers", () => {
  it("RandomContrast: clip((x - mean) * c + mean) with c in [1 - lower, 1 + upper]", async () => {
    const shape = [6, 7, 5, 3];
    const seed = random.int(0, 1e9);
    const factors = new RandomContrast(0.6, { seed: 1 }).drawFactors(3000);
    expect(Math.min(...factors)).toBeGreaterThanOrEqual(0.4 - 1e-6);
    expect(Math.max(...factors)).toBeLessThanOrEqual(1.6 + 1e-6);
    expect(Math.min(...factors) < 0.5 && Math.max(...factors) > 1.5).toBe(true);
    await checkLayer(new RandomContrast(0.6, { seed }), new RandomContrast(0.6, { seed }), shape, (x, t) => contrastRef(x, shape, t.drawFactors(6), [0, 255]), "RandomContrast");
    const pair = { seed, valueRange: [-1, 1] as [number, number] };
    // a pair [lower, upper]; values in [-1, 1], clipped there
    await checkLayer(new RandomContrast([0.2, 0.9], pair), new RandomContrast([0.2, 0.9], pair), shape, (x, t) => contrastRef(x, shape, t.drawFactors(6), [-1, 1]), "RandomContrast [-1, 1]", [-1, 1]);
  });

  it("RandomBrightness: clip(x + delta · (high - low)) with delta in the factor range", async () => {
    const shape = [5, 6, 4, 3];
    const seed = random.int(0, 1e9);
    const deltas = new RandomBrightness([-0.2, 0.4], { seed: 1, valueRange: [0, 1] }).drawDeltas(2000);
    expect(Math.min(...deltas) >= -0.2 - 1e-6 && Math.max(...deltas) <= 0.4 + 1e-6).toBe(true);
    expect(Math.min(...deltas) < -0.18 && Math.max(...deltas) > 0.38).toBe(true);
    await checkLayer(new RandomBrightness(0.5, { seed }), new RandomBrightness(0.5, { seed }), shape, (x, t) => brightnessRef(x, shape, t.drawDeltas(5), [0, 255]), "RandomBrightness");
    // clipping: a full +1 delta saturates everything at the top of the range
    const white = await new RandomBrightness([1, 1], { valueRange: [0, 1] }).apply(tensor(images(shape, 0, 1), shape), { training: true }).data();
    expect(white.every((v) => v === 1)).toBe(true);
  });
});

describe("training only, seeded", () => {
  const layers = () => [
    new RandomFlip(),
    new RandomTranslation(0.2, 0.2),
    new RandomRotation(0.1),
    new RandomZoom(0.2),
    new RandomContrast(0.3),
    new RandomBrightness(0.2),
  ];

  it("outside training each layer returns its input as it is", () => {
    const x = tensor(images([2, 4, 4, 3]), [2, 4, 4, 3]);
    for (const layer of layers()) {
      expect(layer.apply(x, { training: false }), layer.className).toBe(x);
      expect(layer.apply(x), layer.className).toBe(x);
    }
  });

  it("the same seed gives the same augmentation; batches differ from each other", async () => {
    const shape = [3, 6, 6, 3];
    const x = tensor(images(shape), shape);
    for (const make of [(s?: number) => new RandomRotation(0.2, { seed: s }), (s?: number) => new RandomContrast(0.5, { seed: s })]) {
      const a = make(42);
      const b = make(42);
      const first = await a.apply(x, { training: true }).data();
      expect(Array.from(await b.apply(x, { training: true }).data())).toEqual(Array.from(first));
      expect(Array.from(await a.apply(x, { training: true }).data())).not.toEqual(Array.from(first));
      expect(Array.from(await make(43).apply(x, { training: true }).data())).not.toEqual(Array.from(first));
    }
    // without a layer seed, the model's seed decides
    const run = async (seed: number) => {
      const model = new Sequential({ seed, layers: [new RandomRotation(0.2, { inputShape: [6, 6, 3] }), new RandomBrightness(0.3)] });
      const y = model.layers[1].apply(model.layers[0].apply(x, { training: true }), { training: true });
      return Array.from(await y.data());
    };
    const same = await run(7);
    expect(await run(7)).toEqual(same);
    expect(await run(8)).not.toEqual(same);
  });

  it("a Sequential with Rescaling and RandomFlip trains a step and predicts without augmentation", async () => {
    const shape = [8, 6, 6, 3];
    const x = tensor(images(shape), shape);
    const labels = new Float32Array(16);
    for (let i = 0; i < 8; i++) labels[i * 2 + (i % 2)] = 1;
    const y = tensor(labels, [8, 2]);
    const build = (augment: boolean) =>
      new Sequential({
        seed: 11,
        layers: [
          new Rescaling(1 / 255, 0, { inputShape: [6, 6, 3] }),
          ...(augment ? [new RandomFlip("horizontal"), new RandomContrast(0.2, { valueRange: [0, 1] })] : []),
          new Conv2D(4, 3, { activation: "relu" }),
          new Flatten(),
          new Dense(2, { activation: "softmax" }),
        ],
      });
    const model = build(true);
    model.compile({ optimizer: "adam", loss: "categoricalCrossentropy", metrics: ["accuracy"] });
    const logs = await model.trainOnBatch(x, y);
    expect(Number.isFinite(logs.loss)).toBe(true);
    const first = await (await model.predict(x)).data();
    expect(Array.from(await (await model.predict(x)).data())).toEqual(Array.from(first));
    // the same weights without the augmentation layers predict the same
    const plain = build(false);
    plain.setWeights(model.getWeights());
    expectClose(await (await plain.predict(x)).data(), first, "predict ignores augmentation", 1e-6);
    const fit = await model.fit(x, y, { epochs: 2, batchSize: 4, verbose: 0 });
    expect(fit.history.loss.every(Number.isFinite)).toBe(true);
  });
});

describe("chunked batches", () => {
  it("affine, contrast and brightness split batches larger than one storage binding", async () => {
    const g = gpu();
    const limit = g.maxBindingBytes;
    g.maxBindingBytes = 3072; // 2 images of 8x16x3 per binding
    try {
      const shape = [7, 8, 16, 3];
      const x = images(shape);
      const transforms = randomTransforms(7, 8, 16);
      const options: AffineRefOptions = { interpolation: "bilinear", fillMode: "reflect", fillValue: 0 };
      expectClose(await ops.affineTransform(tensor(x, shape), tensor(transforms, [7, 8]), options).data(), affineRef(x, shape, transforms, options), "chunked affine");
      const factors = Float32Array.from({ length: 7 }, () => random.uniform(0.5, 1.5));
      expectClose(await ops.adjustContrast(tensor(x, shape), tensor(factors, [7])).data(), contrastRef(x, shape, factors, [0, 255]), "chunked contrast");
      const deltas = Float32Array.from({ length: 7 }, () => random.uniform(-60, 60));
      expectClose(await ops.adjustBrightness(tensor(x, shape), tensor(deltas, [7])).data(), brightnessRef(x, shape, deltas, [0, 255]), "chunked brightness");
    } finally {
      g.maxBindingBytes = limit;
    }
  });

  it("dispatches fold into 2-D past the per-dimension workgroup limit", async () => {
    const g = gpu();
    Object.defineProperty(g, "maxWorkgroupsPerDimension", { value: 10, configurable: true });
    try {
      const shape = [3, 30, 40, 3]; // 3,600 pixels, 10,800 values: 15 and 43 workgroups of 256
      const x = images(shape);
      const transforms = randomTransforms(3, 30, 40);
      const options: AffineRefOptions = { interpolation: "bilinear", fillMode: "nearest", fillValue: 0 };
      expectClose(await ops.affineTransform(tensor(x, shape), tensor(transforms, [3, 8]), options).data(), affineRef(x, shape, transforms, options), "folded affine");
      const factors = Float32Array.from([0.5, 1, 1.5]);
      expectClose(await ops.adjustContrast(tensor(x, shape), tensor(factors, [3])).data(), contrastRef(x, shape, factors, [0, 255]), "folded contrast");
      const deltas = Float32Array.from([-9, 0, 30]);
      expectClose(await ops.adjustBrightness(tensor(x, shape), tensor(deltas, [3])).data(), brightnessRef(x, shape, deltas, [0, 255]), "folded brightness");
    } finally {
      delete (g as { maxWorkgroupsPerDimension?: number }).maxWorkgroupsPerDimension;
    }
    expect(g.maxWorkgroupsPerDimension).toBeGreaterThan(10);
  });

  it("per-image channel sums reduce in several passes over large images", async () => {
    const shape = [2, 70, 70, 3]; // 4,900 pixels: 77 blocks, then 2, then 1
    const x = images(shape, -1, 1);
    const sums = await ops.imageChannelSums(tensor(x, shape)).data();
    const ref = new Float64Array(6);
    x.forEach((v, i) => (ref[Math.floor(i / (4900 * 3)) * 3 + (i % 3)] += v));
    expectClose(sums, ref, "channel sums", 1e-4);
  });
});

describe("configs and bad input", () => {
  it("configs round-trip and serialize as Keras writes them", () => {
    const layers = [
      new RandomFlip("horizontal_and_vertical", { seed: 3, inputShape: [8, 8, 3] }),
      new RandomTranslation(0.1, [-0.2, 0.3], { fillMode: "constant", fillValue: 1 }),
      new RandomRotation(0.2, { interpolation: "nearest" }),
      new RandomZoom(0.2),
      new RandomZoom([-0.3, -0.1], 0.4, { fillMode: "wrap" }),
      new RandomContrast([0.1, 0.5], { seed: 9, valueRange: [0, 1] }),
      new RandomBrightness(0.2),
    ];
    for (const layer of layers) {
      const config = layer.getConfig();
      const cls = layer.constructor as unknown as { fromConfig(c: Record<string, unknown>): typeof layer };
      expect({ ...cls.fromConfig(config).getConfig(), name: config.name }).toEqual(config);
    }
    expect(serializeLayer(layers[0]).config).toMatchObject({ mode: "horizontal_and_vertical", seed: 3 });
    expect(serializeLayer(layers[1]).config).toMatchObject({ height_factor: 0.1, width_factor: [-0.2, 0.3], fill_mode: "constant", fill_value: 1, interpolation: "bilinear", seed: null });
    expect(serializeLayer(layers[3]).config).toMatchObject({ height_factor: 0.2, width_factor: null });
    expect(serializeLayer(layers[5]).config).toMatchObject({ factor: [0.1, 0.5], value_range: [0, 1], seed: 9 });
    // Keras' snake_case value comes back camelCased from model.json; both read
    expect(RandomFlip.fromConfig({ mode: "horizontalAndVertical" }).mode).toBe("horizontal_and_vertical");
  });

  it("wrong rank, factors out of range, bad modes", () => {
    expect(() => new RandomFlip().apply(tensor(new Float32Array(8), [2, 2, 2]), { training: true })).toThrow(/expects images \[height, width, channels\] per sample \(NHWC\), got inputs \(None, 2, 2\)/);
    expect(() => new RandomFlip().call(tensor(new Float32Array(8), [2, 2, 2]), { training: true })).toThrow(/expects images \[batch, height, width, channels\], got \[2, 2, 2\]/);
    expect(() => new Sequential({ layers: [new RandomRotation(0.1, { inputShape: [28, 28] })] })).toThrow(/expects images \[height, width, channels\] per sample/);
    expect(() => new RandomRotation(1.5)).toThrow(/factor must be a number or a pair \[lower, upper\] of numbers in \[-1, 1\], got 1.5/);
    expect(() => new RandomTranslation(0.1, [0.2, 1.2])).toThrow(/widthFactor must be .* in \[-1, 1\]/);
    expect(() => new RandomZoom([-2, 0.1])).toThrow(/heightFactor must be/);
    expect(() => new RandomContrast(-0.1)).toThrow(/factor must be .* in \[0, 1\]/);
    expect(() => new RandomBrightness(0.1, { valueRange: [1, 1] })).toThrow(/valueRange must be two different finite numbers/);
    expect(() => new RandomFlip("diagonal" as never)).toThrow(/mode must be "horizontal", "vertical" or "horizontal_and_vertical"/);
    expect(() => new RandomRotation(0.1, { fillMode: "mirror" as never })).toThrow(/fillMode "mirror" is not supported/);
    expect(() => new RandomZoom(0.1, undefined, { seed: -1 })).toThrow(/seed must be a non-negative integer/);
  });
});
