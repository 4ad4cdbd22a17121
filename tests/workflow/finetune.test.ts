// Training from a dataset (fitDataset) and fine-tuning: fitDataset trains as fit does (loss falls,
// validation each epoch, callbacks, stopTraining, class-index labels); `layer.trainable = false`
// freezes a layer: its weights stay bit-for-bit the same, the optimizer is never handed them,
// and the rest of the model trains on after recompiling with a lower learning rate.
import { describe, expect, it, vi } from "vitest";
import { Adam, Callback, Tensor, type Sequential } from "../../src/index.node.js";
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

describe("fitDataset", () => {
  it("trains from batches with class-index labels, validates each epoch, calls callbacks, honours stopTraining", async () => {
    const train = source(bars(48, 8, 1, 3, seed), 10, 3);
    const validation = source(bars(18, 8, 1, 3, seed + 1), 8, 3);
    const model = smallCnn(8, 1, 3, seed);
    model.compile({ optimizer: new Adam({ learningRate: 0.01 }), loss: "categoricalCrossentropy", metrics: ["accuracy"] });
    const batchSizes: number[] = [];
    const epochsSeen: number[] = [];
    const history = await fitDataset(model, train, {
      epochs: 5,
      validationData: validation,
      verbose: 0,
      callbacks: { onBatchEnd: (_, logs) => void batchSizes.push(logs.size), onEpochEnd: (epoch) => void epochsSeen.push(epoch) },
    });
    expect(Object.keys(history.history).sort()).toEqual(["accuracy", "loss", "val_accuracy", "val_loss"]);
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
    const stopped = await fitDataset(model, train, { epochs: 50, verbose: 0, validationData: validation, callbacks: new StopAfterOneEpoch() });
    expect(stopped.epoch).toEqual([0]);
    let batches = 0;
    const midEpoch = await fitDataset(model, train, {
      epochs: 3,
      verbose: 0,
      callbacks: {
        onBatchEnd: () => {
          if (++batches === 2) model.stopTraining = true;
        },
      },
    });
    expect(batches).toBe(2);
    expect(midEpoch.epoch).toEqual([0]);

    await expect(fitDataset(model, source(bars(8, 8, 1, 4, seed), 4, 4), { verbose: 0 })).rejects.toThrow(/the dataset has 4 classes \(class0, class1, class2, class3\) but the model outputs 3/);
    const big = source(bars(4, 8, 1, 3, seed), 4, 3);
    await expect(fitDataset(model, { ...big, batches: async function* () { yield { x: new Tensor([1, 9, 9, 1], new Float32Array(81)), y: new Tensor([1], new Float32Array(1)) }; } }, { verbose: 0 })).rejects.toThrow(
      /the dataset yields samples of \[9, 9, 1\], but .* takes \[8, 8, 1\]; load the images with imageSize: \[8, 8\] and colorMode "grayscale"/,
    );
    const uncompiled = smallCnn(8, 1, 3, seed);
    await expect(fitDataset(uncompiled, train)).rejects.toThrow(/compile the model first/);
    uncompiled.dispose();
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
    // and through fitDataset's trainOnBatch path
    await fitDataset(model, source(data, 8, 3), { epochs: 1, verbose: 0 });
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
