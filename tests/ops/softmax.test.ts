import { describe, expect, it } from "vitest";
import { gpu } from "../../src/device.js";
import { backward, ops, tensor } from "../../src/index.node.js";
import { accuracyRef, softmaxBackwardRef, softmaxRef, softmaxXentBackwardRef, softmaxXentRef, xentProbsRef } from "../ref/softmax.js";
import { checkOp, expectClose, numericGrad, numel, Random, testSeed, useGpu } from "../helpers.js";

useGpu();
const random = new Random(testSeed("softmax"));

/** Soft labels: random positive rows normalised to sum to 1. */
function softLabels(rows: number, cols: number): Float64Array {
  const y = random.array(rows * cols, 0.01, 1);
  for (let r = 0; r < rows; r++) {
    const row = y.subarray(r * cols, (r + 1) * cols);
    const sum = row.reduce((a, b) => a + b, 0);
    row.forEach((v, c) => (row[c] = v / sum));
  }
  return y;
}

const f32 = (x: ArrayLike<number>): Float32Array => Float32Array.from(x);

describe("float64 references agree with finite differences", () => {
  it("softmax backward", () => {
    const [rows, cols] = [3, 7];
    const x = random.array(rows * cols, -3, 3);
    const dy = random.array(rows * cols);
    const fd = numericGrad((v) => softmaxRef(v, rows, cols), x, dy);
    expectClose(softmaxBackwardRef(x, dy, rows, cols), fd, "softmaxBackwardRef", 1e-7);
  });
  it("softmax cross-entropy backward", () => {
    const [rows, cols] = [4, 5];
    const x = random.array(rows * cols, -3, 3);
    const y = softLabels(rows, cols);
    const dLoss = random.uniform(0.5, 2);
    const fd = numericGrad((v) => softmaxXentRef(v, y, rows, cols), x, Float64Array.of(dLoss));
    expectClose(softmaxXentBackwardRef(x, y, dLoss, rows, cols), fd, "softmaxXentBackwardRef", 1e-7);
  });
});

describe("softmax", () => {
  // inputs of other ranks than 2 are rows of their last axis
  it.each([
    [[1, 1]],
    [[5, 1]],
    [[1, 2]],
    [[33, 2]],
    [[7, 10]],
    [[1, 10]],
    [[3, 63]],
    [[2, 64]],
    [[3, 1000]],
    [[1, 1000]],
    [[2, 3, 5]],
  ])("shape %j", async (shape) => {
    const cols = shape[shape.length - 1];
    const rows = numel(shape) / cols;
    const small = numel(shape) <= 200;
    await checkOp({
      what: `softmax ${shape}`,
      inputs: [{ values: random.array(numel(shape), -4, 4), shape, grad: true }],
      reference: ([x]) => softmaxRef(x, rows, cols),
      op: ([x]) => ops.softmax(x),
      // finite differences on small shapes, the (FD-checked) reference backward on large ones
      referenceBackward: small ? undefined : ([x], dy) => [softmaxBackwardRef(x, dy, rows, cols)],
      random,
    });
  });

  it("random shape", async () => {
    const shape = [random.int(1, 300), random.int(1, 130)];
    const [rows, cols] = shape;
    await checkOp({
      what: `softmax ${shape}`,
      inputs: [{ values: random.array(numel(shape), -4, 4), shape, grad: true }],
      reference: ([x]) => softmaxRef(x, rows, cols),
      op: ([x]) => ops.softmax(x),
      referenceBackward: ([x], dy) => [softmaxBackwardRef(x, dy, rows, cols)],
      random,
    });
  });

  it("huge logits stay finite", async () => {
    const x = [1e4, 0, -1e4, 9999, 1e4, 1e4, -1e4, -1e4, -1e4];
    const long = Array.from({ length: 128 }, (_, i) => (i % 3 === 0 ? 1e4 : -1e4 + i));
    for (const [values, cols] of [
      [x, 3],
      [long, 64],
    ] as const) {
      const rows = values.length / cols;
      const y = await ops.softmax(tensor(f32(values), [rows, cols])).data();
      expect(y.every(Number.isFinite)).toBe(true);
      expectClose(y, softmaxRef(Float64Array.from(f32(values)), rows, cols), `softmax of huge logits, C=${cols}`);
    }
  });
});

describe("softmaxCrossEntropy", () => {
  it.each([
    [1, 1, "one-hot"],
    [1, 2, "one-hot"],
    [6, 2, "soft"],
    [9, 10, "one-hot"],
    [5, 10, "soft"],
    [3, 64, "soft"],
    [4, 1000, "one-hot"],
    [1, 1000, "soft"],
  ] as const)("[%i, %i] %s labels, incoming gradient != 1", async (rows, cols, kind) => {
    const shape = [rows, cols];
    const small = rows * cols <= 200;
    await checkOp({
      what: `softmaxCrossEntropy [${shape}] ${kind}`,
      inputs: [
        { values: random.array(rows * cols, -4, 4), shape, grad: true },
        { values: kind === "soft" ? softLabels(rows, cols) : random.oneHot(rows, cols), shape },
      ],
      reference: ([x, y]) => softmaxXentRef(x, y, rows, cols),
      op: ([x, y]) => ops.softmaxCrossEntropy(x, y),
      // finite differences on small shapes (labels get no gradient: see the next test)
      referenceBackward: ([x, y], dy) => [small ? null : softmaxXentBackwardRef(x, y, dy[0], rows, cols), null],
      random,
    });
  });

  it("labels get no gradient", async () => {
    const logits = tensor([[1, 2, 3]]);
    const labels = tensor([[0, 0, 1]]);
    logits.requiresGrad = true;
    labels.requiresGrad = true;
    const grads = backward(ops.softmaxCrossEntropy(logits, labels));
    expect(grads.has(logits)).toBe(true);
    expect(grads.has(labels)).toBe(false);
  });

  it("random shape, reference backward", async () => {
    const [rows, cols] = [random.int(1, 200), random.int(1, 120)];
    await checkOp({
      what: `softmaxCrossEntropy [${rows}, ${cols}]`,
      inputs: [
        { values: random.array(rows * cols, -4, 4), shape: [rows, cols], grad: true },
        { values: random.oneHot(rows, cols), shape: [rows, cols] },
      ],
      reference: ([x, y]) => softmaxXentRef(x, y, rows, cols),
      op: ([x, y]) => ops.softmaxCrossEntropy(x, y),
      referenceBackward: ([x, y], dy) => [softmaxXentBackwardRef(x, y, dy[0], rows, cols), null],
      random,
    });
  });

  it("huge logits: finite loss, computed as log-sum-exp", async () => {
    for (const cols of [3, 100]) {
      const rows = 4;
      const x = f32(Array.from({ length: rows * cols }, (_, i) => [1e4, -1e4, 5e3, 1e4 - 3][i % 4]));
      const y = random.oneHot(rows, cols);
      const loss = await ops.softmaxCrossEntropy(tensor(x, [rows, cols]), tensor(f32(y), [rows, cols])).data();
      expect(Number.isFinite(loss[0])).toBe(true);
      expectClose(loss, softmaxXentRef(Float64Array.from(x), y, rows, cols), `xent of huge logits, C=${cols}`);
    }
  });

  it("rejects mismatched logits and labels", () => {
    expect(() => ops.softmaxCrossEntropy(tensor(new Float32Array(6), [2, 3]), tensor(new Float32Array(6), [3, 2]))).toThrow(
      /softmaxCrossEntropy: labels \[3, 2\] do not match logits \[2, 3\]/,
    );
  });
  it("rejects logits that are not [rows, classes]", () => {
    expect(() => ops.softmaxCrossEntropy(tensor(new Float32Array(6), [6]), tensor(new Float32Array(6), [6]))).toThrow(
      /softmaxCrossEntropy: logits \[6\] must be \[rows, classes\]/,
    );
  });
  it("rejects zero rows", () => {
    expect(() => ops.softmaxCrossEntropy(tensor(new Float32Array(0), [0, 3]), tensor(new Float32Array(0), [0, 3]))).toThrow(
      /softmaxCrossEntropy: logits \[0, 3\] must be \[rows, classes\] with both sizes at least 1/,
    );
  });
});

describe("categoricalCrossentropyFromProbs", () => {
  it("matches Keras on probabilities, with clipping and unnormalised rows", async () => {
    const [rows, cols] = [6, 4];
    const probs = softLabels(rows, cols);
    probs.set([0, 0, 1, 0], 0); // a confident miss and hit: log(0) must clip to log(1e-7)
    probs.set([0.5, 0.5, 0.5, 0.5], 4); // sums to 2: Keras divides by the sum first
    const labels = random.oneHot(rows, cols);
    labels.set([1, 0, 0, 0, 0, 0, 1, 0], 0);
    const p32 = f32(probs);
    const loss = await ops.categoricalCrossentropyFromProbs(tensor(p32, [rows, cols]), tensor(f32(labels), [rows, cols])).data();
    expectClose(loss, xentProbsRef(Float64Array.from(p32), labels, rows, cols), "categoricalCrossentropyFromProbs");
  });
  it("agrees with softmaxCrossEntropy on softmax outputs", async () => {
    const [rows, cols] = [20, 10];
    const x = tensor(f32(random.array(rows * cols, -3, 3)), [rows, cols]);
    const y = tensor(f32(random.oneHot(rows, cols)), [rows, cols]);
    const fromProbs = await ops.categoricalCrossentropyFromProbs(ops.softmax(x), y).data();
    expectClose(fromProbs, await ops.softmaxCrossEntropy(x, y).data(), "from probs vs from logits");
  });
  it("rejects mismatched shapes", () => {
    expect(() => ops.categoricalCrossentropyFromProbs(tensor(new Float32Array(6), [2, 3]), tensor(new Float32Array(4), [2, 2]))).toThrow(
      /categoricalCrossentropyFromProbs: labels \[2, 2\] do not match probabilities \[2, 3\]/,
    );
  });
});

describe("accuracy", () => {
  it("exact values with ties (first index wins on both sides)", async () => {
    const scores = tensor([
      [1, 1, 0], // argmax 0 (tie)
      [0, 2, 2], // argmax 1 (tie)
      [3, 0, 0], // argmax 0
      [0, 0, 1], // argmax 2
      [5, 5, 5], // argmax 0 (three-way tie)
    ]);
    const labels = tensor([
      [1, 0, 0], // 0: hit
      [0, 0, 1], // 2: miss
      [0.5, 0.5, 0], // soft tie -> 0: hit
      [0, 1, 0], // 1: miss
      [0, 0, 0], // all zero -> 0: hit
    ]);
    expect(await ops.accuracy(scores, labels).data()).toEqual(Float32Array.of(3 / 5));
    expect(await ops.accuracy(tensor([[0.2, 0.8]]), tensor([[0, 1]])).data()).toEqual(Float32Array.of(1));
    expect(await ops.accuracy(tensor([[0.2, 0.8]]), tensor([[1, 0]])).data()).toEqual(Float32Array.of(0));
  });
  it.each([
    [1, 1],
    [257, 10],
    [40, 1000],
  ])("random [%i, %i] vs reference", async (rows, cols) => {
    const scores = random.array(rows * cols);
    // about half the rows agree with the labels
    const labels = new Float64Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      let best = 0;
      for (let c = 1; c < cols; c++) if (scores[r * cols + c] > scores[r * cols + best]) best = c;
      labels[r * cols + (random.uniform() < 0.5 ? best : random.int(0, cols - 1))] = 1;
    }
    const acc = await ops.accuracy(tensor(f32(scores), [rows, cols]), tensor(f32(labels), [rows, cols])).data();
    expectClose(acc, accuracyRef(Float64Array.from(f32(scores)), labels, rows, cols), `accuracy [${rows}, ${cols}]`, 1e-6);
  });
  it("rejects mismatched shapes", () => {
    expect(() => ops.accuracy(tensor(new Float32Array(6), [2, 3]), tensor(new Float32Array(6), [1, 6]))).toThrow(/accuracy: labels \[1, 6\] do not match scores \[2, 3\]/);
  });
});

describe("softmax shapes", () => {
  it("rejects zero-sized and rank-0 inputs", () => {
    expect(() => ops.softmax(tensor(new Float32Array(0), [4, 0]))).toThrow(/softmax: input \[4, 0\] must have at least one axis and no zero-sized axis/);
    expect(() => ops.softmax(tensor(new Float32Array(1), []))).toThrow(/softmax: input \[\] must have at least one axis/);
  });
});

describe("large and chunked", () => {
  it("row counts past one dispatch dimension", async () => {
    // 64 rows per workgroup: more than 65,535 workgroups fold into 2-D. With one class every
    // answer is known (softmax 1, loss 0, accuracy 1), and the NaN-poisoned outputs show any
    // row the folded indexing missed.
    const rows = 64 * 65_535 + 3;
    const x = new Float32Array(rows);
    for (let i = 0; i < rows; i++) x[i] = (i % 1000) - 500;
    const xt = tensor(x, [rows, 1]);
    const lt = tensor(new Float32Array(rows).fill(1), [rows, 1]);
    const y = await ops.softmax(xt).data();
    expect(y.every((v) => v === 1)).toBe(true);
    expect(await ops.softmaxCrossEntropy(xt, lt).data()).toEqual(Float32Array.of(0));
    expect(await ops.accuracy(xt, lt).data()).toEqual(Float32Array.of(1));
    xt.dispose();
    lt.dispose();
  });

  it("split tensors larger than one storage binding", async () => {
    const g = gpu();
    const limit = g.maxBindingBytes;
    g.maxBindingBytes = 40_960; // 10,240 floats per binding
    try {
      for (const cols of [10, 100]) {
        const rows = 300; // 30,000 floats or more: several chunks; per-row outputs need aligned chunks too
        const shape = [rows, cols];
        await checkOp({
          what: `softmax chunked C=${cols}`,
          inputs: [{ values: random.array(rows * cols, -4, 4), shape, grad: true }],
          reference: ([x]) => softmaxRef(x, rows, cols),
          op: ([x]) => ops.softmax(x),
          referenceBackward: ([x], dy) => [softmaxBackwardRef(x, dy, rows, cols)],
          random,
        });
        await checkOp({
          what: `softmaxCrossEntropy chunked C=${cols}`,
          inputs: [
            { values: random.array(rows * cols, -4, 4), shape, grad: true },
            { values: softLabels(rows, cols), shape },
          ],
          reference: ([x, y]) => softmaxXentRef(x, y, rows, cols),
          op: ([x, y]) => ops.softmaxCrossEntropy(x, y),
          referenceBackward: ([x, y], dy) => [softmaxXentBackwardRef(x, y, dy[0], rows, cols), null],
          random,
        });
        const scores = f32(random.array(rows * cols));
        const labels = random.oneHot(rows, cols);
        const acc = await ops.accuracy(tensor(scores, shape), tensor(f32(labels), shape)).data();
        expectClose(acc, accuracyRef(Float64Array.from(scores), labels, rows, cols), `accuracy chunked C=${cols}`, 1e-6);
        const probs = softLabels(rows, cols);
        const fromProbs = await ops.categoricalCrossentropyFromProbs(tensor(f32(probs), shape), tensor(f32(labels), shape)).data();
        expectClose(fromProbs, xentProbsRef(Float64Array.from(f32(probs)), labels, rows, cols), `categoricalCrossentropyFromProbs chunked C=${cols}`);
      }
    } finally {
      g.maxBindingBytes = limit;
    }
  });
});
