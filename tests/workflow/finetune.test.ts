// Training from a dataset (model.fit(dataset), and fitDataset, its older wrapper) and fine-tuning:
// a dataset trains as arrays do (loss falls, validation each epoch, callbacks, stopTraining,
// class-index labels), with the same losses and weights and the same queued steps; `layer.trainable = false`
// freezes a layer: its weights stay bit-for-bit the same, the optimizer is never handed them,
// and the rest of the model trains on after recompiling with a lower learning rate.
import { describe, expect, it, vi } from "vitest";
import { Adam, Callback, memory, NonFiniteLossError, Tensor, type Sequential } from "../../src/index.node.js";
import { fitDataset } from "../../src/fit-dataset.js";
import type { BatchSource } from "../../src/metrics.js";
import { testSeed, useGpu } from "../helpers.js";
import { bars, smallCnn, type Generated } from "../e2e/data.js";

useGpu();
const seed = testSeed("workflow fine-tuning");

/** A dataset over generated tensors: batches of `batchSize`, labels as class indices, shuffled per epoch when asked. */
function source(data: Generated, batchSize: number, classes: number): BatchSource {
  const count = data.labels.length;
  const pixels = data.xs.length / count;
  let epoch = 0;
  return {
    classNames: Array.from({ length: classes }, (_, i) => `class${i}`),
    numBatches: Math.ceil(count / batchSize),
    size: count,
    batchSize,
    async *batches(options = {}) {
      const order = Array.from({ length: count }, (_, i) => i);
      if (options.shuffle !== false) {
        epoch++;
        order.sort((a, b) => ((a * 7919 + epoch * 104729) % count) - ((b * 7919 + epoch * 104729) % count));
      }
      for (let start = 0; start < count; start += batchSize) {
        const rows = order.slice(start, start + batchSize);
        const x = new Float32Array(rows.length * pixels);
        rows.forEach((r, i) => x.set(data.xs.subarray(r * pixels, (r + 1) * pixels), i * pixels));
        yield { x: new Tensor([rows.length, 8, 8, 1], x), y: new Tensor([rows.length], Float32Array.from(rows, (r) => data.labels[r])) };
      }
    },
  };
}

async function weightValues(model: Sequential): Promise<Float32Array[]> {
  const copies = model.getWeights();
  const values = await Promise.all(copies.map((w) => w.data()));
  copies.forEach((w) => w.dispose());
  return values;
}

describe("fit(dataset)", () => {
  it("trains from batches with class-index labels, validates each epoch, calls callbacks, honours stopTraining", async () => {
    const train = source(bars(48, 8, 1, 3, seed), 10, 3);
    const validation = source(bars(18, 8, 1, 3, seed + 1), 8, 3);
    const model = smallCnn(8, 1, 3, seed);
    model.compile({ optimizer: new Adam({ learningRate: 0.01 }), loss: "categoricalCrossentropy", metrics: ["accuracy"] });
    const batchSizes: number[] = [];
    const epochsSeen: number[] = [];
    const history = await model.fit(train, {
      epochs: 5,
      validationData: validation,
      verbose: 0,
      callbacks: { onBatchEnd: (_, logs) => void batchSizes.push(logs.size), onEpochEnd: (epoch) => void epochsSeen.push(epoch) },
    });
    expect(Object.keys(history.history).sort()).toEqual(["accuracy", "loss", "val_accuracy", "val_loss"]);
    expect(history.params).toEqual({ epochs: 5, steps: 5, samples: 48, batchSize: 10 });
    expect(epochsSeen).toEqual([0, 1, 2, 3, 4]);
    expect(batchSizes.slice(0, 5)).toEqual([10, 10, 10, 10, 8]);
    const losses = history.history.loss;
    expect(losses[4], `losses ${losses}`).toBeLessThan(losses[0] * 0.6);
    expect(history.history.val_accuracy[4]).toBeGreaterThan(0.8);
    // validation logs are Keras' evaluate over the whole validation set
    const all = bars(18, 8, 1, 3, seed + 1);
    const direct = await model.evaluate(all.x, all.y);
    expect(history.history.val_loss[4]).toBeCloseTo(direct.loss, 4);
    expect(history.history.val_accuracy[4]).toBeCloseTo(direct.accuracy, 6);

    // a Callback is given the model and stops training through model.stopTraining, at an epoch's end or mid-epoch
    class StopAfterOneEpoch extends Callback {
      override onEpochEnd(): void {
        this.model!.stopTraining = true;
      }
    }
    const stopped = await model.fit(train, { epochs: 50, verbose: 0, validationData: validation, callbacks: new StopAfterOneEpoch() });
    expect(stopped.epoch).toEqual([0]);
    let batches = 0;
    const midEpoch = await model.fit(train, {
      epochs: 3,
      verbose: 0,
      callbacks: {
        onBatchEnd: () => {
          if (++batches === 2) model.stopTraining = true;
        },
      },
    });
    // as fit on arrays: the step queued behind batch 2 has run, and is reported, before fit stops
    expect(batches).toBe(3);
    expect(midEpoch.epoch).toEqual([0]);

    await expect(model.fit(source(bars(8, 8, 1, 4, seed), 4, 4), { verbose: 0 })).rejects.toThrow(/the dataset has 4 classes \(class0, class1, class2, class3\) but the model outputs 3/);
    await expect(model.fit(train, { verbose: 0, validationData: source(bars(8, 8, 1, 4, seed), 4, 4) })).rejects.toThrow(/validationData has 4 classes/);
    const big = source(bars(4, 8, 1, 3, seed), 4, 3);
    await expect(model.fit({ ...big, batches: async function* () { yield { x: new Tensor([1, 9, 9, 1], new Float32Array(81)), y: new Tensor([1], new Float32Array(1)) }; } }, { verbose: 0 })).rejects.toThrow(
      /the dataset yields samples of \[9, 9, 1\], but .* takes \[8, 8, 1\]; load the images with imageSize: \[8, 8\] and colorMode "grayscale"/,
    );
    await expect(model.fit({ ...big, batches: async function* () { yield { x: new Tensor([1, 8, 8, 1], new Float32Array(64)), y: new Tensor([1], new Float32Array([3])) }; } }, { verbose: 0 })).rejects.toThrow(
      /the dataset has label 3, but the model outputs 3 classes \(labels 0 to 2\)/,
    );
    await expect(model.fit({ ...big, batches: async function* () {} }, { verbose: 0 })).rejects.toThrow(/the dataset yielded no batches/);
    await expect(model.fit(train, { verbose: 0, validationData: { ...big, batches: async function* () {} } })).rejects.toThrow(/fit\(\): validationData yielded no samples/);
    await expect(model.fit(train, { batchSize: 4, verbose: 0 })).rejects.toThrow(/batchSize does not apply to a dataset/);
    await expect(model.fit(train, { validationSplit: 0.2, verbose: 0 })).rejects.toThrow(/validationSplit does not apply to a dataset/);
    await expect(model.fit(train, all.y as never)).rejects.toThrow(/a dataset brings its own labels/);
    const uncompiled = smallCnn(8, 1, 3, seed);
    await expect(uncompiled.fit(train)).rejects.toThrow(/compile the model first/);
    await expect(fitDataset(uncompiled, train)).rejects.toThrow(/compile the model first/);
    await expect(fitDataset(uncompiled, all.x as never)).rejects.toThrow(/the dataset must have batches\(\)/);
    uncompiled.dispose();
    model.dispose();
  });

  it("gives the same losses and weights as fit on the same samples as arrays, and as fitDataset; steps are queued as fit's", async () => {
    const data = bars(30, 8, 1, 3, seed + 3);
    const held = bars(12, 8, 1, 3, seed + 4);
    const run = async (how: "arrays" | "dataset" | "fitDataset") => {
      const model = smallCnn(8, 1, 3, seed);
      model.compile({ optimizer: new Adam({ learningRate: 0.01 }), loss: "categoricalCrossentropy", metrics: ["accuracy"] });
      // the submissions made before each onBatchEnd: with a step queued ahead, batch k's values arrive after step k + 1 is submitted
      const submitted: number[] = [];
      const before = memory().submissions;
      const args = { epochs: 3, verbose: 0, shuffle: false, callbacks: { onBatchEnd: () => void submitted.push(memory().submissions - before) } };
      const history =
        how === "arrays"
          ? await model.fit(data.x, data.y, { ...args, batchSize: 8, validationData: [held.x, held.y] })
          : how === "dataset"
            ? await model.fit(source(data, 8, 3), { ...args, validationData: source(held, 5, 3) })
            : await fitDataset(model, source(data, 8, 3), { ...args, validationData: [held.x, held.y] });
      const weights = await weightValues(model);
      model.dispose();
      return { history: history.history, weights, submitted };
    };
    const arrays = await run("arrays");
    const dataset = await run("dataset");
    const wrapped = await run("fitDataset");
    expect(arrays.history.loss[2]).toBeLessThan(arrays.history.loss[0]);
    expect(dataset.history.loss).toEqual(arrays.history.loss);
    expect(dataset.history.accuracy).toEqual(arrays.history.accuracy);
    expect(dataset.weights).toEqual(arrays.weights);
    expect(wrapped.history.loss).toEqual(arrays.history.loss);
    expect(wrapped.history.accuracy).toEqual(arrays.history.accuracy);
    expect(wrapped.weights).toEqual(arrays.weights);
    // validation in batches of 8 (fit's batchSize), 5 (the dataset's) or 32 ([x, y] with a dataset) sums in another order
    for (const other of [dataset, wrapped]) {
      for (let e = 0; e < 3; e++) {
        expect(other.history.val_loss[e]).toBeCloseTo(arrays.history.val_loss[e], 5);
        expect(other.history.val_accuracy[e]).toBeCloseTo(arrays.history.val_accuracy[e], 6);
      }
    }
    // 4 steps per epoch; each epoch's last step is awaited alone, then validation submits its own work
    expect(dataset.submitted.slice(0, 4)).toEqual([2, 3, 4, 4]);
    expect(dataset.submitted.slice(0, 4)).toEqual(arrays.submitted.slice(0, 4));
  });
  it("evaluate(dataset) gives what evaluate(x, y) gives on the same samples; bad calls get clear errors", async () => {
    const data = bars(21, 8, 1, 3, seed + 5);
    const model = smallCnn(8, 1, 3, seed);
    model.compile({ optimizer: "adam", loss: "categoricalCrossentropy", metrics: ["accuracy"] });
    const fromArrays = await model.evaluate(data.x, data.y, { batchSize: 5 });
    const fromDataset = await model.evaluate(source(data, 5, 3));
    expect(fromDataset.loss).toBeCloseTo(fromArrays.loss, 6);
    expect(fromDataset.accuracy).toBeCloseTo(fromArrays.accuracy, 6);
    await expect(model.evaluate(source(data, 5, 3) as never, data.y)).rejects.toThrow(/evaluate\(\): a dataset brings its own labels/);
    await expect(model.evaluate(source(bars(8, 8, 1, 4, seed), 4, 4))).rejects.toThrow(/evaluate\(\): the dataset has 4 classes/);
    model.dispose();
  });

  it("a non-finite loss stops fit(dataset), naming the epoch and batch, with the weights from before that batch; one-hot labels are taken as they are", async () => {
    const data = bars(16, 8, 1, 3, seed + 5);
    // sample 9 (batch 3 of 4) gets labels so large its loss overflows float32
    const poisoned = Float32Array.from(data.ys);
    poisoned.fill(3e38, 9 * 3, 10 * 3);
    const oneHotSource = (count: number): BatchSource => ({
      numBatches: Math.ceil(count / 4),
      async *batches() {
        for (let start = 0; start < count; start += 4) {
          yield { x: new Tensor([4, 8, 8, 1], data.xs.slice(start * 64, (start + 4) * 64)), y: new Tensor([4, 3], poisoned.slice(start * 3, (start + 4) * 3)) };
        }
      },
    });
    const make = () => {
      const model = smallCnn(8, 1, 3, seed);
      model.compile({ optimizer: new Adam({ learningRate: 0.01 }), loss: "categoricalCrossentropy" });
      return model;
    };
    const clean = make();
    await clean.fit(oneHotSource(8), { verbose: 0 });
    const expected = await weightValues(clean);
    const model = make();
    const error = await model.fit(oneHotSource(16), { epochs: 2, verbose: 0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NonFiniteLossError);
    expect((error as Error).message).toMatch(/the loss became (Infinity|NaN) at epoch 1\/2, batch 3\/4; training stopped/);
    expect(await weightValues(model)).toEqual(expected);
    expect(model.optimizer!.iterations).toBe(2);
    clean.dispose();
    model.dispose();
  });
});

describe("fine-tuning", () => {
  it("a frozen layer's weights do not move and the optimizer never sees them; the rest trains on at a lower learning rate", async () => {
    const data = bars(40, 8, 1, 3, seed + 2);
    const model = smallCnn(8, 1, 3, seed);
    model.compile({ optimizer: new Adam({ learningRate: 0.01 }), loss: "categoricalCrossentropy", metrics: ["accuracy"] });
    await model.fit(data.x, data.y, { epochs: 2, batchSize: 8, verbose: 0 });

    const conv = model.layers[0];
    const convWeights = new Set(conv.weights.map((w) => w.tensor));
    conv.trainable = false;
    const tuner = new Adam({ learningRate: 1e-3 });
    model.compile({ optimizer: tuner, loss: "categoricalCrossentropy", metrics: ["accuracy"] });
    expect(model.optimizer).toBe(tuner);
    const handed = new Set<unknown>();
    const apply = tuner.applyGradients.bind(tuner);
    vi.spyOn(tuner, "applyGradients").mockImplementation((pairs, status) => {
      for (const [p] of pairs) handed.add(p);
      apply(pairs, status);
    });
    let summary = "";
    model.summary((line) => void (summary += line + "\n"));
    const convParams = conv.countParams();
    expect(summary).toContain(`Non-trainable params: ${convParams.toLocaleString("en-US")}`);

    const before = await weightValues(model);
    const loss0 = (await model.evaluate(data.x, data.y)).loss;
    await model.fit(data.x, data.y, { epochs: 2, batchSize: 8, verbose: 0 });
    // and from a dataset, and through trainOnBatch
    await model.fit(source(data, 8, 3), { epochs: 1, verbose: 0 });
    await model.trainOnBatch(data.x, data.y);
    const after = await weightValues(model);
    const loss1 = (await model.evaluate(data.x, data.y)).loss;

    // weights in Keras order: conv kernel, conv bias, dense_1 kernel, bias, dense_2 kernel, bias
    expect(after[0]).toEqual(before[0]);
    expect(after[1]).toEqual(before[1]);
    for (let i = 2; i < after.length; i++) expect(after[i], `weight ${i} should train`).not.toEqual(before[i]);
    expect([...handed].some((p) => convWeights.has(p as never))).toBe(false);
    expect(handed.size).toBe(4);
    expect(loss1).toBeLessThan(loss0);

    // unfrozen, it trains again
    conv.trainable = true;
    model.compile({ optimizer: new Adam({ learningRate: 1e-3 }), loss: "categoricalCrossentropy", metrics: ["accuracy"] });
    await model.fit(data.x, data.y, { epochs: 1, batchSize: 8, verbose: 0 });
    const thawed = await weightValues(model);
    expect(thawed[0]).not.toEqual(after[0]);
    model.dispose();
  });
});
