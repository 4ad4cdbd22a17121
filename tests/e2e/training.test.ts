// fit / evaluate / predict end to end on small generated images: the loss falls, seeds
// reproduce, validation takes the last samples, EarlyStopping stops, memory stays flat over 200
// steps, a non-finite loss stops training with the weights from before it, and bad input fails
// with clear errors.
import { afterEach, describe, expect, it, vi } from "vitest";
import { Adam, Dense, EarlyStopping, memory, type EarlyStoppingArgs, NonFiniteLossError, oneHot, SGD, Sequential, tensor, type Tensor } from "../../src/index.node.js";
import { ProgressBar } from "../../src/progress.js";
import { testSeed, useGpu } from "../helpers.js";
import { bars, smallCnn } from "./data.js";

useGpu();
const seed = testSeed("e2e training");

async function values(ts: Tensor[]): Promise<Float32Array[]> {
  const out = await Promise.all(ts.map((t) => t.data()));
  ts.forEach((t) => t.dispose());
  return out;
}

/**
 * Feeds `values` of `monitor`, epoch by epoch, to an EarlyStopping with a stand-in model whose
 * weights are named after their epoch; what it decided, and the weights it put back.
 */
async function replayEarlyStopping(args: EarlyStoppingArgs, monitor: string, values: number[]) {
  const restored: string[] = [];
  let current = 0;
  const model = {
    stopTraining: false,
    getWeights: () => [tensor([current])].map((t) => ((t.name = `epoch ${current}`), t)),
    setWeights: (ws: Tensor[]) => void restored.push(...ws.map((w) => w.name)),
  };
  const stopper = new EarlyStopping({ monitor, ...args });
  stopper.setModel(model);
  stopper.onTrainBegin();
  for (let epoch = 0; epoch < values.length && !model.stopTraining; epoch++) {
    current = epoch;
    await stopper.onEpochEnd(epoch, { [monitor]: values[epoch] });
  }
  const { best, bestEpoch, stoppedEpoch } = stopper;
  stopper.onTrainEnd();
  return { best, bestEpoch, stoppedEpoch, restored };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("training", () => {
  it("the loss falls and accuracy rises; the same seed gives the same run, another seed another", async () => {
    const data = bars(48, 8, 1, 3, seed);
    const run = async (modelSeed: number) => {
      const model = smallCnn(8, 1, 3, modelSeed);
      model.compile({ optimizer: new Adam({ learningRate: 0.01 }), loss: "categoricalCrossentropy", metrics: ["accuracy"] });
      const history = await model.fit(data.x, data.y, { epochs: 6, batchSize: 8, verbose: 0 });
      const weights = await values(model.getWeights());
      const evaluated = await model.evaluate(data.x, data.y);
      model.dispose();
      return { history, weights, evaluated };
    };
    const a = await run(1234);
    const losses = a.history.history.loss;
    expect(losses.length).toBe(6);
    expect(losses[5], `losses ${losses}`).toBeLessThan(losses[0] * 0.5);
    expect(a.evaluated.accuracy).toBeGreaterThan(0.9);
    expect(a.history.history.accuracy[5]).toBeGreaterThan(a.history.history.accuracy[0]);
    const b = await run(1234);
    expect(b.history.history).toEqual(a.history.history);
    expect(b.weights).toEqual(a.weights);
    const c = await run(4321);
    expect(c.history.history.loss[0]).not.toEqual(a.history.history.loss[0]);
  });

  it("validationSplit holds out the LAST samples; a smaller last batch; callbacks see each batch", async () => {
    const data = bars(22, 8, 1, 2, seed + 1);
    const model = smallCnn(8, 1, 2, seed);
    model.compile({ optimizer: "adam", loss: "categorical_crossentropy", metrics: ["acc"] });
    const batches: { batch: number; size: number }[] = [];
    const epochs: number[] = [];
    const history = await model.fit(data.x, data.y, {
      epochs: 2,
      batchSize: 4,
      validationSplit: 0.25,
      verbose: 0,
      callbacks: { onBatchEnd: (batch, logs) => void batches.push({ batch, size: logs.size }), onEpochEnd: (epoch) => void epochs.push(epoch) },
    });
    // 22 samples: floor(22 * 0.75) = 16 train (4 batches of 4), the last 6 validate
    expect(history.params.steps).toBe(4);
    expect(batches.slice(0, 4)).toEqual([0, 1, 2, 3].map((batch) => ({ batch, size: 4 })));
    expect(epochs).toEqual([0, 1]);
    expect(Object.keys(history.history).sort()).toEqual(["acc", "loss", "val_acc", "val_loss"]);
    const tailX = tensor(data.xs.subarray(16 * 64), [6, 8, 8, 1]);
    const tailY = tensor(data.ys.subarray(16 * 2), [6, 2]);
    const tail = await model.evaluate(tailX, tailY, { batchSize: 4 });
    expect(tail.loss).toBeCloseTo(history.history.val_loss[1], 6);
    expect(tail.acc).toBeCloseTo(history.history.val_acc[1], 6);

    // 10 samples in batches of 4: 4, 4, 2
    const sizes: number[] = [];
    const small = bars(10, 8, 1, 2, seed + 2);
    await model.fit(small.x, small.y, { batchSize: 4, verbose: 0, callbacks: { onBatchEnd: (_, logs) => void sizes.push(logs.size) } });
    expect(sizes).toEqual([4, 4, 2]);
    const probs = await model.predict(small.x, { batchSize: 3 });
    expect(probs.shape).toEqual([10, 2]);
    const p = await probs.data();
    for (let r = 0; r < 10; r++) expect(p[2 * r] + p[2 * r + 1]).toBeCloseTo(1, 5);
    probs.dispose();
    model.dispose();
  });

  it("EarlyStopping stops when the monitored loss stops improving", async () => {
    const data = bars(12, 8, 1, 3, seed + 3);
    const model = smallCnn(8, 1, 3, seed);
    // learning rate 0: the loss never changes, so patience 1 stops after the second epoch
    model.compile({ optimizer: new Adam({ learningRate: 0 }), loss: "categoricalCrossentropy" });
    const stopper = new EarlyStopping({ monitor: "loss", patience: 1 });
    const history = await model.fit(data.x, data.y, { epochs: 10, batchSize: 4, shuffle: false, verbose: 0, callbacks: [stopper] });
    expect(history.epoch).toEqual([0, 1]);
    expect(stopper.stoppedEpoch).toBe(1);
    model.dispose();
  });

  it("EarlyStopping restores the best epoch's weights", async () => {
    expect(await replayEarlyStopping({ patience: 2, restoreBestWeights: true }, "val_loss", [1.0, 0.5, 0.7, 0.8, 0.2])).toMatchObject({ stoppedEpoch: 3, restored: ["epoch 1"] });
    // accuracy is watched for a rise: 0.6 improves, the same 0.6 again does not
    expect(await replayEarlyStopping({ patience: 0 }, "val_accuracy", [0.5, 0.6, 0.6, 0.7])).toMatchObject({ stoppedEpoch: 2 });
  });

  it("EarlyStopping: only a change larger than minDelta is an improvement, in min and max mode (Keras' _is_improvement)", async () => {
    // min: 0.85 beats 1.0 by more than 0.1; 0.8 beats 0.85 by less, so it is not an improvement and patience 1 stops there
    expect(await replayEarlyStopping({ minDelta: 0.1, patience: 1, restoreBestWeights: true }, "val_loss", [1.0, 0.85, 0.8, 1.04, 0.5])).toEqual({
      best: 0.85,
      bestEpoch: 1,
      stoppedEpoch: 2,
      restored: ["epoch 1"],
    });
    // a worse value within minDelta is not an improvement either (and does not become the best); a negative minDelta means the same
    for (const minDelta of [0.1, -0.1]) {
      expect(await replayEarlyStopping({ minDelta, patience: 1 }, "loss", [1.0, 1.05, 0.2])).toMatchObject({ best: 1.0, bestEpoch: 0, stoppedEpoch: 1 });
    }
    // max (auto for accuracy, and explicit): 0.53 is not 0.05 above 0.5, 0.6 is; 0.62 and 0.64 are not above 0.6 + 0.05
    for (const mode of ["auto", "max"] as const) {
      expect(await replayEarlyStopping({ mode, minDelta: 0.05, patience: 2, restoreBestWeights: true }, "val_accuracy", [0.5, 0.53, 0.6, 0.62, 0.64, 0.9])).toEqual({
        best: 0.6,
        bestEpoch: 2,
        stoppedEpoch: 4,
        restored: ["epoch 2"],
      });
    }
    // mode "max" on a loss-like name is honoured: a falling value never improves
    expect(await replayEarlyStopping({ mode: "max", patience: 1 }, "loss", [1.0, 0.5, 0.2])).toMatchObject({ best: 1.0, stoppedEpoch: 1 });
    // baseline: the wait restarts only when the value beats the baseline by minDelta too (0.45 is not below 0.5 - 0.1)
    expect(await replayEarlyStopping({ minDelta: 0.1, patience: 2, baseline: 0.5 }, "val_loss", [0.8, 0.45, 0.44, 0.1])).toMatchObject({ best: 0.45, bestEpoch: 1, stoppedEpoch: 2 });
    expect(await replayEarlyStopping({ minDelta: 0.1, patience: 2, baseline: 0.6 }, "val_loss", [0.8, 0.45, 0.44, 0.1])).toMatchObject({ best: 0.1, bestEpoch: 3, stoppedEpoch: 0 });
  });

  it("200 steps: bytes in use stay flat, one queue submission per step", async () => {
    const data = bars(40, 8, 1, 3, seed + 4);
    const model = smallCnn(8, 1, 3, seed);
    model.compile({ optimizer: "adam", loss: "categoricalCrossentropy", metrics: ["accuracy"] });
    const inUse: number[] = [];
    const submittedBefore = memory().submissions;
    await model.fit(data.x, data.y, {
      epochs: 20,
      batchSize: 4,
      verbose: 0,
      callbacks: { onBatchEnd: () => void inUse.push(memory().bytesInUse) },
    });
    expect(inUse.length).toBe(200);
    const settled = inUse.slice(5);
    expect(Math.max(...settled) - Math.min(...settled), `bytes in use ${[...new Set(settled)]}`).toBe(0);
    // each step is one queue submission (its read-back of loss, accuracy and status)
    expect(memory().submissions - submittedBefore).toBe(200);
    // after evaluate and predict too, only the weights and the optimizer state remain
    const before = memory().bytesInUse;
    await model.evaluate(data.x, data.y);
    (await model.predict(data.x)).dispose();
    expect(memory().bytesInUse).toBe(before);
    model.dispose();
  });

  it("a non-finite loss stops fit, naming the epoch and batch, with the weights from before that batch", async () => {
    const data = bars(16, 8, 1, 3, seed + 5);
    // sample 9 (batch 3 of 4) gets labels so large its loss overflows float32
    const poisoned = Float32Array.from(data.ys);
    poisoned.fill(3e38, 9 * 3, 10 * 3);
    const make = () => {
      const model = smallCnn(8, 1, 3, seed);
      model.compile({ optimizer: new SGD({ learningRate: 0.05, momentum: 0.9 }), loss: "categoricalCrossentropy" });
      return model;
    };
    const clean = make();
    // the same training, stopped by hand before the bad batch: 2 batches of 4
    await clean.fit(tensor(data.xs.subarray(0, 8 * 64), [8, 8, 8, 1]), tensor(data.ys.subarray(0, 8 * 3), [8, 3]), { batchSize: 4, shuffle: false, verbose: 0 });
    const expected = await values(clean.getWeights());

    const model = make();
    const error = await model.fit(data.x, tensor(poisoned, [16, 3]), { epochs: 2, batchSize: 4, shuffle: false, verbose: 0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NonFiniteLossError);
    expect((error as Error).message).toMatch(/the loss became (Infinity|NaN) at epoch 1\/2, batch 3\/4; training stopped and the weights are those from before that batch/);
    expect(await values(model.getWeights())).toEqual(expected);
    expect(model.optimizer!.iterations).toBe(2);
    await expect(model.trainOnBatch(data.x, tensor(poisoned, [16, 3]))).rejects.toThrow(/trainOnBatch\(\): the loss is (Infinity|NaN); the weights were left as they were/);
    expect(await values(model.getWeights())).toEqual(expected);
    clean.dispose();
    model.dispose();
  });
});

describe("a NaN inside the network", () => {
  it("reaches the loss through relu and max pooling, so fit stops at the first batch instead of training a dead layer", async () => {
    const data = bars(8, 8, 1, 3, seed + 11);
    const model = smallCnn(8, 1, 3, seed);
    model.compile({ optimizer: "adam", loss: "categoricalCrossentropy" });
    const weights = model.getWeights();
    const kernel = Float32Array.from(await weights[0].data());
    kernel[0] = NaN; // one tap of the first filter: its channel is NaN wherever the filter sees
    model.setWeights([tensor(kernel, weights[0].shape), ...weights.slice(1)]);
    // WGSL's max(NaN, 0) is 0: with it, relu turned this channel into zeros, and the loss stayed finite
    const error = await model.fit(data.x, data.y, { epochs: 1, batchSize: 4, verbose: 0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NonFiniteLossError);
    expect((error as Error).message).toMatch(/the loss became NaN at epoch 1\/1, batch 1\/2/);
    const probabilities = await (await model.predict(data.x)).data();
    expect(probabilities.every(Number.isNaN)).toBe(true);
    model.dispose();
  });
});

describe("weights", () => {
  it("getWeights / setWeights in Keras order carry a model over; frozen layers stay put", async () => {
    const data = bars(8, 8, 1, 3, seed + 7);
    const a = smallCnn(8, 1, 3, 1);
    const b = smallCnn(8, 1, 3, 2);
    const weights = a.getWeights();
    expect(weights.map((w) => w.shape)).toEqual([[3, 3, 1, 4], [4], [36, 16], [16], [16, 3], [3]]);
    b.setWeights(weights);
    const [pa, pb] = [await a.predict(data.x), await b.predict(data.x)];
    expect(await pb.data()).toEqual(await pa.data());
    expect(() => b.setWeights(weights.slice(1))).toThrow(/setWeights\(\): sequential_\d+ has 6 weight tensors/);
    expect(() => b.setWeights([weights[1], ...weights.slice(1)])).toThrow(/weight 0 \(conv2d_\d+\/kernel\) is \[3, 3, 1, 4\], got \[4\]/);
    weights.forEach((w) => w.dispose());
    [pa, pb].forEach((p) => p.dispose());

    b.layers[0].trainable = false;
    b.compile({ optimizer: "adam", loss: "categoricalCrossentropy" });
    const before = await values(b.getWeights());
    await b.fit(data.x, data.y, { epochs: 2, batchSize: 4, verbose: 0 });
    const after = await values(b.getWeights());
    expect(after[0]).toEqual(before[0]);
    expect(after[2]).not.toEqual(before[2]);
    a.dispose();
    b.dispose();
  });
});

describe("bad input", () => {
  const data = bars(6, 8, 1, 3, seed + 6);
  const compiled = () => {
    const model = smallCnn(8, 1, 3, seed);
    model.compile({ optimizer: "adam", loss: "categoricalCrossentropy", metrics: ["accuracy"] });
    return model;
  };

  it("wrong label width", async () => {
    await expect(compiled().fit(data.x, oneHot([0, 1, 2, 3, 0, 1], 4))).rejects.toThrow(
      /labels y \[6, 4\] must be one-hot \[samples, 3\]: the last layer dense_\d+ outputs 3 classes. Make them with oneHot\(labels, 3\)/,
    );
  });
  it("x and y counts differ", async () => {
    await expect(compiled().fit(data.x, oneHot([0, 1, 2], 3))).rejects.toThrow(/fit\(\): x has 6 samples but y has 3; they must match/);
  });
  it("batch size 0", async () => {
    await expect(compiled().fit(data.x, data.y, { batchSize: 0 })).rejects.toThrow(/fit\(\): batchSize must be a positive integer, got 0/);
  });
  it("a second fit() while one runs throws; the first finishes, and the model trains again after it", async () => {
    const model = compiled();
    const first = model.fit(data.x, data.y, { epochs: 2, batchSize: 2, verbose: 0 });
    await expect(model.fit(data.x, data.y, { epochs: 1, verbose: 0 })).rejects.toThrow(/fit\(\): this model is already training \(an earlier fit\(\) has not finished\); await it/);
    expect((await first).epoch).toEqual([0, 1]);
    expect((await model.fit(data.x, data.y, { epochs: 1, verbose: 0 })).epoch).toEqual([0]);
  });
  it("fit before compile", async () => {
    await expect(smallCnn(8, 1, 3, seed).fit(data.x, data.y)).rejects.toThrow(/fit\(\): compile the model first/);
  });
  it("NaN in x", async () => {
    const xs = Float32Array.from(data.xs);
    xs[2 * 64 + 5] = NaN;
    await expect(compiled().fit(tensor(xs, [6, 8, 8, 1]), data.y)).rejects.toThrow(/fit\(\): x holds NaN at sample 2 \(element 5 of it\)/);
  });
  it("Infinity in x", async () => {
    const xs = Float32Array.from(data.xs);
    xs[4 * 64] = -Infinity;
    await expect(compiled().evaluate(tensor(xs, [6, 8, 8, 1]), data.y)).rejects.toThrow(/evaluate\(\): x holds -Infinity at sample 4 \(element 0 of it\)/);
  });
  it("x of the wrong shape", async () => {
    await expect(compiled().predict(tensor(new Float32Array(6 * 64), [6, 64]))).rejects.toThrow(/predict\(\): x \[6, 64\] does not match the model's input \(None, 8, 8, 1\)/);
  });
  it("optimizer options: a bare number is the learning rate; unknown keys and bad values throw", () => {
    expect(new Adam(0.01).learningRate).toBe(0.01);
    expect(new SGD(0.2).learningRate).toBe(0.2);
    expect(new Adam().learningRate).toBe(0.001);
    // a misspelt key would otherwise train at the default rate without a word
    expect(() => new Adam({ lr: 0.01 } as never)).toThrow(/new Adam\(\): unknown option "lr"; the options are learningRate, beta1, beta2, epsilon/);
    expect(() => new SGD({ learning_rate: 0.1 } as never)).toThrow(/new SGD\(\): unknown option "learning_rate" \(did you mean "learningRate"\?\)/);
    expect(() => new Adam(-1)).toThrow(/Adam learningRate must be a finite number in \[0, Infinity\), got -1/);
    expect(() => new SGD({ momentum: 1 })).toThrow(/SGD momentum must be a finite number in \[0, 1\), got 1/);
    expect(() => new Adam("0.01" as never)).toThrow(/new Adam\(\): options must be an object such as \{ learningRate: ... \}, got "0.01"/);
  });
  it("unknown loss, optimizer, metric; a model not ending in softmax", () => {
    const model = smallCnn(8, 1, 3, seed);
    expect(() => model.compile({ optimizer: "adam", loss: "mse" })).toThrow(/unknown loss "mse"/);
    expect(() => model.compile({ optimizer: "rmsprop", loss: "categoricalCrossentropy" })).toThrow(/unknown optimizer "rmsprop"/);
    expect(() => model.compile({ optimizer: "adam", loss: "categoricalCrossentropy", metrics: ["f1"] })).toThrow(/unknown metric "f1"/);
    const linear = new Sequential({ layers: [new Dense(3, { inputShape: [4] })] });
    expect(() => linear.compile({ optimizer: "adam", loss: "categoricalCrossentropy" })).toThrow(/needs class probabilities: the last layer dense_\d+ \(Dense\) outputs \(None, 3\) with activation "linear"/);
    const oneClass = new Sequential({ layers: [new Dense(1, { inputShape: [4], activation: "softmax" })] });
    expect(() => oneClass.compile({ optimizer: "adam", loss: "categoricalCrossentropy" })).toThrow(/outputs 1 class: its softmax is always 1, so the loss is always 0 and nothing is learned; a classifier needs at least 2 classes/);
  });
});

describe("progress", () => {
  it("verbose 2 prints one line per epoch; verbose 0 prints nothing", async () => {
    const lines: string[] = [];
    vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => (lines.push(String(s)), true));
    const bar = new ProgressBar(2, 3, 10);
    bar.epochBegin(0);
    bar.update(5, 40, { loss: 1 });
    bar.epochEnd(0, 80, { loss: 0.5, accuracy: 0.75 });
    new ProgressBar(0, 3, 10).epochEnd(0, 80, { loss: 0.5 });
    vi.restoreAllMocks();
    expect(lines.length).toBe(1);
    expect(lines[0]).toMatch(/^Epoch 1\/3 - .*ms\/step - \d+ img\/s - loss: 0\.5000 - accuracy: 0\.7500\n$/);
  });
  it("a dataset that does not say its batch count shows n/Unknown, not a bar or a time left", async () => {
    const lines: string[] = [];
    vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => (lines.push(String(s)), true));
    const bar = new ProgressBar(1, 2, 0); // not a terminal here: one line per epoch
    bar.epochBegin(0);
    bar.update(3, 24, { loss: 1 });
    bar.epochEnd(0, 80, { loss: 0.5 }, 10);
    vi.restoreAllMocks();
    expect(lines.join("")).toMatch(/Epoch 1\/2\n10\/Unknown - .*ms\/step - \d+ img\/s - loss: 0\.5000\n$/);
    expect(lines.join("")).not.toMatch(/ETA|-\d/);
  });
});
