// relu keeps NaN, as TensorFlow's and tf.js' do (WGSL's max(NaN, 0) is 0), and a NaN wins its
// max-pooling window: a NaN inside the network then reaches the loss, whose guard stops training,
// instead of becoming a silent 0. Every kernel that applies relu or pools runs here on a NaN.
import { describe, expect, it } from "vitest";
import { gpu } from "../../src/device.js";
import { initGpu, ops, tensor } from "../../src/index.node.js";
import { conv2dRef, type ConvCase } from "../ref/conv2d.js";
import { maxPoolRef, type PoolRefSpec } from "../ref/maxpool2d.js";
import { denseRef } from "../ref/matmul.js";
import { expectClose, kernelsUsed, Random, testSeed, useGpu } from "../helpers.js";

useGpu();
const random = new Random(testSeed("nan"));
await initGpu();
const subgroups = gpu().subgroupKernels;

/** out holds NaN exactly where ref does, and matches it elsewhere. */
function expectSameNaN(out: Float32Array, ref: Float64Array, what: string): void {
  const nanAt = (a: ArrayLike<number>) => Array.from(a, (v, i) => (Number.isNaN(v) ? i : -1)).filter((i) => i >= 0);
  expect(nanAt(ref).length, `${what}: the reference holds NaN`).toBeGreaterThan(0);
  expect(nanAt(out), `${what}: NaN positions`).toEqual(nanAt(ref));
  const finite = (a: ArrayLike<number>) => Array.from(a).filter((v) => !Number.isNaN(v));
  expectClose(finite(out), finite(ref), what);
}

async function withPlainKernels<T>(fn: () => Promise<T>): Promise<T> {
  gpu().subgroupKernels = false;
  try {
    return await fn();
  } finally {
    gpu().subgroupKernels = subgroups;
  }
}

/** conv2d with relu on x holding one NaN pixel (all its channels), against the reference. */
async function convWithNaN(c: ConvCase): Promise<void> {
  const xs = random.array(c.batch * c.inH * c.inW * c.inC);
  const at = ((c.batch - 1) * c.inH * c.inW + Math.floor(c.inH / 2) * c.inW + Math.floor(c.inW / 2)) * c.inC;
  for (let ch = 0; ch < c.inC; ch++) xs[at + ch] = NaN;
  const ws = random.array(c.kh * c.kw * c.inC * c.outC);
  const bs = random.array(c.outC, -0.2, 0.2);
  const y = ops.conv2d(tensor(Float32Array.from(xs), [c.batch, c.inH, c.inW, c.inC]), tensor(Float32Array.from(ws), [c.kh, c.kw, c.inC, c.outC]), tensor(Float32Array.from(bs), [c.outC]), {
    strides: c.strides,
    padding: c.padding,
    activation: "relu",
  });
  const x64 = Float64Array.from(Float32Array.from(xs));
  expectSameNaN(await y.data(), conv2dRef({ ...c, relu: true }, x64, Float64Array.from(Float32Array.from(ws)), Float64Array.from(Float32Array.from(bs))), `conv2d ${JSON.stringify(c)}`);
}

const conv = (batch: number, inH: number, inW: number, inC: number, outC: number, k = 3, padding: "valid" | "same" = "valid", stride = 1): ConvCase => ({
  batch,
  inH,
  inW,
  inC,
  kh: k,
  kw: k,
  outC,
  strides: [stride, stride],
  padding,
  relu: true,
});

describe("relu keeps NaN", () => {
  it("relu and bias + relu", async () => {
    expect(Array.from(await ops.relu(tensor([NaN, -1, 2, -0.5, 3])).data())).toEqual([NaN, 0, 2, 0, 3]);
    const y = ops.biasAdd(tensor([NaN, -1, 2, 1, -4, NaN], [2, 3]), tensor([1, 0.5, -1]), "relu");
    expect(Array.from(await y.data())).toEqual([NaN, 0, 1, 2, 0, NaN]);
  });

  it("dense with relu, on every matmul kernel", async () => {
    const check = async (m: number, k: number, n: number) => {
      const xs = random.array(m * k);
      xs[k + 1] = NaN; // row 1
      const ws = random.array(k * n);
      const bs = random.array(n);
      const y = ops.dense(tensor(Float32Array.from(xs), [m, k]), tensor(Float32Array.from(ws), [k, n]), tensor(Float32Array.from(bs), [n]), "relu");
      const f64 = (a: Float64Array) => Float64Array.from(Float32Array.from(a));
      expectSameNaN(await y.data(), denseRef(f64(xs), f64(ws), f64(bs), m, k, n, true), `dense [${m}, ${k}]·[${k}, ${n}]`);
    };
    const sizes: [number, number, number][] = [
      [8, 16, 12], // vec4 kernels
      [5, 7, 3], // the scalar kernel
      [16, 4096, 12], // split K: matmul_reduce applies the epilogue
    ];
    const used = await kernelsUsed(async () => {
      for (const s of sizes) await check(...s);
    });
    const plain = await withPlainKernels(() =>
      kernelsUsed(async () => {
        for (const s of sizes) await check(...s);
      }),
    );
    expect(plain).toEqual(expect.arrayContaining(["matmul_nn", "matmul_strided", "matmul_reduce"]));
    if (subgroups) expect(used).toEqual(expect.arrayContaining(["matmul_sg8_nn", "matmul_sg16_nn", "matmul_strided", "matmul_reduce"]));
  });

  it("conv2d with relu, on the plain kernels (as where subgroups are absent)", async () => {
    const cases = [conv(2, 7, 9, 4, 8), conv(1, 9, 12, 1, 8), conv(2, 6, 20, 2, 8, 5, "same"), conv(1, 6, 7, 3, 5, 3, "same"), conv(1, 7, 7, 2, 8, 3, "valid", 2)];
    const used = await withPlainKernels(() =>
      kernelsUsed(async () => {
        for (const c of cases) await convWithNaN(c);
      }),
    );
    // im2col's product (the matmul epilogue), rows of 8, sliding strips, short strips, 4x4 tiles
    expect(used).toEqual(expect.arrayContaining(["conv2d_im2col", "matmul_nn", "conv2d_fwd_row8", "conv2d_fwd_slide", "conv2d_fwd_vec4", "conv2d_fwd"]));
  });

  it.skipIf(!subgroups)("conv2d with relu, on the subgroup teams (skipped where subgroups are not 8 lanes wide)", async () => {
    const cases = [conv(1, 10, 12, 1, 8), conv(1, 10, 12, 3, 32, 3, "same"), conv(1, 6, 18, 2, 8), conv(1, 7, 9, 16, 8, 5, "same")];
    const used = await kernelsUsed(async () => {
      for (const c of cases) await convWithNaN(c);
    });
    expect(used).toEqual(expect.arrayContaining(["conv2d_fwd_img1", "conv2d_fwd_img3", "conv2d_fwd_sg3", "conv2d_fwd_gemm"]));
  });

  it("max pooling: a NaN wins its windows, on every forward kernel", async () => {
    const specs: PoolRefSpec[] = [
      { shape: [2, 6, 8, 4], pool: [2, 2], strides: [2, 2], padding: "valid" }, // the 2x2 block kernels
      { shape: [1, 7, 7, 8], pool: [3, 3], strides: [2, 2], padding: "same" }, // vec4
      { shape: [1, 5, 6, 3], pool: [2, 2], strides: [1, 1], padding: "valid" }, // scalar
    ];
    const used: string[] = [];
    for (const spec of specs) {
      for (const grad of [false, true]) {
        const xs = random.array(spec.shape.reduce((a, b) => a * b));
        const [, h, w, c] = spec.shape;
        const at = (Math.floor(h / 2) * w + Math.floor(w / 2)) * c + (c - 1); // image 0, last channel
        xs[at] = NaN;
        const x = tensor(Float32Array.from(xs), spec.shape);
        x.requiresGrad = grad; // the 2x2 kernels skip their winners when no gradient is wanted
        used.push(
          ...(await kernelsUsed(async () => {
            const y = await ops.maxPool2d(x, { poolSize: spec.pool, strides: spec.strides, padding: spec.padding }).data();
            // the reference with +Infinity in the NaN's place: the windows it wins are the NaN's
            const inf = Float64Array.from(Float32Array.from(xs));
            inf[at] = Infinity;
            const ref = maxPoolRef(inf, spec).y.map((v) => (v === Infinity ? NaN : v));
            expectSameNaN(y, ref, `maxPool2d ${JSON.stringify(spec)}${grad ? " with winners" : ""}`);
          })),
        );
      }
    }
    expect(used).toEqual(expect.arrayContaining(["maxpool2d_fwd_vec4_2x2", "maxpool2d_fwd_vec4_2x2_max", "maxpool2d_fwd_vec4", "maxpool2d_fwd"]));
  });
});
