import { describe, expect, it } from "vitest";
import { gpu } from "../../src/device.js";
import { backward, ops, tensor } from "../../src/index.node.js";
import { sizeClass } from "../../src/pool.js";
import { maxPoolBackwardRef, maxPoolRef, maxPoolRefShape, type PoolRefSpec } from "../ref/maxpool2d.js";
import { checkOp, expectClose, numel, numericGrad, Random, testSeed, useGpu } from "../helpers.js";

useGpu();
const random = new Random(testSeed("maxpool2d"));

/** Distinct values a fixed step apart, shuffled: no ties and no near-ties for finite differences. */
function tieFree(n: number): Float64Array {
  const out = Float64Array.from({ length: n }, (_, i) => -1 + (2 * (i + 0.5)) / n);
  for (let i = n - 1; i > 0; i--) {
    const j = random.int(0, i);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

const describeSpec = (s: PoolRefSpec) => `x ${JSON.stringify(s.shape)} pool ${s.pool} strides ${s.strides} ${s.padding}`;

/** GPU forward and backward against the float64 reference. */
async function checkPool(s: PoolRefSpec, values = random.array(numel(s.shape))): Promise<void> {
  await checkOp({
    what: `maxPool2d ${describeSpec(s)}`,
    inputs: [{ values, shape: s.shape, grad: true }],
    reference: ([x]) => maxPoolRef(x, s).y,
    referenceBackward: ([x], dy) => [maxPoolBackwardRef(x, dy, s)],
    op: ([x]) => ops.maxPool2d(x, { poolSize: s.pool, strides: s.strides, padding: s.padding }),
    random,
  });
}

function randomSpec(): PoolRefSpec {
  const pool: [number, number] = [random.int(1, 4), random.int(1, 4)];
  const strides: [number, number] = [random.int(1, 3), random.int(1, 3)];
  const padding = random.pick(["valid", "same"] as const);
  const shape: [number, number, number, number] = [
    random.int(1, 3),
    random.int(pool[0], 13),
    random.int(pool[1], 13),
    random.pick([1, 2, 3, 4, 5, 8, 12]),
  ];
  return { shape, pool, strides, padding };
}

describe("maxPool2d forward and backward vs the float64 reference", () => {
  it.each<[string, PoolRefSpec]>([
    ["odd sizes, valid drops the last row and column", { shape: [2, 7, 9, 3], pool: [2, 2], strides: [2, 2], padding: "valid" }],
    ["odd sizes, same pads", { shape: [2, 7, 9, 3], pool: [2, 2], strides: [2, 2], padding: "same" }],
    ["even sizes, same, pool 3 stride 2", { shape: [1, 8, 6, 4], pool: [3, 3], strides: [2, 2], padding: "same" }],
    ["odd sizes, same, pool 3 stride 2 (vec4)", { shape: [2, 9, 7, 8], pool: [3, 3], strides: [2, 2], padding: "same" }],
    ["overlapping windows, stride 1, valid", { shape: [2, 6, 7, 5], pool: [3, 3], strides: [1, 1], padding: "valid" }],
    ["overlapping windows, stride 1, same (vec4)", { shape: [1, 6, 5, 4], pool: [3, 2], strides: [1, 1], padding: "same" }],
    ["stride 3 leaves gaps between windows", { shape: [2, 11, 10, 4], pool: [2, 2], strides: [3, 3], padding: "valid" }],
    ["stride 3, same", { shape: [1, 10, 11, 3], pool: [2, 3], strides: [3, 3], padding: "same" }],
    ["stride 2, same (vec4)", { shape: [2, 7, 9, 8], pool: [2, 2], strides: [2, 2], padding: "same" }],
    ["non-square pool and strides", { shape: [2, 9, 12, 6], pool: [2, 3], strides: [1, 2], padding: "valid" }],
    ["batch 1, one channel", { shape: [1, 5, 5, 1], pool: [2, 2], strides: [2, 2], padding: "same" }],
    ["pool as large as the input", { shape: [3, 4, 5, 2], pool: [4, 5], strides: [1, 1], padding: "valid" }],
    ["pool larger than the input with same", { shape: [2, 2, 3, 4], pool: [4, 4], strides: [2, 2], padding: "same" }],
    ["1x1 pool, stride 2", { shape: [2, 5, 6, 7], pool: [1, 1], strides: [2, 2], padding: "valid" }],
  ])("%s", async (_, s) => {
    await checkPool(s);
  });

  it.each(Array.from({ length: 8 }, (_, i) => i))("random shape %i", async () => {
    await checkPool(randomSpec());
  });

  it("defaults: pool 2x2, strides = pool, valid", async () => {
    const s: PoolRefSpec = { shape: [2, 7, 6, 4], pool: [2, 2], strides: [2, 2], padding: "valid" };
    const x = tensor(Float32Array.from(random.array(numel(s.shape))), s.shape);
    const y = ops.maxPool2d(x);
    expect(y.shape).toEqual([2, 3, 3, 4]);
    expectClose(await y.data(), maxPoolRef(Float64Array.from(await x.data()), s).y, "default maxPool2d");
  });

  it("folds dispatches past the per-dimension workgroup limit", async () => {
    const g = gpu();
    // pretend the adapter allows 5 workgroups per dimension: 6 to 25 groups of 256 fold into 2-D
    // (the NaN poisoning fills, one invocation per element, must stay within 25 groups)
    Object.defineProperty(g, "maxWorkgroupsPerDimension", { value: 5, configurable: true });
    try {
      await checkPool({ shape: [2, 12, 12, 5], pool: [2, 2], strides: [1, 1], padding: "same" }); // 1440 invocations each way
      await checkPool({ shape: [2, 6, 12, 40], pool: [2, 2], strides: [1, 1], padding: "same" }); // vec4: 1440 invocations each way
    } finally {
      delete (g as { maxWorkgroupsPerDimension?: number }).maxWorkgroupsPerDimension;
    }
    expect(g.maxWorkgroupsPerDimension).toBeGreaterThan(3);
  });
});

describe("maxPool2d 2x2 stride 2 (straight-line kernels)", () => {
  /** The pooling kernels that `run` dispatches. */
  async function poolKernels(run: () => Promise<void>): Promise<string[]> {
    const g = gpu();
    const dispatch = g.dispatch;
    const kernels: string[] = [];
    g.dispatch = (kernel, ...rest) => {
      if (kernel.startsWith("maxpool2d")) kernels.push(kernel);
      return dispatch.call(g, kernel, ...rest);
    };
    try {
      await run();
    } finally {
      g.dispatch = dispatch;
    }
    return kernels;
  }
  /** The pooling kernels one forward and backward of `s` dispatch. */
  const kernelsFor = (s: PoolRefSpec): Promise<string[]> => poolKernels(() => checkPool(s));
  const pool2 = { pool: [2, 2] as [number, number], strides: [2, 2] as [number, number] };

  it("windows that tile the image: both directions straight-line", async () => {
    const shape: [number, number, number, number] = [random.int(1, 3), 2 * random.int(1, 7), 2 * random.int(1, 7), 4 * random.int(1, 5)];
    expect(await kernelsFor({ shape, ...pool2, padding: random.pick(["valid", "same"] as const) })).toEqual(["maxpool2d_fwd_vec4_2x2", "maxpool2d_bwd_tile_vec4_2x2"]);
  });

  it("odd sizes, valid: the forward straight-line, the backward also clears the left-out edge", async () => {
    const shape: [number, number, number, number] = [random.int(1, 3), 2 * random.int(1, 6) + 1, 2 * random.int(1, 6) + random.int(0, 1), 4 * random.int(1, 3)];
    expect(await kernelsFor({ shape, ...pool2, padding: "valid" })).toEqual(["maxpool2d_fwd_vec4_2x2", "maxpool2d_bwd_tile_vec4"]);
  });

  it("odd sizes, same: padded windows take the general kernels", async () => {
    const shape: [number, number, number, number] = [random.int(1, 2), 2 * random.int(1, 6) + 1, 2 * random.int(1, 6), 8];
    expect(await kernelsFor({ shape, ...pool2, padding: "same" })).toEqual(["maxpool2d_fwd_vec4", "maxpool2d_bwd_tile_vec4"]);
  });

  it("an input that needs no gradient gets the maxima only", async () => {
    const s: PoolRefSpec = { shape: [random.int(1, 3), 2 * random.int(1, 7), 2 * random.int(1, 7) + 1, 4 * random.int(1, 4)], ...pool2, padding: "valid" };
    const x = tensor(Float32Array.from(random.array(numel(s.shape))), s.shape);
    try {
      const kernels = await poolKernels(async () => {
        const y = ops.maxPool2d(x, { poolSize: 2 });
        expectClose(await y.data(), maxPoolRef(Float64Array.from(await x.data()), s).y, `maxPool2d ${describeSpec(s)} without gradient`);
        y.dispose();
      });
      expect(kernels).toEqual(["maxpool2d_fwd_vec4_2x2_max"]);
    } finally {
      x.dispose();
    }
  });

  it("walks blocks in at most the per-dimension limit of workgroups", async () => {
    const g = gpu();
    const dispatch = g.dispatch;
    const groups: number[] = [];
    // 4 * 13 * 13 * 4 = 2,704 outputs (groups of 4 channels) each way would take 6 workgroups of
    // 2,048 input vec4s; pretend the adapter allows 5
    Object.defineProperty(g, "maxWorkgroupsPerDimension", { value: 5, configurable: true });
    g.dispatch = (kernel, bindings, p, workgroups) => {
      if (kernel.endsWith("_2x2")) groups.push(...workgroups.map((n) => n ?? 1));
      return dispatch.call(g, kernel, bindings, p, workgroups);
    };
    try {
      await checkPool({ shape: [4, 26, 26, 16], ...pool2, padding: "valid" });
    } finally {
      delete (g as { maxWorkgroupsPerDimension?: number }).maxWorkgroupsPerDimension;
      g.dispatch = dispatch;
    }
    expect(groups).toEqual([5, 5]);
  });
});

describe("maxPool2d gradients vs finite differences", () => {
  it.each<[string, PoolRefSpec]>([
    ["valid, stride 2", { shape: [2, 5, 5, 3], pool: [2, 2], strides: [2, 2], padding: "valid" }],
    ["overlapping, same", { shape: [1, 5, 4, 4], pool: [3, 3], strides: [1, 1], padding: "same" }],
    ["non-square, stride 3, same", { shape: [2, 7, 5, 2], pool: [2, 3], strides: [3, 2], padding: "same" }],
  ])("float64 reference backward, %s", (_, s) => {
    const x = tieFree(numel(s.shape));
    const dy = random.array(numel(maxPoolRefShape(s)));
    expectClose(maxPoolBackwardRef(x, dy, s), numericGrad((v) => maxPoolRef(v, s).y, x, dy), `reference backward ${describeSpec(s)}`, 1e-6);
  });

  it.each<[string, PoolRefSpec]>([
    ["overlapping windows, same padding, odd C", { shape: [2, 5, 4, 3], pool: [3, 2], strides: [1, 2], padding: "same" }],
    ["valid, vec4 channels", { shape: [1, 5, 6, 4], pool: [2, 2], strides: [2, 2], padding: "valid" }],
  ])("GPU gradient, %s", async (_, s) => {
    await checkOp({
      what: `maxPool2d FD ${describeSpec(s)}`,
      inputs: [{ values: tieFree(numel(s.shape)), shape: s.shape, grad: true }],
      reference: ([x]) => maxPoolRef(x, s).y,
      op: ([x]) => ops.maxPool2d(x, { poolSize: s.pool, strides: s.strides, padding: s.padding }),
      random,
    });
  });
});

describe("maxPool2d ties", () => {
  it.each([1, 4])("equal values in a window send the gradient to the first (C=%i)", async (channels) => {
    // one 4x4 image per channel, every channel the same: windows of 2x2, stride 1 and 2
    const image = [
      [5, 5, 1, 7],
      [5, 2, 7, 7],
      [3, 3, 0, 0],
      [3, 3, 0, 0],
    ];
    const values = image.flat().flatMap((v) => Array<number>(channels).fill(v));
    for (const stride of [2, 1]) {
      const x = tensor(values, [1, 4, 4, channels]);
      x.requiresGrad = true;
      const y = ops.maxPool2d(x, { poolSize: 2, strides: stride });
      const dy = Float32Array.from({ length: y.size }, (_, i) => 1 + Math.floor(i / channels));
      backward(y, tensor(dy, y.shape));
      const dx = Array.from(await x.grad!.data());
      // the winner of each window: its first equal maximum (rows first, then columns)
      const expected = new Array<number>(16 * channels).fill(0);
      const s: PoolRefSpec = { shape: [1, 4, 4, channels], pool: [2, 2], strides: [stride, stride], padding: "valid" };
      const { y: yRef, argmax } = maxPoolRef(Float64Array.from(values), s);
      argmax.forEach((at, o) => (expected[at] += dy[o]));
      expect(Array.from(await y.data())).toEqual(Array.from(yRef));
      expect(dx).toEqual(expected);
      if (stride === 2) {
        // written out: the windows' first maxima are 5 at (0,0), 7 at (0,3), 3 at (2,0), 0 at (2,2)
        const firstChannel = dx.filter((_, i) => i % channels === 0);
        expect(firstChannel).toEqual([1, 0, 0, 2, 0, 0, 0, 0, 3, 0, 4, 0, 0, 0, 0, 0]);
      }
      x.dispose();
    }
  });
});

describe("maxPool2d chunked bindings", () => {
  it.each<[string, PoolRefSpec, number]>([
    // 256 floats per image: 2 images per 2 KiB binding, 3 chunks
    ["vec4 channels", { shape: [5, 8, 8, 4], pool: [2, 2], strides: [2, 2], padding: "valid" }, 2048],
    // 64 floats per image, output images of 16 floats: chunks of 4 keep output offsets aligned
    ["one channel, same", { shape: [6, 8, 8, 1], pool: [2, 2], strides: [2, 2], padding: "same" }, 1024],
    // overlapping windows: output as large as the input
    // overlapping windows, output as large as the input; 192-byte images align every 4 images
    ["overlapping, odd C", { shape: [7, 4, 4, 3], pool: [3, 3], strides: [1, 1], padding: "same" }, 800],
  ])("splits over the batch: %s", async (_, s, limitBytes) => {
    const g = gpu();
    const limit = g.maxBindingBytes;
    const dispatch = g.dispatch;
    const kernels: string[] = [];
    g.maxBindingBytes = limitBytes;
    g.dispatch = (kernel, ...rest) => {
      if (kernel.startsWith("maxpool2d")) kernels.push(kernel);
      return dispatch.call(g, kernel, ...rest);
    };
    try {
      await checkPool(s);
    } finally {
      g.maxBindingBytes = limit;
      g.dispatch = dispatch;
    }
    const forward = kernels.filter((k) => k.includes("fwd")).length;
    expect(forward, `forward dispatches ${kernels}`).toBeGreaterThan(1);
    expect(kernels.length).toBe(2 * forward);
  });
});

describe("maxPool2d argmax lifetime", () => {
  it("keeps the winners only when a gradient will need them", async () => {
    const shape = [2, 16, 16, 8];
    const pool = gpu().pool;
    const outBytes = sizeClass(numel([2, 8, 8, 8]) * 4);
    const x = tensor(Float32Array.from(random.array(numel(shape))), shape);
    void x.buffer; // upload now, so only the op's own buffers count
    let before = pool.bytesInUse;
    const y = ops.maxPool2d(x);
    expect(pool.bytesInUse - before).toBe(outBytes);
    x.requiresGrad = true;
    before = pool.bytesInUse;
    const yg = ops.maxPool2d(x);
    expect(pool.bytesInUse - before).toBe(2 * outBytes);
    yg.dispose();
    y.dispose();
    x.dispose();
  });
});

describe("maxPool2d shapes and errors", () => {
  it("output shapes follow Keras", () => {
    expect(ops.maxPool2dOutputShape([1, 7, 7, 3])).toEqual([1, 3, 3, 3]);
    expect(ops.maxPool2dOutputShape([1, 7, 7, 3], 2, 2, "same")).toEqual([1, 4, 4, 3]);
    expect(ops.maxPool2dOutputShape([32, 222, 222, 32], 2)).toEqual([32, 111, 111, 32]);
    expect(ops.maxPool2dOutputShape([2, 10, 9, 1], [3, 2], [1, 3], "valid")).toEqual([2, 8, 3, 1]);
    expect(ops.maxPool2dOutputShape([2, 10, 9, 1], [3, 2], [1, 3], "same")).toEqual([2, 10, 3, 1]);
    expect(ops.maxPool2dOutputShape([1, 1, 1, 1], 3, 1, "same")).toEqual([1, 1, 1, 1]);
  });
  const x = () => tensor(new Float32Array(2 * 5 * 5 * 3), [2, 5, 5, 3]);
  it("rejects an input that is not rank 4", () => {
    expect(() => ops.maxPool2d(tensor(new Float32Array(75), [5, 5, 3]))).toThrow(/maxPool2d: expects an NHWC input .* got \[5, 5, 3\] \(rank 3\)/);
  });
  it("rejects an empty input", () => {
    expect(() => ops.maxPool2dOutputShape([2, 0, 5, 3])).toThrow(/maxPool2d: input \[2, 0, 5, 3\] has a zero or negative size/);
  });
  it("rejects a zero pool size", () => {
    expect(() => ops.maxPool2d(x(), { poolSize: [0, 2] })).toThrow(/maxPool2d: poolSize must be a positive integer .* got \[0,2\]/);
  });
  it("rejects a negative stride", () => {
    expect(() => ops.maxPool2d(x(), { strides: -1 })).toThrow(/maxPool2d: strides must be a positive integer .* got -1/);
  });
  it("rejects a fractional pool size", () => {
    expect(() => ops.maxPool2d(x(), { poolSize: 1.5 })).toThrow(/maxPool2d: poolSize must be a positive integer/);
  });
  it("rejects a pool larger than the input with valid padding", () => {
    expect(() => ops.maxPool2d(x(), { poolSize: [6, 2] })).toThrow(/maxPool2d: pool \[6, 2\] is larger than input \[2, 5, 5, 3\]/);
  });
  it("rejects an unknown padding", () => {
    expect(() => ops.maxPool2d(x(), { padding: "full" as "same" })).toThrow(/maxPool2d: padding must be "valid" or "same", got "full"/);
  });
});
