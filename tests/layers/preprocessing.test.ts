// Preprocessing layers on the GPU against float64 references: Rescaling and Normalization
// (forward, gradient, adapt from a tensor and from streamed batches), Resizing against the CPU
// resize of src/data/resize.ts (TensorFlow's half-pixel bilinear and nearest), the chunked
// path, configs as saved, and bad input.
import { describe, expect, it } from "vitest";
import { gpu } from "../../src/device.js";
import { backward, LayerShapeError, Normalization, ops, Rescaling, Resizing, Sequential, tensor, type Tensor } from "../../src/index.node.js";
import { cropToAspectRatio, resizeImage } from "../../src/data/resize.js";
import { serializeLayer } from "../../src/io/keras.js";
import { checkOp, expectClose, numel, Random, testSeed, useGpu } from "../helpers.js";

useGpu();
const random = new Random(testSeed("preprocessing"));

function images(shape: number[], lo = 0, hi = 255): Float32Array {
  return Float32Array.from(random.array(numel(shape), lo, hi));
}

/** One image of a float batch as resize.ts' RawImage. */
function rawImage(data: Float32Array, shape: number[], b: number) {
  const [, h, w, c] = shape;
  return { width: w, height: h, channels: c, data: data.subarray(b * h * w * c, (b + 1) * h * w * c) };
}

function resizeReference(data: Float32Array, shape: number[], height: number, width: number, interpolation: "bilinear" | "nearest", crop: boolean): Float32Array {
  const [n, , , c] = shape;
  const out = new Float32Array(n * height * width * c);
  for (let b = 0; b < n; b++) {
    let image = rawImage(data, shape, b);
    if (crop) image = cropToAspectRatio(image, height, width) as typeof image;
    out.set(resizeImage(image, height, width, interpolation).data, b * height * width * c);
  }
  return out;
}

describe("Rescaling", () => {
  it("x * scale + offset, scalar and per channel, with its gradient", async () => {
    const shape = [random.int(1, 3), random.int(1, 7), random.int(1, 9), 3];
    const x = images(shape);
    const layer = new Rescaling(1 / 127.5, -1);
    expectClose(await layer.apply(tensor(x, shape)).data(), Array.from(x, (v) => v / 127.5 - 1), "Rescaling(1/127.5, -1)");
    const scale = [0.5, -2, 3];
    const offset = [1, 0, -4];
    await checkOp({
      what: `Rescaling per channel ${shape}`,
      inputs: [{ values: random.array(numel(shape)), shape, grad: true }],
      reference: ([v]) => v.map((e, i) => e * scale[i % 3] + offset[i % 3]),
      op: ([t]) => new Rescaling(scale, offset).apply(t),
      random,
    });
  });

  it("takes its layer options second when there is no offset", () => {
    const layer = new Rescaling(1 / 255, { inputShape: [4, 4, 3], name: "scale_pixels" });
    expect([layer.inputShape, layer.name, layer.offset]).toEqual([[4, 4, 3], "scale_pixels", [0]]);
  });

  it("rejects a per-channel scale of the wrong length", () => {
    expect(() => new Sequential({ layers: [new Rescaling([1, 2], 0, { inputShape: [4, 4, 3] })] })).toThrow(/scale has 2 values but inputs \(None, 4, 4, 3\) have 3 channels/);
  });
});

function stats(x: Float32Array, channels: number, inner = 1): { mean: number[]; variance: number[] } {
  const sum = new Float64Array(channels);
  const count = x.length / channels;
  x.forEach((v, i) => (sum[Math.floor(i / inner) % channels] += v));
  const mean = Array.from(sum, (s) => s / count);
  const sq = new Float64Array(channels);
  x.forEach((v, i) => {
    const k = Math.floor(i / inner) % channels;
    sq[k] += (v - mean[k]) ** 2;
  });
  return { mean, variance: Array.from(sq, (s) => s / count) };
}

describe("Normalization", () => {
  it("(x - mean) / max(sqrt(variance), 1e-7) with given statistics, and its gradient", async () => {
    const shape = [2, 5, 4, 3];
    const mean = [10, -3, 0.5];
    const variance = [4, 0, 0.25]; // variance 0 divides by Keras' epsilon 1e-7
    const x = Float32Array.from(random.array(numel(shape), -1, 1), (v, i) => (i % 3 === 1 ? -3 + v * 1e-6 : v));
    const y = new Normalization({ mean, variance }).apply(tensor(x, shape));
    const ref = Array.from(x, (v, i) => (v - mean[i % 3]) / Math.max(Math.sqrt(variance[i % 3]), 1e-7));
    expectClose(await y.data(), ref, "Normalization");
    await checkOp({
      what: "Normalization gradient",
      inputs: [{ values: random.array(numel(shape)), shape, grad: true }],
      reference: ([v]) => v.map((e, i) => (e - mean[i % 3]) / Math.sqrt([4, 9, 0.25][i % 3])),
      op: ([t]) => new Normalization({ mean, variance: [4, 9, 0.25] }).apply(t),
      random,
    });
    const inverted = new Normalization({ mean, variance: [4, 9, 0.25], invert: true }).apply(tensor(x, shape));
    expectClose(await inverted.data(), Array.from(x, (v, i) => v * Math.sqrt([4, 9, 0.25][i % 3]) + mean[i % 3]), "Normalization invert");
  });

  it("adapt() from a tensor and from streamed { x } batches gives the population statistics", async () => {
    const shape = [7, 6, 5, 3];
    const x = Float32Array.from(images(shape), (v, i) => v * (1 + (i % 3)) + 40 * (i % 3));
    const expected = stats(x, 3);
    const fromTensor = new Normalization();
    await fromTensor.adapt(tensor(x, shape));
    expectClose(fromTensor.mean!, expected.mean, "adapted mean", 1e-9);
    expectClose(fromTensor.variance!, expected.variance, "adapted variance", 1e-9);
    // batches of 3, 3, 1 images, as an ImageDataset yields them; adapt disposes each batch's tensors
    const per = numel(shape.slice(1));
    const made: Tensor[] = [];
    async function* batches() {
      for (let start = 0; start < 7; start += 3) {
        const count = Math.min(3, 7 - start);
        const t = tensor(x.slice(start * per, (start + count) * per), [count, ...shape.slice(1)]);
        made.push(t);
        yield { x: t, y: tensor(new Float32Array(count), [count]) };
      }
    }
    const streamed = new Normalization({ inputShape: shape.slice(1) });
    new Sequential({ layers: [streamed] }); // built before adapt, as in a model
    await streamed.adapt(batches());
    expectClose(streamed.mean!, expected.mean, "streamed mean", 1e-9);
    expectClose(streamed.variance!, expected.variance, "streamed variance", 1e-9);
    expect(made.every((t) => t.isDisposed)).toBe(true);
    const y = await streamed.apply(tensor(x, shape)).data();
    const ref = Array.from(x, (v, i) => (v - expected.mean[i % 3]) / Math.sqrt(expected.variance[i % 3]));
    expectClose(y, ref, "normalized with adapted statistics");
  });

  it("another axis, and axis null (one mean and variance)", async () => {
    const shape = [4, 5, 2];
    const x = Float32Array.from(random.array(numel(shape), -3, 5), (v, i) => v + Math.floor(i / 2) % 5);
    const byRow = new Normalization({ axis: 1 });
    await byRow.adapt(tensor(x, shape));
    const s = stats(x, 5, 2);
    expectClose(byRow.mean!, s.mean, "axis 1 mean", 1e-9);
    const y = await byRow.apply(tensor(x, shape)).data();
    expectClose(y, Array.from(x, (v, i) => (v - s.mean[Math.floor(i / 2) % 5]) / Math.sqrt(s.variance[Math.floor(i / 2) % 5])), "axis 1");
    const all = new Normalization({ axis: null });
    await all.adapt(tensor(x, shape));
    const t = stats(x, 1);
    expectClose(await all.apply(tensor(x, shape)).data(), Array.from(x, (v) => (v - t.mean[0]) / Math.sqrt(t.variance[0])), "axis null");
  });

  it("without adapt() or statistics, says so", () => {
    const layer = new Normalization();
    expect(() => layer.apply(tensor(new Float32Array(6), [1, 2, 3]))).toThrow(/has no mean and variance: call `await layer.adapt\(data\)`/);
    expect(() => new Normalization({ mean: [1, 2] })).toThrow(/give both mean and variance/);
  });
});

describe("Resizing", () => {
  const cases: [number[], number, number][] = [
    // [N, H, W, C] -> height, width: down, up, mixed, to and from one pixel, odd ratios
    [[2, 17, 23, 3], 8, 8],
    [[1, 5, 7, 1], 16, 11],
    [[3, 9, 9, 4], 9, 4],
    [[1, 1, 1, 2], 3, 5],
    [[2, 13, 6, 3], 1, 1],
  ];
  for (const interpolation of ["bilinear", "nearest"] as const) {
    it.each(cases)(`${interpolation} %j -> %i x %i matches src/data/resize.ts`, async (shape, height, width) => {
      const x = images(shape);
      const y = new Resizing(height, width, { interpolation }).apply(tensor(x, shape));
      expect(y.shape).toEqual([shape[0], height, width, shape[3]]);
      expectClose(await y.data(), resizeReference(x, shape, height, width, interpolation, false), `Resizing ${interpolation}`);
    });
  }

  it("cropToAspectRatio matches cropToAspectRatio + resizeImage", async () => {
    for (const [shape, height, width] of [
      [[2, 20, 9, 3], 8, 8],
      [[1, 7, 31, 1], 5, 6],
    ] as [number[], number, number][]) {
      for (const interpolation of ["bilinear", "nearest"] as const) {
        const x = images(shape);
        const y = new Resizing(height, width, { interpolation, cropToAspectRatio: true }).apply(tensor(x, shape));
        expectClose(await y.data(), resizeReference(x, shape, height, width, interpolation, true), `Resizing crop ${interpolation} ${shape}`);
      }
    }
  });

  it("splits batches larger than one storage binding", async () => {
    const g = gpu();
    const limit = g.maxBindingBytes;
    try {
      const shape = [7, 8, 16, 3];
      const x = images(shape);
      // 384 floats per input image; the limits hold 2 of the larger side (input, then output) per binding
      for (const [h, w, bytes] of [
        [4, 8, 3072],
        [16, 32, 12_288],
      ]) {
        g.maxBindingBytes = bytes;
        const y = ops.resize(tensor(x, shape), h, w);
        expectClose(await y.data(), resizeReference(x, shape, h, w, "bilinear", false), `chunked resize to ${h}x${w}`);
      }
      g.maxBindingBytes = 2816; // 704 floats
      const n = new Normalization({ mean: [1, 2, 3], variance: [4, 5, 6] }).apply(tensor(x, shape));
      expectClose(await n.data(), Array.from(x, (v, i) => (v - [1, 2, 3][i % 3]) / Math.sqrt([4, 5, 6][i % 3])), "chunked Normalization");
      // along the width (axis 2): chunks of elements start mid-row, the index along the axis comes from the offset
      const mean = Array.from({ length: 16 }, (_, i) => i);
      const byColumn = new Normalization({ axis: 2, mean, variance: mean.map((v) => v + 1) }).apply(tensor(x, shape));
      const column = (i: number) => Math.floor(i / 3) % 16;
      expectClose(await byColumn.data(), Array.from(x, (v, i) => (v - column(i)) / Math.sqrt(column(i) + 1)), "chunked Normalization along axis 2");
    } finally {
      g.maxBindingBytes = limit;
    }
  });

  it("dispatches fold into 2-D past the per-dimension workgroup limit", async () => {
    const g = gpu();
    Object.defineProperty(g, "maxWorkgroupsPerDimension", { value: 20, configurable: true });
    try {
      const gray = [2, 30, 40, 1];
      const g1 = images(gray);
      const y = new Resizing(160, 128).apply(tensor(g1, gray)); // 320 rows of 32 runs of 4 pixels: 40 workgroups of 256
      expectClose(await y.data(), resizeReference(g1, gray, 160, 128, "bilinear", false), "folded resize");
      const shape = [2, 60, 60, 3];
      const x = images(shape);
      const r = new Rescaling([2, 3, 4], 1).apply(tensor(x, shape)); // 7,200 pixels: 29 workgroups
      expectClose(await r.data(), Array.from(x, (v, i) => v * [2, 3, 4][i % 3] + 1), "folded rescaling");
      const rows = Array.from({ length: 60 }, (_, i) => i / 10);
      const byRow = new Normalization({ axis: 1, mean: rows, variance: rows }).apply(tensor(x, shape)); // 21,600 values: 85 workgroups
      const row = (i: number) => Math.floor(i / 180) % 60;
      expectClose(await byRow.data(), Array.from(x, (v, i) => (v - row(i) / 10) / Math.max(Math.sqrt(row(i) / 10), 1e-7)), "folded Normalization along axis 1");
    } finally {
      delete (g as { maxWorkgroupsPerDimension?: number }).maxWorkgroupsPerDimension;
    }
    expect(g.maxWorkgroupsPerDimension).toBeGreaterThan(20);
  });

  it("has no gradient, and says where it belongs", () => {
    const x = tensor(images([1, 4, 4, 1]), [1, 4, 4, 1]);
    x.requiresGrad = true;
    const y = ops.sum(new Resizing(2, 2).apply(x));
    expect(() => backward(y)).toThrow(/resize \(the Resizing layer\) has no gradient; put Resizing before any layer with weights/);
  });

  it("rejects inputs that are not images", () => {
    expect(() => new Sequential({ layers: [new Resizing(4, 4, { inputShape: [10] })] })).toThrow(/expects images \[height, width, channels\] per sample/);
    expect(() => new Resizing(4, 4).apply(tensor(new Float32Array(12), [3, 4]))).toThrow(LayerShapeError);
    expect(() => ops.resize(tensor(new Float32Array(12), [1, 3, 4]), 2, 2)).toThrow(/resize: expects images \[batch, height, width, channels\]/);
    expect(() => new Resizing(0, 4)).toThrow(/height and width must be positive integers/);
  });
});

describe("saving", () => {
  it("configs round-trip and serialize with Keras' snake_case keys", async () => {
    const norm = new Normalization();
    await norm.adapt(tensor(images([2, 2, 2, 3]), [2, 2, 2, 3]));
    const layers = [new Rescaling(1 / 255, 0, { inputShape: [8, 8, 3] }), norm, new Resizing(4, 6, { interpolation: "nearest", cropToAspectRatio: true })];
    for (const layer of layers) {
      const config = layer.getConfig();
      const cls = layer.constructor as unknown as { fromConfig(c: Record<string, unknown>): typeof layer };
      const copy = cls.fromConfig(config);
      expect({ ...copy.getConfig(), name: config.name }).toEqual(config);
    }
    expect(serializeLayer(layers[0]).config).toMatchObject({ scale: 1 / 255, offset: 0, batch_input_shape: [null, 8, 8, 3] });
    expect(serializeLayer(layers[1]).config).toMatchObject({ axis: [-1], invert: false, mean: norm.mean, variance: norm.variance });
    expect(serializeLayer(layers[2])).toMatchObject({ class_name: "Resizing", config: { height: 4, width: 6, interpolation: "nearest", crop_to_aspect_ratio: true } });
  });
});
