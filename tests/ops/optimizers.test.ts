import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { gpu } from "../../src/device.js";
import { ops, tensor, type Tensor } from "../../src/index.node.js";
import { adamRef, sgdRef, type AdamHyper, type AdamState } from "../ref/optimizers.js";
import { expectClose, numel, Random, testSeed, useGpu } from "../helpers.js";

useGpu();
const random = new Random(testSeed("optimizers"));

/** float64 copy of exactly the float32 values the GPU holds. */
const as32 = (x: ArrayLike<number>): Float64Array => Float64Array.from(Float32Array.from(x));
const gpuTensor = (x: Float64Array, shape: number[]): Tensor => tensor(Float32Array.from(x), shape);

// Counts dispatches by kernel name: each update must be one dispatch per parameter tensor (or
// per chunk of one).
let dispatches: string[] = [];
let restoreDispatch: (() => void) | null = null;
beforeEach(() => {
  const g = gpu();
  const original = g.dispatch.bind(g);
  dispatches = [];
  g.dispatch = (kernel, ...rest) => {
    dispatches.push(kernel);
    original(kernel, ...rest);
  };
  restoreDispatch = () => {
    g.dispatch = original;
  };
});
afterEach(() => restoreDispatch?.());

const updates = (): string[] => dispatches.filter((k) => /^(adam|sgd)/.test(k));

async function adamSteps(shape: number[], h: AdamHyper, steps: number, expectedDispatches: number): Promise<void> {
  const n = numel(shape);
  let ref: AdamState = { param: as32(random.array(n)), m: new Float64Array(n), v: new Float64Array(n) };
  const param = gpuTensor(ref.param, shape);
  const m = tensor(new Float32Array(n), shape);
  const v = tensor(new Float32Array(n), shape);
  const status = tensor([0]);
  for (let step = 1; step <= steps; step++) {
    // gradients of different scales, some zero, so m and v differ from step to step
    const grad = as32(random.array(n, -1, 1).map((x, i) => (i % 7 === 0 ? 0 : x * 10 ** random.int(-3, 1))));
    const g = gpuTensor(grad, shape);
    dispatches = [];
    ops.adamUpdate(param, g, m, v, status, { ...h, step });
    expect(updates(), "one dispatch per parameter (per chunk)").toHaveLength(expectedDispatches);
    ref = adamRef(ref, grad, h, step);
    const what = `adam ${shape} step ${step}`;
    expectClose(await m.data(), ref.m, `${what} m`, 1e-5);
    expectClose(await v.data(), ref.v, `${what} v`, 1e-5);
    expectClose(await param.data(), ref.param, `${what} param`, 1e-5);
    g.dispose();
  }
}

const kerasAdam: AdamHyper = { learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };

describe("adamUpdate", () => {
  it.each([[[16, 33]], [[37]], [[1]], [[3, 3, 2, 5]]])("3 steps of Keras' Adam, shape %j", async (shape) => {
    await adamSteps(shape, kerasAdam, 3, 1);
  });

  it("fresh state (never written: here NaN) is taken as zeros: the same bits as cleared state, this step and the next", async () => {
    const shape = [random.int(1, 9), random.int(1, 9)];
    const n = numel(shape);
    const start = Float32Array.from(random.array(n));
    const grads = [0, 1].map(() => gpuTensor(random.array(n, -2, 2), shape));
    const cleared = { param: tensor(start, shape), m: tensor(new Float32Array(n), shape), v: tensor(new Float32Array(n), shape) };
    const fresh = { param: tensor(start, shape), m: tensor(new Float32Array(n).fill(NaN), shape), v: tensor(new Float32Array(n).fill(NaN), shape) };
    const status = tensor([0]);
    for (const step of [1, 2]) {
      ops.adamUpdate(cleared.param, grads[step - 1], cleared.m, cleared.v, status, { ...kerasAdam, step });
      ops.adamUpdate(fresh.param, grads[step - 1], fresh.m, fresh.v, status, { ...kerasAdam, step, fresh: step === 1 });
      for (const key of ["param", "m", "v"] as const) {
        expect(Array.from(await fresh[key].data()), `${key} after step ${step}`).toEqual(Array.from(await cleared[key].data()));
      }
    }
  });

  it("a fresh update that status skips leaves zeros in m and v and the param as it was", async () => {
    const n = random.int(1, 50);
    const start = Float32Array.from(random.array(n));
    const param = tensor(start, [n]);
    const m = tensor(new Float32Array(n).fill(NaN), [n]);
    const v = tensor(new Float32Array(n).fill(NaN), [n]);
    ops.adamUpdate(param, gpuTensor(random.array(n), [n]), m, v, tensor([1]), { step: 1, fresh: true });
    expect(Array.from(await param.data())).toEqual(Array.from(start));
    expect(Array.from(await m.data())).toEqual(new Array(n).fill(0));
    expect(Array.from(await v.data())).toEqual(new Array(n).fill(0));
  });

  it("other hyperparameters, 4 steps", async () => {
    await adamSteps([random.int(1, 40), random.int(1, 40)], { learningRate: 0.05, beta1: 0.5, beta2: 0.75, epsilon: 1e-3 }, 4, 1);
  });

  it("defaults are Keras' (lr 0.001, beta1 0.9, beta2 0.999, epsilon 1e-7)", async () => {
    const grad = as32([0.5, -2, 1e-3, 0]);
    const param = tensor([1, 2, 3, 4]);
    const [m, v] = [tensor(new Float32Array(4)), tensor(new Float32Array(4))];
    ops.adamUpdate(param, gpuTensor(grad, [4]), m, v, tensor([0]), { step: 1 });
    const ref = adamRef({ param: as32([1, 2, 3, 4]), m: new Float64Array(4), v: new Float64Array(4) }, grad, kerasAdam, 1);
    expectClose(await param.data(), ref.param, "adam defaults", 1e-6);
  });

  it("splits tensors larger than one storage binding, one dispatch per chunk", async () => {
    const g = gpu();
    const limit = g.maxBindingBytes;
    g.maxBindingBytes = 4096; // 1,024 floats per binding
    try {
      await adamSteps([5000], kerasAdam, 3, 5); // last chunk 904 floats: whole vec4s
      await adamSteps([2049], kerasAdam, 3, 3); // last chunk 1 float, in the padded tail vec4
      await adamSteps([3074], kerasAdam, 2, 4); // last chunk 2 floats
      await adamSteps([4099], kerasAdam, 2, 5); // last chunk 3 floats
    } finally {
      g.maxBindingBytes = limit;
    }
  });

  it("updates every element of a large tensor in one dispatch", async () => {
    const n = 256 * 65_535 + 5; // not whole vec4s
    const [param, grad, m, v] = [ops.fill([n], 1), ops.fill([n], 0.5), ops.fill([n], 0), ops.fill([n], 0)];
    dispatches = [];
    ops.adamUpdate(param, grad, m, v, tensor([0]), { step: 1 });
    expect(updates()).toEqual(["adam"]);
    const expected = adamRef({ param: Float64Array.of(1), m: Float64Array.of(0), v: Float64Array.of(0) }, Float64Array.of(0.5), kerasAdam, 1).param[0];
    const p = await param.data();
    expectClose([p[0]], [expected], "adam folded", 1e-6);
    expect(p.every((x) => x === p[0])).toBe(true);
    for (const t of [param, grad, m, v]) t.dispose();
  });

  it("rejects a gradient of another shape", () => {
    const p = tensor(new Float32Array(6), [2, 3]);
    expect(() => ops.adamUpdate(p, tensor(new Float32Array(6), [3, 2]), tensor(new Float32Array(6), [2, 3]), tensor(new Float32Array(6), [2, 3]), tensor([0]), { step: 1 })).toThrow(
      /adamUpdate: grad \[3, 2\] does not match param .* \[2, 3\]/,
    );
  });
  it("rejects m of another shape", () => {
    const p = tensor(new Float32Array(6), [2, 3]);
    expect(() => ops.adamUpdate(p, tensor(new Float32Array(6), [2, 3]), tensor(new Float32Array(6), [6]), tensor(new Float32Array(6), [2, 3]), tensor([0]), { step: 1 })).toThrow(
      /adamUpdate: m \[6\] does not match param .* \[2, 3\]/,
    );
  });
  it("rejects v of another shape", () => {
    const p = tensor(new Float32Array(6), [2, 3]);
    expect(() => ops.adamUpdate(p, tensor(new Float32Array(6), [2, 3]), tensor(new Float32Array(6), [2, 3]), tensor(new Float32Array(3), [3]), tensor([0]), { step: 1 })).toThrow(
      /adamUpdate: v \[3\] does not match param .* \[2, 3\]/,
    );
  });
  it("rejects a status that is not one element", () => {
    const t = () => tensor(new Float32Array(2), [2]);
    expect(() => ops.adamUpdate(t(), t(), t(), t(), tensor([0, 0]), { step: 1 })).toThrow(/adamUpdate: status \[2\] must have exactly one element/);
  });
  it("rejects step 0 and non-integer steps", () => {
    const t = () => tensor(new Float32Array(2), [2]);
    expect(() => ops.adamUpdate(t(), t(), t(), t(), tensor([0]), { step: 0 })).toThrow(/adamUpdate: step must be an integer >= 1, got 0/);
    expect(() => ops.adamUpdate(t(), t(), t(), t(), tensor([0]), { step: 1.5 })).toThrow(/step must be an integer >= 1, got 1.5/);
  });

  // vec4 kernels over a few contiguous blocks: sizes not whole vec4s, smaller than a workgroup,
  // spanning every block. Checked element by element: a norm could hide one missed element.
  it.each([1, 2, 3, 5, 6, 7, 63, 4_094, 300_001, 300_002, 300_003])("updates each of %i elements as Keras", async (n) => {
    const ref0: AdamState = { param: as32(random.array(n)), m: as32(random.array(n, -0.1, 0.1)), v: as32(random.array(n, 0, 0.1)) };
    const grad = as32(random.array(n));
    const [param, m, v] = [gpuTensor(ref0.param, [n]), gpuTensor(ref0.m, [n]), gpuTensor(ref0.v, [n])];
    const g = gpuTensor(grad, [n]);
    dispatches = [];
    ops.adamUpdate(param, g, m, v, tensor([0]), { ...kerasAdam, step: 4 });
    expect(updates()).toEqual(["adam"]);
    const ref = adamRef(ref0, grad, kerasAdam, 4);
    expectEach(await m.data(), ref.m, `adam ${n} m`);
    expectEach(await v.data(), ref.v, `adam ${n} v`);
    expectEach(await param.data(), ref.param, `adam ${n} param`);
    for (const t of [param, m, v, g]) t.dispose();
  });
});

/** Every element within tol of the reference (relative to max(1, |ref|)). */
function expectEach(out: Float32Array, ref: Float64Array, what: string, tol = 1e-5): void {
  expect(out.length, what).toBe(ref.length);
  for (let i = 0; i < ref.length; i++) {
    if (!(Math.abs(out[i] - ref[i]) <= tol * Math.max(1, Math.abs(ref[i])))) {
      expect.fail(`${what}: element ${i} is ${out[i]}, expected ${ref[i]}`);
    }
  }
}

describe("sgdUpdate", () => {
  for (const momentum of [0, 0.9]) {
    it.each([1, 3, 6, 7, 300_001, 300_003])(`updates each of %i elements, momentum ${momentum}`, async (n) => {
      const [p0, v0, grad] = [as32(random.array(n)), as32(random.array(n)), as32(random.array(n))];
      const [param, velocity] = [gpuTensor(p0, [n]), gpuTensor(v0, [n])];
      const g = gpuTensor(grad, [n]);
      ops.sgdUpdate(param, g, velocity, tensor([0]), { learningRate: 0.1, momentum });
      const ref = sgdRef(p0, momentum === 0 ? new Float64Array(n) : v0, grad, Math.fround(0.1), momentum === 0 ? 0 : Math.fround(momentum));
      expectEach(await param.data(), ref.param, `sgd ${n} param`);
      // without momentum the velocity is not touched
      expectEach(await velocity.data(), momentum === 0 ? v0 : ref.velocity, `sgd ${n} velocity`);
      for (const t of [param, velocity, g]) t.dispose();
    });
  }

  for (const momentum of [0, 0.9]) {
    it.each([[[16, 33]], [[37]]])(`3 steps, momentum ${momentum}, shape %j`, async (shape) => {
      const n = numel(shape);
      let ref: { param: Float64Array; velocity: Float64Array } = { param: as32(random.array(n)), velocity: new Float64Array(n) };
      const param = gpuTensor(ref.param, shape);
      const velocity = tensor(new Float32Array(n), shape);
      const status = tensor([0]);
      const learningRate = random.uniform(0.01, 0.5);
      for (let step = 1; step <= 3; step++) {
        const grad = as32(random.array(n));
        dispatches = [];
        ops.sgdUpdate(param, gpuTensor(grad, shape), velocity, status, { learningRate, momentum });
        expect(updates()).toHaveLength(1);
        ref = sgdRef(ref.param, ref.velocity, grad, Math.fround(learningRate), momentum === 0 ? 0 : Math.fround(momentum));
        expectClose(await param.data(), ref.param, `sgd momentum ${momentum} step ${step} param`, 1e-5);
        // without momentum the velocity is not touched
        expectClose(await velocity.data(), ref.velocity, `sgd momentum ${momentum} step ${step} velocity`, 1e-5);
      }
    });
  }

  it("without momentum needs no velocity; default learning rate 0.01", async () => {
    const param = tensor([1, 2, 3]);
    ops.sgdUpdate(param, tensor([1, -1, 10]), null, tensor([0]));
    expectClose(await param.data(), [0.99, 2.01, 2.9], "sgd defaults", 1e-6);
  });

  it("splits tensors larger than one storage binding", async () => {
    const g = gpu();
    const limit = g.maxBindingBytes;
    g.maxBindingBytes = 4096;
    try {
      for (const n of [4100, 2051]) {
        const p0 = as32(random.array(n));
        const grad = as32(random.array(n));
        const param = gpuTensor(p0, [n]);
        const velocity = tensor(new Float32Array(n).fill(0.5), [n]);
        dispatches = [];
        ops.sgdUpdate(param, gpuTensor(grad, [n]), velocity, tensor([0]), { learningRate: 0.1, momentum: 0.5 });
        expect(updates()).toHaveLength(Math.ceil(n / 1024));
        const ref = sgdRef(p0, new Float64Array(n).fill(0.5), grad, Math.fround(0.1), 0.5);
        expectClose(await param.data(), ref.param, `sgd chunked ${n} param`, 1e-6);
        expectClose(await velocity.data(), ref.velocity, `sgd chunked ${n} velocity`, 1e-6);
      }
    } finally {
      g.maxBindingBytes = limit;
    }
  });

  it("rejects a velocity of another shape", () => {
    const p = tensor(new Float32Array(6), [2, 3]);
    expect(() => ops.sgdUpdate(p, tensor(new Float32Array(6), [2, 3]), tensor(new Float32Array(6), [6]), tensor([0]), { momentum: 0.9 })).toThrow(
      /sgdUpdate: velocity \[6\] does not match param .* \[2, 3\]/,
    );
  });
  it("rejects a gradient of another shape", () => {
    expect(() => ops.sgdUpdate(tensor([1, 2]), tensor([1, 2, 3]), null, tensor([0]))).toThrow(/sgdUpdate: grad \[3\] does not match param .* \[2\]/);
  });
  it("rejects momentum without a velocity", () => {
    expect(() => ops.sgdUpdate(tensor([1, 2]), tensor([1, 2]), null, tensor([0]), { momentum: 0.9 })).toThrow(/sgdUpdate: momentum 0.9 needs a velocity tensor/);
  });
});

describe("guard", () => {
  async function stepAfter(loss: number, status: Tensor): Promise<{ before: Float32Array[]; after: Float32Array[] }> {
    const shape = [8, 5];
    const n = numel(shape);
    const adamParam = gpuTensor(random.array(n), shape);
    const [m, v] = [gpuTensor(random.array(n), shape), gpuTensor(random.array(n, 0, 1), shape)];
    const sgdParam = gpuTensor(random.array(7), [7]);
    const velocity = gpuTensor(random.array(7), [7]);
    const plainParam = gpuTensor(random.array(4), [4]);
    const tensors = [adamParam, m, v, sgdParam, velocity, plainParam];
    const before = await Promise.all(tensors.map((t) => t.data()));
    // the loss is computed on the GPU and never read back
    ops.guard(ops.mean(tensor([loss, 1])), status);
    ops.adamUpdate(adamParam, gpuTensor(random.array(n), shape), m, v, status, { step: 3 });
    ops.sgdUpdate(sgdParam, gpuTensor(random.array(7), [7]), velocity, status, { momentum: 0.9 });
    ops.sgdUpdate(plainParam, gpuTensor(random.array(4), [4]), null, status);
    return { before, after: await Promise.all(tensors.map((t) => t.data())) };
  }

  it.each([NaN, Infinity, -Infinity])("a %s loss freezes every parameter and optimizer state", async (loss) => {
    const status = tensor([0]);
    const { before, after } = await stepAfter(loss, status);
    expect(await status.data()).toEqual(Float32Array.of(1));
    after.forEach((a, i) => expect(a, `tensor ${i}`).toEqual(before[i]));
  });

  it("a finite loss changes nothing in status and lets updates run", async () => {
    for (const loss of [0, 3.5, -1e30, 3e38]) {
      const status = tensor([0]);
      const { before, after } = await stepAfter(loss, status);
      expect(await status.data()).toEqual(Float32Array.of(0));
      after.forEach((a, i) => expect(a, `loss ${loss}, tensor ${i}`).not.toEqual(before[i]));
    }
  });

  it("is sticky: a later finite loss does not clear it", async () => {
    const status = tensor([0]);
    ops.guard(tensor([NaN]), status);
    ops.guard(tensor([1]), status);
    const { before, after } = await stepAfter(2, status);
    expect(await status.data()).toEqual(Float32Array.of(1));
    after.forEach((a, i) => expect(a).toEqual(before[i]));
  });

  it("rejects a loss that is not one element", () => {
    expect(() => ops.guard(tensor([1, 2]), tensor([0]))).toThrow(/guard: loss \[2\] must have exactly one element/);
  });
});
