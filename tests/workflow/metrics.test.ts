// Metrics beyond accuracy against values worked out by hand (8 samples, 3 classes), every input
// form giving the same answer, Keras' tie rule for top-k, sklearn's averaging, the bad-input
// errors; then evaluateDetailed over a trained model against model.evaluate, and a dataset
// whose classes are ordered differently from the model's.
import { describe, expect, it } from "vitest";
import { Tensor, tensor } from "../../src/index.node.js";
import { classificationMetrics, confusionMatrix, evaluateDetailed, formatMetrics, topKAccuracy, type BatchSource } from "../../src/metrics.js";
import { Adam } from "../../src/optimizers.js";
import { testSeed, useGpu } from "../helpers.js";
import { bars, smallCnn } from "../e2e/data.js";

useGpu();

// Each row sums to 1. The true class's probability, row by row: .7 .3 .5 .4 .05 .6 .8 .3
const PROBS = [
  [0.7, 0.2, 0.1], // a -> a
  [0.1, 0.6, 0.3], // c -> b (c second: in the top 2)
  [0.2, 0.3, 0.5], // c -> c
  [0.5, 0.4, 0.1], // b -> a (b second)
  [0.05, 0.15, 0.8], // a -> c (a last: not in the top 2)
  [0.3, 0.6, 0.1], // b -> b
  [0.1, 0.1, 0.8], // c -> c
  [0.6, 0.3, 0.1], // b -> a (b second)
];
const LABELS = [0, 2, 2, 1, 0, 1, 2, 1];
const NAMES = ["a", "b", "c"];

describe("classificationMetrics by hand", () => {
  it("accuracy, top-2, the confusion matrix, per-class precision/recall/F1, macro and weighted averages, loss", () => {
    const m = classificationMetrics(PROBS, LABELS, { classNames: NAMES, topK: 2 });
    expect(m.samples).toBe(8);
    expect(m.classNames).toEqual(NAMES);
    // rows: truth; columns: prediction
    expect(m.confusionMatrix).toEqual([
      [1, 0, 1],
      [2, 1, 0],
      [0, 1, 2],
    ]);
    expect(m.accuracy).toBe(4 / 8);
    expect(m.topKAccuracy[2]).toBe(7 / 8);
    // a: predicted 3 times, right once; 2 samples, 1 found
    const [a, b, c] = m.perClass;
    expect(a.precision).toBeCloseTo(1 / 3, 12);
    expect(a.recall).toBeCloseTo(1 / 2, 12);
    expect(a.f1).toBeCloseTo(0.4, 12);
    expect(a.support).toBe(2);
    // b: predicted twice, right once; 3 samples, 1 found
    expect(b.precision).toBeCloseTo(1 / 2, 12);
    expect(b.recall).toBeCloseTo(1 / 3, 12);
    expect(b.f1).toBeCloseTo(0.4, 12);
    expect(b.support).toBe(3);
    // c: predicted 3 times, right twice; 3 samples, 2 found
    expect(c.precision).toBeCloseTo(2 / 3, 12);
    expect(c.recall).toBeCloseTo(2 / 3, 12);
    expect(c.f1).toBeCloseTo(2 / 3, 12);
    expect(m.macro.precision).toBeCloseTo((1 / 3 + 1 / 2 + 2 / 3) / 3, 12);
    expect(m.macro.recall).toBeCloseTo((1 / 2 + 1 / 3 + 2 / 3) / 3, 12);
    expect(m.macro.f1).toBeCloseTo((0.4 + 0.4 + 2 / 3) / 3, 12);
    expect(m.weighted.precision).toBeCloseTo((2 * (1 / 3) + 3 * (1 / 2) + 3 * (2 / 3)) / 8, 12);
    expect(m.weighted.recall).toBeCloseTo(0.5, 12); // weighted recall is accuracy
    expect(m.weighted.f1).toBeCloseTo((2 * 0.4 + 3 * 0.4 + 3 * (2 / 3)) / 8, 12);
    const truthProbabilities = [0.7, 0.3, 0.5, 0.4, 0.05, 0.6, 0.8, 0.3];
    expect(m.loss).toBeCloseTo(truthProbabilities.reduce((s, p) => s - Math.log(p), 0) / 8, 12);
    // the standalone helpers agree
    expect(topKAccuracy(PROBS, LABELS, 2)).toBe(7 / 8);
    expect(topKAccuracy(PROBS, LABELS, 3)).toBe(1);
    expect(confusionMatrix(PROBS, LABELS)).toEqual(m.confusionMatrix);
    // the printed report holds the same numbers
    const text = formatMetrics(m);
    expect(text).toContain("accuracy: 50.00% - top-2 accuracy: 87.50%");
    expect(text).toMatch(/^a\s+0\.3333\s+0\.5000\s+0\.4000\s+2$/m);
    expect(text).toMatch(/^b\s+2\s+1\s+0$/m); // b's confusion row
  });

  it("every form of predictions and labels gives the same metrics", () => {
    const reference = classificationMetrics(PROBS, LABELS, { topK: [1, 2] });
    const flat = PROBS.flat();
    const oneHotRows = LABELS.map((l) => [0, 1, 2].map((c) => (c === l ? 1 : 0)));
    expect(classificationMetrics(Float32Array.from(flat), Int32Array.from(LABELS), { numClasses: 3, topK: [1, 2] }).confusionMatrix).toEqual(reference.confusionMatrix);
    expect(classificationMetrics(flat, oneHotRows.flat(), { numClasses: 3, topK: [2, 1] }).topKAccuracy).toEqual(reference.topKAccuracy);
    expect(classificationMetrics(PROBS, oneHotRows, { topK: [1, 2] })).toEqual(reference);
    expect(reference.topKAccuracy[1]).toBe(reference.accuracy);
    expect(reference.classNames).toEqual(["0", "1", "2"]);
  });

  it("ties: top-k counts classes tied with the k-th as in (tf.math.in_top_k); the predicted class is the first maximum (argmax)", () => {
    const tied = classificationMetrics([[0.1, 0.1, 0.8]], [0], { topK: [1, 2] });
    expect(tied.topKAccuracy).toEqual({ 1: 0, 2: 1 });
    const firstMax = classificationMetrics([[0.4, 0.4, 0.2]], [1], { topK: 1 });
    expect(firstMax.accuracy).toBe(0);
    expect(firstMax.confusionMatrix[1]).toEqual([1, 0, 0]);
    // ... but in_top_k puts the tied class 1 in the top 1
    expect(firstMax.topKAccuracy[1]).toBe(1);
  });

  it("macro averages skip classes absent from both labels and predictions (sklearn); their rows are zero", () => {
    const four = classificationMetrics(
      PROBS.map((r) => [...r, 0]),
      LABELS,
      { classNames: [...NAMES, "d"] },
    );
    const three = classificationMetrics(PROBS, LABELS, { classNames: NAMES });
    expect(four.perClass[3]).toEqual({ className: "d", precision: 0, recall: 0, f1: 0, support: 0 });
    expect(four.macro).toEqual(three.macro);
    expect(four.weighted).toEqual(three.weighted);
    expect(four.confusionMatrix[3]).toEqual([0, 0, 0, 0]);
  });

  it("bad input fails with one clear message", () => {
    expect(() => classificationMetrics(PROBS, [0, 1], {})).toThrow(/8 predictions of 3 classes, but 2 label values/);
    expect(() => classificationMetrics(PROBS, LABELS.map((l) => l + 1), {})).toThrow(/label 1 is 3; class indices must be integers in \[0, 2\]/);
    expect(() => classificationMetrics([[0.5, NaN, 0.5]], [0], {})).toThrow(/prediction for sample 0 holds NaN \(class 1\)/);
    expect(() => classificationMetrics(PROBS, LABELS, { topK: 4 })).toThrow(/topK 4 is more than the 3 classes/);
    expect(() => classificationMetrics(PROBS, LABELS, { topK: 0 })).toThrow(/topK must be a positive integer/);
    expect(() => classificationMetrics(PROBS.flat(), LABELS, {})).toThrow(/flat predictions need numClasses/);
    expect(() => classificationMetrics(PROBS, LABELS, { classNames: ["a", "b"] })).toThrow(/predictions have 3 values per sample, but there are 2 classes/);
    expect(() => classificationMetrics([], [], { numClasses: 3 })).toThrow(/no predictions/);
    expect(() => classificationMetrics([[1, 0], [0, 1, 0]], [0, 1])).toThrow(/prediction row 1 has 3 values; row 0 has 2/);
  });
});

describe("evaluateDetailed", () => {
  const seed = testSeed("workflow metrics");

  it("agrees with model.evaluate on tensors, and matches a dataset's classes to the model's by name", async () => {
    const data = bars(30, 8, 1, 3, seed);
    const model = smallCnn(8, 1, 3, seed);
    model.compile({ optimizer: new Adam({ learningRate: 0.01 }), loss: "categoricalCrossentropy", metrics: ["accuracy"] });
    await model.fit(data.x, data.y, { epochs: 3, batchSize: 10, verbose: 0 });
    model.classNames = ["left", "middle", "right"];
    const keras = await model.evaluate(data.x, data.y, { batchSize: 7 });
    const detailed = await evaluateDetailed(model, data.x, data.y, { topK: 2, batchSize: 7 });
    expect(detailed.samples).toBe(30);
    expect(detailed.classNames).toEqual(["left", "middle", "right"]);
    expect(detailed.accuracy).toBeCloseTo(keras.accuracy, 6);
    expect(detailed.loss).toBeCloseTo(keras.loss, 4);
    expect(detailed.confusionMatrix.flat().reduce((a, b) => a + b, 0)).toBe(30);
    // class indices as labels give the same
    const byIndex = await evaluateDetailed(model, data.x, tensor(data.labels, [30]));
    expect(byIndex.confusionMatrix).toEqual(detailed.confusionMatrix);

    // A dataset that names the classes in another order, with labels in that order, in two batches
    const order = ["right", "left", "middle"];
    const xs = data.xs;
    const relabelled = data.labels.map((l) => order.indexOf(["left", "middle", "right"][l]));
    const dataset: BatchSource = {
      classNames: order,
      async *batches() {
        for (const [start, end] of [[0, 16], [16, 30]]) {
          yield { x: new Tensor([end - start, 8, 8, 1], xs.slice(start * 64, end * 64)), y: new Tensor([end - start], Float32Array.from(relabelled.slice(start, end))) };
        }
      },
    };
    const fromDataset = await evaluateDetailed(model, dataset, undefined, { topK: 2 });
    expect(fromDataset.confusionMatrix).toEqual(detailed.confusionMatrix);
    expect(fromDataset.accuracy).toBe(detailed.accuracy);
    expect(fromDataset.topKAccuracy).toEqual(detailed.topKAccuracy);

    const stranger: BatchSource = { classNames: ["left", "up", "right"], batches: dataset.batches };
    await expect(evaluateDetailed(model, stranger)).rejects.toThrow(/the dataset has class "up", which the model does not know \(its classes: left, middle, right\)/);
    const wrongSize: BatchSource = {
      classNames: order,
      async *batches() {
        yield { x: new Tensor([1, 9, 9, 1], new Float32Array(81)), y: new Tensor([1], new Float32Array(1)) };
      },
    };
    await expect(evaluateDetailed(model, wrongSize)).rejects.toThrow(/the dataset's images are \[9, 9, 1\] per sample but .* takes \[8, 8, 1\]; load the images with imageSize: \[8, 8\]/);
    await expect(evaluateDetailed(model, data.x)).rejects.toThrow(/pass y too/);
    model.dispose();
  });
});
