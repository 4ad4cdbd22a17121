import { describe, expect, it } from "vitest";
import { gpu } from "../../src/device.js";
import { ops, tensor } from "../../src/index.node.js";
import { denseBackwardRef, denseRef, matmulRef } from "../ref/matmul.js";
import { checkOp, expectClose, numericGrad, Random, testSeed, useGpu } from "../helpers.js";

useGpu();
const random = new Random(testSeed("dense"));

interface DenseCase {
  batch: number;
  inputs: number;
  units: number;
  bias: boolean;
  relu: boolean;
}

/**
 * Random x, w, b whose pre-activations all keep clear of relu's kink (rows of x are redrawn
 * until they do), so float32 and float64 agree on the mask.
 */
function draw({ batch, inputs, units, bias }: DenseCase): [Float64Array, Float64Array, Float64Array | null] {
  const w = Float64Array.from(Float32Array.from(random.array(inputs * units)));
  const b = bias ? Float64Array.from(Float32Array.from(random.array(units, -0.5, 0.5))) : null;
  const x = Float64Array.from(Float32Array.from(random.array(batch * inputs)));
  for (let tries = 0; tries < 1000; tries++) {
    const pre = denseRef(x, w, b, batch, inputs, units, false);
    let clean = true;
    for (let r = 0; r < batch; r++) {
      if (pre.subarray(r * units, (r + 1) * units).some((v) => Math.abs(v) < 1e-3)) {
        clean = false;
        x.set(Float32Array.from(random.array(inputs)), r * inputs);
      }
    }
    if (clean) return [x, w, b];
  }
  throw new Error("could not draw inputs away from the relu kink");
}

async function checkDense(c: DenseCase, useReference = true): Promise<void> {
  const { batch, inputs, units, bias, relu } = c;
  const [x, w, b] = draw(c);
  const activation = relu ? "relu" : "linear";
  await checkOp({
    what: `dense ${activation} [${batch}, ${inputs}]·[${inputs}, ${units}]${bias ? " + b" : ""}`,
    inputs: [
      { values: x, shape: [batch, inputs], grad: true },
      { values: w, shape: [inputs, units], grad: true },
      ...(b ? [{ values: b, shape: [units], grad: true }] : []),
    ],
    reference: ([x, w, b]) => denseRef(x, w, b ?? null, batch, inputs, units, relu),
    referenceBackward: useReference ? ([x, w, b], dy) => denseBackwardRef(x, w, b ?? null, dy, batch, inputs, units, relu).slice(0, b ? 3 : 2) : undefined,
    op: ([x, w, b]) => ops.dense(x, w, b ?? null, activation),
    random,
  });
}

describe("dense reference", () => {
  it.each([false, true])("backward matches finite differences (relu %s)", (relu) => {
    const c = { batch: random.int(1, 4), inputs: random.int(1, 5), units: random.int(1, 4), bias: true, relu };
    const [x, w, b] = draw(c);
    const { batch, inputs, units } = c;
    const dy = random.array(batch * units);
    const [dx, dw, db] = denseBackwardRef(x, w, b, dy, batch, inputs, units, relu);
    const f = (x: Float64Array, w: Float64Array, b: Float64Array) => denseRef(x, w, b, batch, inputs, units, relu);
    expectClose(dx, numericGrad((v) => f(v, w, b!), x, dy), "reference dx");
    expectClose(dw, numericGrad((v) => f(x, v, b!), w, dy), "reference dw");
    expectClose(db, numericGrad((v) => f(x, w, v), b!, dy), "reference db");
  });
});

describe("dense", () => {
  for (const bias of [true, false]) {
    for (const relu of [false, true]) {
      it(`random shape, ${bias ? "with" : "without"} bias, ${relu ? "relu" : "linear"}`, async () => {
        const s = () => {
          const v = random.int(1, 130);
          return random.uniform() < 0.5 ? Math.max(4, v - (v % 4)) : v;
        };
        await checkDense({ batch: s(), inputs: s(), units: s(), bias, relu });
      });
    }
  }
  it.each([
    [1, 37, 10], // batch 1
    [1, 128, 64], // batch 1, vec4 kernels
    [9, 1, 5], // one input unit
    [9, 6, 1], // one output unit
    [32, 136, 128], // seed-model-like, vec4 kernels
  ])("[%i, %i]·[%i, …] with bias and relu", async (batch, inputs, units) => {
    await checkDense({ batch, inputs, units, bias: true, relu: true });
  });
  it("gradients match finite differences on a tiny case", async () => {
    await checkDense({ batch: 3, inputs: 4, units: 5, bias: true, relu: true }, false);
    await checkDense({ batch: 2, inputs: 3, units: 2, bias: false, relu: false }, false);
  });
  it("runs a kernel larger than one storage binding (bias on the first K chunk, relu on the last)", async () => {
    const g = gpu();
    const limit = g.maxBindingBytes;
    g.maxBindingBytes = 40_960; // 10,240 floats per binding
    try {
      await checkDense({ batch: 6, inputs: 400, units: 64, bias: true, relu: true }); // w: 25,600 floats, 3 chunks
      await checkDense({ batch: 150, inputs: 90, units: 7, bias: true, relu: true }); // x: 13,500 floats
    } finally {
      g.maxBindingBytes = limit;
    }
  });
  it("the seed model's hidden layer: long K split into slices, bias and relu applied after the sum", async () => {
    // [32 x 5408]·[5408 x 128]: on 8-lane subgroups K is cut into slices (matmul_reduce)
    await checkDense({ batch: 32, inputs: 5408, units: 128, bias: true, relu: true });
    await checkDense({ batch: 8, inputs: 4096, units: 12, bias: true, relu: false });
    // the plain kernels (SwiftShader, GPUs) split it too
    const g = gpu();
    const subgroups = g.subgroupKernels;
    g.subgroupKernels = false;
    try {
      await checkDense({ batch: 8, inputs: 4104, units: 20, bias: true, relu: true });
      // 8x8 blocks with bias and relu: columns off 8 by 4, rows past the batch
      await checkDense({ batch: 12, inputs: 20, units: 36, bias: true, relu: true });
      await checkDense({ batch: 5, inputs: 44, units: 12, bias: true, relu: false });
    } finally {
      g.subgroupKernels = subgroups;
    }
  });
  it("without bias matches matmul", async () => {
    const x = random.array(6 * 5);
    const w = random.array(5 * 3);
    const y = ops.dense(tensor(Float32Array.from(x), [6, 5]), tensor(Float32Array.from(w), [5, 3]), null);
    expectClose(await y.data(), matmulRef(Float64Array.from(Float32Array.from(x)), Float64Array.from(Float32Array.from(w)), 6, 5, 3), "dense = matmul");
  });
});

describe("bad input", () => {
  const x = () => tensor(new Float32Array(6), [2, 3]);
  const w = () => tensor(new Float32Array(12), [3, 4]);
  it("rejects inputs that are not 2-D", () => {
    expect(() => ops.dense(tensor(new Float32Array(12), [2, 3, 2]), w(), null)).toThrow(/dense: input \[2, 3, 2\] must be 2-D \[batch, in\]/);
  });
  it("rejects a kernel whose input size differs", () => {
    expect(() => ops.dense(x(), tensor(new Float32Array(8), [2, 4]), null)).toThrow(
      /dense: input \[2, 3\] has 3 features but kernel \[2, 4\] expects 2; expected input \[batch, 2\]/,
    );
  });
  it("rejects a bias of the wrong size", () => {
    expect(() => ops.dense(x(), w(), tensor([1, 2, 3]))).toThrow(/dense: bias \[3\] does not match kernel \[3, 4\]; expected \[4\]/);
  });
});
