// Layers, declaratively: each case builds a layer for an input shape and checks the output shape
// it announces, the shape the GPU really produces, its parameter count and weight shapes; then
// the shape errors Sequential.add() gives, and summary().
import { describe, expect, it } from "vitest";
import { Conv2D, Dense, Flatten, MaxPooling2D, Sequential, tensor, type Layer } from "../../src/index.node.js";
import { layerFromConfig } from "../../src/layers/index.js";
import { numel, Random, testSeed, useGpu } from "../helpers.js";

useGpu();
const random = new Random(testSeed("layers"));

interface LayerCase {
  what: string;
  layer: () => Layer;
  inputShape: number[];
  expectedOutputShape: number[];
  expectedParams: number;
  expectedWeightShapes?: number[][];
}

async function runLayerTest(c: LayerCase): Promise<void> {
  const layer = c.layer();
  expect(layer.computeOutputShape(c.inputShape)).toEqual(c.expectedOutputShape);
  const batch = 2;
  const x = tensor(Float32Array.from(random.distinct(batch * numel(c.inputShape))), [batch, ...c.inputShape]);
  const y = layer.apply(x);
  expect(y.shape).toEqual([batch, ...c.expectedOutputShape]);
  const values = await y.data();
  expect(values.every(Number.isFinite), `${c.what}: output is finite`).toBe(true);
  expect(layer.countParams()).toBe(c.expectedParams);
  if (c.expectedWeightShapes) expect(layer.weights.map((w) => w.tensor.shape)).toEqual(c.expectedWeightShapes);
  expect(layer.getConfig().name).toBe(layer.name);
  x.dispose();
  y.dispose();
  layer.dispose();
}

const cases: LayerCase[] = [
  { what: "Conv2D 3x3 valid", layer: () => new Conv2D(4, 3), inputShape: [5, 6, 2], expectedOutputShape: [3, 4, 4], expectedParams: 76, expectedWeightShapes: [[3, 3, 2, 4], [4]] },
  { what: "Conv2D 2x3 stride 2 same relu", layer: () => new Conv2D(3, [2, 3], { strides: 2, padding: "same", activation: "relu" }), inputShape: [7, 7, 1], expectedOutputShape: [4, 4, 3], expectedParams: 21 },
  { what: "Conv2D strides [2, 1], no bias", layer: () => new Conv2D(2, 3, { strides: [2, 1], useBias: false }), inputShape: [9, 8, 3], expectedOutputShape: [4, 6, 2], expectedParams: 54, expectedWeightShapes: [[3, 3, 3, 2]] },
  { what: "Conv2D 1x1 on one pixel", layer: () => new Conv2D(5, 1), inputShape: [1, 1, 3], expectedOutputShape: [1, 1, 5], expectedParams: 20 },
  { what: "Conv2D softmax over channels", layer: () => new Conv2D(3, 2, { activation: "softmax" }), inputShape: [3, 3, 2], expectedOutputShape: [2, 2, 3], expectedParams: 27 },
  { what: "MaxPooling2D default 2x2", layer: () => new MaxPooling2D(), inputShape: [6, 7, 3], expectedOutputShape: [3, 3, 3], expectedParams: 0 },
  { what: "MaxPooling2D 3x3 stride 2 same", layer: () => new MaxPooling2D({ poolSize: 3, strides: 2, padding: "same" }), inputShape: [7, 7, 2], expectedOutputShape: [4, 4, 2], expectedParams: 0 },
  { what: "MaxPooling2D [2, 3]", layer: () => new MaxPooling2D({ poolSize: [2, 3] }), inputShape: [5, 9, 1], expectedOutputShape: [2, 3, 1], expectedParams: 0 },
  { what: "Flatten", layer: () => new Flatten(), inputShape: [3, 4, 5], expectedOutputShape: [60], expectedParams: 0 },
  { what: "Dense", layer: () => new Dense(7), inputShape: [10], expectedOutputShape: [7], expectedParams: 77, expectedWeightShapes: [[10, 7], [7]] },
  { what: "Dense relu", layer: () => new Dense(3, { activation: "relu" }), inputShape: [1], expectedOutputShape: [3], expectedParams: 6 },
  { what: "Dense softmax, no bias", layer: () => new Dense(3, { activation: "softmax", useBias: false }), inputShape: [4], expectedOutputShape: [3], expectedParams: 12 },
];

describe("layers", () => {
  it.each(cases.map((c) => [c.what, c] as const))("%s", async (_, c) => {
    await runLayerTest(c);
  });

  it("Dense softmax rows sum to 1; logits skip the softmax", async () => {
    const layer = new Dense(4, { activation: "softmax" });
    const x = tensor(Float32Array.from(random.array(3 * 5)), [3, 5]);
    const p = await layer.apply(x).data();
    for (let r = 0; r < 3; r++) expect(p.subarray(r * 4, r * 4 + 4).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    const logits = await layer.apply(x, { logits: true }).data();
    expect(Math.abs(logits.subarray(0, 4).reduce((a, b) => a + b, 0) - 1)).toBeGreaterThan(1e-3);
  });

  it("Keras configs", () => {
    const conv = new Conv2D(8, [3, 5], { inputShape: [28, 28, 1], activation: "relu", name: "c1" });
    expect(conv.getConfig()).toMatchObject({
      name: "c1",
      filters: 8,
      kernelSize: [3, 5],
      strides: [1, 1],
      padding: "valid",
      activation: "relu",
      useBias: true,
      batchInputShape: [null, 28, 28, 1],
      kernelInitializer: { className: "GlorotUniform" },
      biasInitializer: { className: "Zeros" },
    });
    expect(new MaxPooling2D({ poolSize: 3 }).getConfig()).toMatchObject({ poolSize: [3, 3], strides: [3, 3], padding: "valid" });
    expect(new Dense(10, { activation: "softmax" }).getConfig()).toMatchObject({ units: 10, activation: "softmax", useBias: true });
    expect(conv.className).toBe("Conv2D");
    expect(new MaxPooling2D().name).toMatch(/^max_pooling2d_\d+$/);
  });

  it("bad layer arguments", () => {
    expect(() => new Dense(0)).toThrow(/units must be a positive integer, got 0/);
    expect(() => new Dense(3, { activation: "tanh" as "relu" })).toThrow(/activation "tanh" is not supported/);
    expect(() => new Conv2D(4, [3, 0])).toThrow(/kernelSize must be a positive integer or a pair/);
    expect(() => new Conv2D(4, 3, { padding: "full" as "same" })).toThrow(/padding must be "valid" or "same"/);
    expect(() => new Dense(3, { inputShape: [0] })).toThrow(/inputShape must list positive integers/);
  });
});

describe("Sequential.add() shape errors name both layers and the shapes", () => {
  it("first layer without inputShape", () => {
    const model = new Sequential();
    expect(() => model.add(new Conv2D(4, 3, { name: "first_conv" }))).toThrow(/the first layer, first_conv \(Conv2D\), needs an inputShape/);
  });

  it("kernel larger than the input", () => {
    const model = new Sequential();
    expect(() => model.add(new Conv2D(2, [5, 5], { inputShape: [4, 4, 1], name: "big" }))).toThrow(
      /big \(Conv2D\) cannot take its inputShape \(None, 4, 4, 1\): its 5×5 kernel is larger than its 4×4 input/,
    );
    model.add(new Conv2D(8, 3, { inputShape: [8, 8, 1], name: "c1" }));
    model.add(new MaxPooling2D({ name: "p1" }));
    expect(() => model.add(new Conv2D(4, [5, 5], { name: "c2" }))).toThrow(
      /c2 \(Conv2D\) cannot follow p1 \(MaxPooling2D\), whose output is \(None, 3, 3, 8\): its 5×5 kernel is larger than its 3×3 input/,
    );
    expect(model.layers.length).toBe(2); // the bad layer was not added
  });

  it("Dense on a 4-D input without Flatten", () => {
    const model = new Sequential();
    model.add(new Conv2D(2, 3, { inputShape: [6, 6, 1], name: "conv" }));
    expect(() => model.add(new Dense(10, { name: "fc" }))).toThrow(
      /fc \(Dense\) cannot follow conv \(Conv2D\), whose output is \(None, 4, 4, 2\): expects flat inputs \[batch, features\].*add a Flatten\(\) layer before it/,
    );
  });

  it("pooling larger than the input, Conv2D on flat inputs, mismatched inputShape", () => {
    const model = new Sequential();
    model.add(new Conv2D(2, 3, { inputShape: [4, 4, 1], name: "conv" }));
    expect(() => model.add(new MaxPooling2D({ poolSize: 3, name: "pool" }))).toThrow(/pool \(MaxPooling2D\) cannot follow conv \(Conv2D\), whose output is \(None, 2, 2, 2\): its 3×3 pool is larger/);
    model.add(new Flatten({ name: "flat" }));
    expect(() => model.add(new Conv2D(2, 1, { name: "conv2" }))).toThrow(/conv2 \(Conv2D\) cannot follow flat \(Flatten\), whose output is \(None, 8\): expects images/);
    expect(() => model.add(new Dense(2, { inputShape: [9], name: "fc" }))).toThrow(/fc \(Dense\) declares inputShape \(None, 9\), but follows flat \(Flatten\) whose output is \(None, 8\)/);
  });
});

describe("summary()", () => {
  it("prints output shapes, parameter counts and totals as Keras", () => {
    const model = new Sequential({ name: "mnist_cnn" });
    model.add(new Conv2D(32, [3, 3], { inputShape: [28, 28, 1], activation: "relu", name: "conv2d" }));
    model.add(new MaxPooling2D({ poolSize: [2, 2], name: "max_pooling2d" }));
    model.add(new Flatten({ name: "flatten" }));
    model.add(new Dense(128, { activation: "relu", name: "dense" }));
    model.add(new Dense(10, { activation: "softmax", name: "dense_1" }));
    const lines: string[] = [];
    const text = model.summary((l) => lines.push(l));
    expect(lines.join("\n")).toBe(text);
    expect(text).toBe(
      [
        'Model: "mnist_cnn"',
        "_".repeat(71),
        "Layer (type)                   Output Shape                Param #",
        "=".repeat(71),
        "conv2d (Conv2D)                (None, 26, 26, 32)          320",
        "",
        "max_pooling2d (MaxPooling2D)   (None, 13, 13, 32)          0",
        "",
        "flatten (Flatten)              (None, 5408)                0",
        "",
        "dense (Dense)                  (None, 128)                 692,352",
        "",
        "dense_1 (Dense)                (None, 10)                  1,290",
        "=".repeat(71),
        "Total params: 693,962 (2.65 MB)",
        "Trainable params: 693,962 (2.65 MB)",
        "Non-trainable params: 0 (0 B)",
        "_".repeat(71),
      ].join("\n"),
    );
    expect(model.countParams()).toBe(693_962);
    const config = model.getConfig();
    expect(config.layers.map((l) => l.className)).toEqual(["Conv2D", "MaxPooling2D", "Flatten", "Dense", "Dense"]);
    // each layer comes back from its config (the hook saving and loading use)
    const rebuilt = new Sequential({ layers: config.layers.map(layerFromConfig) });
    expect(rebuilt.getConfig().layers).toEqual(config.layers);
    expect(rebuilt.countParams()).toBe(693_962);
    model.dispose();
  });
});
