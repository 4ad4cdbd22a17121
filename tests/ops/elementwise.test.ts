import { afterEach, describe, expect, it } from "vitest";
import { gpu } from "../../src/device.js";
import { ops, tensor, type Tensor } from "../../src/index.node.js";
import { MAX_BLOCK_GROUPS, vec4Binding } from "../../src/ops/run.js";
import { sizeClass } from "../../src/pool.js";
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

// The block kernels read tensors as vec4s, in a few workgroups that each walk a contiguous slice:
// sizes that are not whole vec4s (the last vec4 reaches into padding), smaller than one workgroup,
// and spanning every workgroup and run of lanes. Outputs are NaN-poisoned, so an element left
// unwritten fails the comparison.
const awkwardSizes = [1, 2, 3, 4, 5, 6, 7, 63, 257, 4099, 300_001, 1_048_578];

/** Records (kernel, workgroups) of every dispatch while `fn` runs. */
function recordDispatches(fn: () => void): { kernel: string; groups: number[] }[] {
  const g = gpu();
  const original = g.dispatch;
  const seen: { kernel: string; groups: number[] }[] = [];
  g.dispatch = (kernel, bindings, p, workgroups) => {
    seen.push({ kernel, groups: [workgroups[0], workgroups[1] ?? 1, workgroups[2] ?? 1] });
    original.call(g, kernel, bindings, p, workgroups);
  };
  try {
    fn();
  } finally {
    g.dispatch = original;
  }
  return seen;
}

describe("vec4 block kernels", () => {
  const made: Tensor[] = [];
  const gpuTensor = (x: Float64Array, shape: number[]): Tensor => {
    const t = tensor(Float32Array.from(x), shape);
    made.push(t);
    return t;
  };
  afterEach(() => made.splice(0).forEach((t) => t.dispose()));

  it.each(awkwardSizes)("relu, its backward, add and scale on %i floats", async (n) => {
    const x = random.distinct(n);
    const b = random.array(n);
    const dy = random.array(n);
    const [tx, tb, tdy] = [gpuTensor(x, [n]), gpuTensor(b, [n]), gpuTensor(dy, [n])];
    const x32 = Float64Array.from(Float32Array.from(x));
    const b32 = Float64Array.from(Float32Array.from(b));
    const dy32 = Float64Array.from(Float32Array.from(dy));
    const y = ops.relu(tx);
    made.push(y);
    expectClose(await y.data(), reluRef(x32), `relu ${n}`);
    const { reluBackward } = await import("../../src/ops/relu.js");
    const dx = reluBackward(y, tdy);
    made.push(dx);
    expectClose(await dx.data(), dy32.map((v, i) => (x32[i] > 0 ? v : 0)), `relu backward ${n}`);
    const sum = ops.add(tx, tb);
    const scaled = ops.scale(tx, -2.5);
    made.push(sum, scaled);
    expectClose(await sum.data(), addRef(x32, b32), `add ${n}`);
    expectClose(await scaled.data(), x32.map((v) => v * -2.5), `scale ${n}`);
  });

  it.each(awkwardSizes)("fill writes all %i floats", async (n) => {
    const t = ops.fill([n], 0.75);
    made.push(t);
    const data = await t.data();
    expect(data.length).toBe(n);
    expect(data.every((v) => v === 0.75)).toBe(true);
  });

  it.each(awkwardSizes)("zeros (a buffer clear, not a kernel) clears all %i floats of a reused buffer", async (n) => {
    // a filled tensor freed first: the pool hands its buffer to zeros (poisoned as well in tests)
    ops.fill([n], 5).dispose();
    const z = ops.zeros([n]);
    made.push(z);
    const data = await z.data();
    expect(data.length).toBe(n);
    expect(data.every((v) => Object.is(v, 0))).toBe(true);
  });

  // channels dividing 32 keep a lane on the same channels (biases loaded once); others step
  it.each([
    [1, 1],
    [3, 1],
    [1, 5],
    [7, 3],
    [2, 8],
    [37, 5],
    [5, 7],
    [9_001, 32],
    [10, 12],
    [3, 33],
    [1_001, 64],
    [40, 123],
    [4_001, 16],
  ])("biasAdd on [%i, %i], linear and relu", async (rows, c) => {
    const x = random.distinct(rows * c);
    const b = random.array(c, -0.5, 0.5);
    const [tx, tb] = [gpuTensor(x, [rows, c]), gpuTensor(b, [c])];
    const x32 = Float64Array.from(Float32Array.from(x));
    const b32 = Float64Array.from(Float32Array.from(b));
    for (const relu of [false, true]) {
      const y = ops.biasAdd(tx, tb, relu ? "relu" : "linear");
      made.push(y);
      expectClose(await y.data(), biasAddRef(x32, b32, relu), `biasAdd ${relu ? "relu " : ""}[${rows}, ${c}]`);
    }
  });

  it("a large tensor takes one dispatch of at most MAX_BLOCK_GROUPS workgroups", () => {
    const t = ops.fill([1_048_578], 1);
    made.push(t);
    const seen = recordDispatches(() => made.push(ops.relu(t), ops.add(t, t), ops.scale(t, 2)));
    // under poisoning each output adds a fill
    const compute = seen.filter((d) => d.kernel !== "fill");
    expect(compute.map((d) => d.kernel)).toEqual(["relu_fwd", "add", "scale"]);
    for (const d of seen) expect(d.groups).toEqual([MAX_BLOCK_GROUPS, 1, 1]);
  });

  it("chunked bindings: the last chunk is not whole vec4s", async () => {
    const g = gpu();
    const limit = g.maxBindingBytes;
    g.maxBindingBytes = 4096; // 1,024 floats per binding
    try {
      for (const n of [2_049, 3_074, 5_123]) {
        const x = random.distinct(n);
        const b = random.array(n);
        const x32 = Float64Array.from(Float32Array.from(x));
        const b32 = Float64Array.from(Float32Array.from(b));
        const [tx, tb] = [gpuTensor(x, [n]), gpuTensor(b, [n])];
        const seen = recordDispatches(() => made.push(ops.relu(tx), ops.add(tx, tb)));
        expect(seen.filter((d) => d.kernel === "relu_fwd")).toHaveLength(Math.ceil(n / 1024));
        const [y, sum] = made.slice(-2);
        expectClose(await y.data(), reluRef(x32), `relu chunked ${n}`);
        expectClose(await sum.data(), addRef(x32, b32), `add chunked ${n}`);
        const filled = ops.fill([n], -3);
        made.push(filled);
        expect((await filled.data()).every((v) => v === -3)).toBe(true);
      }
      // biases across chunks: 8 channels (a lane keeps its channels), 3 (it steps; the tensor
      // ends mid-vec4)
      for (const c of [8, 3]) {
        const rows = 2_001;
        const x = random.distinct(rows * c);
        const b = random.array(c);
        const y = ops.biasAdd(gpuTensor(x, [rows, c]), gpuTensor(b, [c]), "relu");
        made.push(y);
        expectClose(await y.data(), biasAddRef(Float64Array.from(Float32Array.from(x)), Float64Array.from(Float32Array.from(b)), true), `biasAdd chunked [${rows}, ${c}]`);
      }
    } finally {
      g.maxBindingBytes = limit;
    }
  });

  it("vec4Binding rounds only a tensor's tail up to whole vec4s", () => {
    const t = tensor(new Float32Array(10));
    made.push(t);
    expect(vec4Binding(t, 8, 2).size).toBe(16);
    expect(vec4Binding(t).size).toBe(48);
    expect(vec4Binding(t, 0, 8).size).toBe(32);
    expect(() => vec4Binding(t, 0, 5)).toThrow(/must start on a vec4 and end on one or at the tensor's end/);
    expect(() => vec4Binding(t, 2, 8)).toThrow(/must start on a vec4/);
  });
});

/**
 * A tensor of `values` whose pooled buffer held NaN before: the floats past its end (read by the
 * last vec4) are NaN, so a sum that counts them fails.
 */
function dirtyTensor(values: Float64Array, shape: number[]): Tensor {
  ops.fill([sizeClass(values.length * 4) / 4], NaN).dispose();
  const t = tensor(Float32Array.from(values), shape);
  void t.buffer; // takes the buffer just freed, NaN past the values
  return t;
}

describe("sumRows vector passes", () => {
  // more than 256 rows take vec4 passes over super-rows of lcm(cols, 4) floats; rows * cols not
  // a multiple of it leave a partial super-row whose floats past the end must not be counted
  it.each([
    [257, 1],
    [1_001, 1],
    [300, 2],
    [1_001, 3],
    [1_000, 4],
    [999, 5],
    [301, 10],
    [21_632, 32],
    [2_000, 7],
    [400, 128],
    [300, 300],
    [260, 1_001],
  ])("[%i, %i]", async (rows, cols) => {
    const x = random.array(rows * cols);
    const scale = random.uniform(0.5, 2);
    const t = dirtyTensor(x, [rows, cols]);
    let out: Tensor | null = null;
    const seen = recordDispatches(() => {
      out = ops.sumRows(t, scale);
    });
    expect(seen.some((d) => d.kernel === "sum_rows_vec4")).toBe(true);
    expectClose(await out!.data(), sumRowsRef(Float64Array.from(Float32Array.from(x)), rows, cols, scale), `sumRows [${rows}, ${cols}]`);
    t.dispose();
  });

  it("gradient of a vector-pass sum", async () => {
    const [rows, cols] = [300, 6];
    await checkOp({
      what: `sumRows [${rows}, ${cols}]`,
      inputs: [{ values: random.array(rows * cols), shape: [rows, cols], grad: true }],
      reference: ([x]) => sumRowsRef(x, rows, cols, 0.5),
      op: ([x]) => ops.sumRows(x, 0.5),
      referenceBackward: (_, dy) => [Float64Array.from({ length: rows * cols }, (_, i) => dy[i % cols] * 0.5)],
      random,
    });
  });

  it("columns past the per-dimension workgroup limit, in few blocks", async () => {
    const g = gpu();
    Object.defineProperty(g, "maxWorkgroupsPerDimension", { get: () => 3, configurable: true });
    try {
      // 200 vec4 columns: 4 groups of 64, so two dispatches of at most 3
      for (const [rows, cols] of [
        [600, 800],
        [300, 399],
      ]) {
        const x = random.array(rows * cols);
        const t = tensor(Float32Array.from(x), [rows, cols]);
        let out: Tensor | null = null;
        const seen = recordDispatches(() => {
          out = ops.sumRows(t);
        });
        for (const d of seen) expect(Math.max(...d.groups)).toBeLessThanOrEqual(3);
        expectClose(await out!.data(), sumRowsRef(Float64Array.from(Float32Array.from(x)), rows, cols), `sumRows folded [${rows}, ${cols}]`);
        t.dispose();
      }
    } finally {
      delete (g as unknown as Record<string, unknown>).maxWorkgroupsPerDimension;
    }
  });

  it("chunked bindings, whole and partial super-rows", async () => {
    const g = gpu();
    const limit = g.maxBindingBytes;
    g.maxBindingBytes = 40_960; // 10,240 floats per binding
    try {
      for (const [rows, cols] of [
        [3_000, 10],
        [2_999, 7],
        [5_001, 4],
        [20_001, 1],
      ]) {
        const x = random.array(rows * cols);
        const t = dirtyTensor(x, [rows, cols]);
        expectClose(await ops.sumRows(t, 2).data(), sumRowsRef(Float64Array.from(Float32Array.from(x)), rows, cols, 2), `sumRows chunked [${rows}, ${cols}]`);
        t.dispose();
      }
    } finally {
      g.maxBindingBytes = limit;
    }
  });
});
