import { describe, expect, it } from "vitest";
import { gpu } from "../../src/device.js";
import { ops, tensor } from "../../src/index.node.js";
import { addRef, biasAddRef, reluRef, sumRowsRef } from "../ref/elementwise.js";
import { checkOp, expectClose, numel, Random, testSeed, useGpu } from "../helpers.js";

useGpu();
const random = new Random(testSeed("elementwise"));

describe("relu", () => {
  it.each([[[1]], [[7, 13]], [[3, 5, 5, 2]], [[257]]])("shape %j", async (shape) => {
    await checkOp({
      what: `relu ${shape}`,
      inputs: [{ values: random.distinct(numel(shape)), shape, grad: true }],
      reference: ([x]) => reluRef(x),
      op: ([x]) => ops.relu(x),
      random,
    });
  });
});

describe("add", () => {
  it("random shape, gradients to both inputs", async () => {
    const shape = [random.int(1, 9), random.int(1, 70)];
    await checkOp({
      what: `add ${shape}`,
      inputs: [
        { values: random.array(numel(shape)), shape, grad: true },
        { values: random.array(numel(shape)), shape, grad: true },
      ],
      reference: ([a, b]) => addRef(a, b),
      op: ([a, b]) => ops.add(a, b),
      random,
    });
  });
  it("rejects different shapes", () => {
    expect(() => ops.add(tensor([1, 2]), tensor([1, 2, 3]))).toThrow(/add: shapes \[2\] and \[3\] differ/);
  });
});

describe("biasAdd", () => {
  for (const activation of ["linear", "relu"] as const) {
    it(`${activation}, random [rows, C]`, async () => {
      const shape = [random.int(1, 5), random.int(1, 6), random.int(1, 37)];
      const c = shape[2];
      await checkOp({
        what: `biasAdd ${activation} ${shape}`,
        inputs: [
          { values: random.distinct(numel(shape)), shape, grad: true },
          { values: random.array(c, -0.1, 0.1), shape: [c], grad: true },
        ],
        reference: ([x, b]) => biasAddRef(x, b, activation === "relu"),
        op: ([x, b]) => ops.biasAdd(x, b, activation),
        // with relu, x + b can land within a finite-difference step of the kink: use the exact
        // rule there (the linear case checks the same bias gradient by finite differences)
        referenceBackward:
          activation === "relu"
            ? ([x, b], dy) => {
                const y = biasAddRef(x, b, true);
                const dx = dy.map((v, i) => (y[i] > 0 ? v : 0));
                return [dx, sumRowsRef(dx, dx.length / c, c)];
              }
            : undefined,
        random,
      });
    });
  }
  it("names the shapes when the bias does not fit", () => {
    expect(() => ops.biasAdd(tensor(new Float32Array(6), [2, 3]), tensor([1, 2]))).toThrow(/biasAdd: bias \[2\] does not match .* \[2, 3\]; expected \[3\]/);
  });
});

describe("sumRows", () => {
  it.each([
    [1, 1],
    [5, 3],
    [300, 7],
    [70_000, 2],
    [1, 500],
  ])("[%i, %i]", async (rows, cols) => {
    const scale = random.uniform(0.5, 2);
    await checkOp({
      what: `sumRows [${rows}, ${cols}]`,
      inputs: [{ values: random.array(rows * cols), shape: [rows, cols], grad: rows * cols < 2000 }],
      reference: ([x]) => sumRowsRef(x, rows, cols, scale),
      op: ([x]) => ops.sumRows(x, scale),
      random,
      tol: 1e-4,
    });
  });
  it("columns past one dispatch dimension (65,535 workgroups of 64) are all summed", async () => {
    const g = gpu();
    // shadow the adapter's limit on this instance only
    Object.defineProperty(g, "maxWorkgroupsPerDimension", { get: () => 3, configurable: true });
    try {
      const [rows, cols] = [5, 3 * 64 * 2 + 7]; // three dispatches of 3 workgroups
      const x = random.array(rows * cols);
      expectClose(await ops.sumRows(tensor(Float32Array.from(x), [rows, cols])).data(), sumRowsRef(x, rows, cols), "sumRows folded columns");
    } finally {
      delete (g as unknown as Record<string, unknown>).maxWorkgroupsPerDimension;
    }
  });
  it("mean of a large tensor that needs more than one dispatch dimension", async () => {
    const n = 256 * 65_536 + 11; // > 65,535 workgroups of 256
    const x = random.array(n);
    const t = tensor(Float32Array.from(x), [n]);
    expectClose(await ops.mean(t).data(), [Float32Array.from(x).reduce((s, v) => s + v, 0) / n], "mean", 1e-4);
  });
});

describe("chunked bindings", () => {
  it("elementwise ops split tensors larger than one storage binding", async () => {
    const g = gpu();
    const limit = g.maxBindingBytes;
    g.maxBindingBytes = 40_960; // 10,240 floats per binding
    try {
      // rows of 123 floats: chunk starts must be 256-byte aligned, so chunks are 64 rows
      const shape = [300, 123];
      await checkOp({
        what: "biasAdd relu chunked",
        inputs: [
          { values: random.distinct(numel(shape)), shape, grad: true },
          { values: random.array(123, -0.1, 0.1), shape: [123], grad: true },
        ],
        reference: ([x, b]) => biasAddRef(x, b, true),
        op: ([x, b]) => ops.biasAdd(x, b, "relu"),
        referenceBackward: ([x, b], dy) => {
          const y = biasAddRef(x, b, true);
          const dx = dy.map((v, i) => (y[i] > 0 ? v : 0));
          return [dx, sumRowsRef(dx, 300, 123)];
        },
        random,
      });
      const x = random.array(25_000);
      expectClose(await ops.sum(tensor(Float32Array.from(x))).data(), [Float32Array.from(x).reduce((s, v) => s + v, 0)], "sum chunked");
    } finally {
      g.maxBindingBytes = limit;
    }
  });
});
