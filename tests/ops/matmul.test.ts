import { describe, expect, it } from "vitest";
import { gpu } from "../../src/device.js";
import { initGpu, ops, tensor } from "../../src/index.node.js";
import { matmulTile } from "../../src/ops/matmul.js";
import { matmulBackwardRef, matmulRef } from "../ref/matmul.js";
import { checkOp, expectClose, kernelsUsed, numericGrad, Random, testSeed, useGpu } from "../helpers.js";

useGpu();
const random = new Random(testSeed("matmul"));

/** A size from 1 to 130; half the time a multiple of 4, so the vec4 kernels run too. */
function size(): number {
  const s = random.int(1, 130);
  return random.uniform() < 0.5 ? Math.max(4, s - (s % 4)) : s;
}

async function checkMatmul(m: number, k: number, n: number, useReference = true): Promise<void> {
  await checkOp({
    what: `matmul [${m}, ${k}]·[${k}, ${n}]`,
    inputs: [
      { values: random.array(m * k), shape: [m, k], grad: true },
      { values: random.array(k * n), shape: [k, n], grad: true },
    ],
    reference: ([a, b]) => matmulRef(a, b, m, k, n),
    referenceBackward: useReference ? ([a, b], dc) => matmulBackwardRef(a, b, dc, m, k, n) : undefined,
    op: ([a, b]) => ops.matmul(a, b),
    random,
  });
}

describe("matmul reference", () => {
  it("backward matches finite differences of the forward", () => {
    const [m, k, n] = [random.int(1, 5), random.int(1, 6), random.int(1, 5)];
    const a = random.array(m * k);
    const b = random.array(k * n);
    const dc = random.array(m * n);
    const [da, db] = matmulBackwardRef(a, b, dc, m, k, n);
    expectClose(da, numericGrad((x) => matmulRef(x, b, m, k, n), a, dc), "reference dA");
    expectClose(db, numericGrad((x) => matmulRef(a, x, m, k, n), b, dc), "reference dB");
  });
});

describe("matmul", () => {
  it.each([0, 1, 2, 3, 4, 5])("random shape %i, forward and both gradients", async () => {
    await checkMatmul(size(), size(), size());
  });
  it.each([
    [1, 1, 1],
    [1, 7, 1],
    [1, 128, 64], // batch 1, vec4 kernels
    [97, 1, 3], // one inner unit
    [13, 67, 101], // primes
    [128, 96, 64], // every vec4 kernel
    [130, 130, 130],
  ])("[%i, %i]·[%i, …]", async (m, k, n) => {
    await checkMatmul(m, k, n);
  });
  it("gradients match finite differences on a tiny case", async () => {
    await checkMatmul(3, 5, 2, false);
    await checkMatmul(4, 8, 4, false); // vec4 kernels
  });
  it("covers more than 65,535 workgroups in a dimension by splitting C into blocks", async () => {
    const { rows, cols } = matmulTile();
    const max = gpu().maxWorkgroupsPerDimension;
    // rows: forward and both gradients (dB's inner dimension is the long one)
    const m = max * rows + 5;
    await checkMatmul(m, 3, 2);
    // columns, forward only
    const n = max * cols + 6;
    const a = random.array(2);
    const b = random.array(2 * n);
    const c = ops.matmul(tensor(Float32Array.from(a), [1, 2]), tensor(Float32Array.from(b), [2, n]));
    const a32 = Float64Array.from(Float32Array.from(a));
    const b32 = Float64Array.from(Float32Array.from(b));
    expectClose(await c.data(), matmulRef(a32, b32, 1, 2, n), "matmul wide");
  });
});

// The plain kernels (SwiftShader, GPUs) compute 8x8 blocks: rows past m and a column or row
// group of 4 past n or m repeat the last ones, which the shapes below reach (sizes off 8 by 4,
// odd sizes, one row), with bias, relu and accumulated K chunks.
describe("plain kernels (8x8 blocks, as where subgroups are absent)", () => {
  async function plain(fn: () => Promise<void>): Promise<string[]> {
    const g = gpu();
    const subgroups = g.subgroupKernels;
    g.subgroupKernels = false;
    try {
      return await kernelsUsed(fn);
    } finally {
      g.subgroupKernels = subgroups;
    }
  }
  it.each([
    [5, 12, 20],
    [12, 16, 36], // n off 8 by 4: a repeated column group
    [20, 24, 44], // m and n off 8 by 4: a repeated row group in dB = Aᵀ·dC
    [64, 40, 72],
    [1, 8, 4],
    [36, 8, 12],
    [13, 67, 101],
  ])("[%i, %i]·[%i, …] forward and both gradients", async (m, k, n) => {
    const used = await plain(() => checkMatmul(m, k, n));
    expect(used.filter((kernel) => kernel.startsWith("matmul_sg"))).toEqual([]);
    if (m % 4 === 0 && n % 4 === 0 && k % 4 === 0) expect(used).toEqual(expect.arrayContaining(["matmul_nn", "matmul_nt", "matmul_tn"]));
  });
  it("K chunks accumulate (old C read before the repeated groups store it again)", async () => {
    const g = gpu();
    const limit = g.maxBindingBytes;
    g.maxBindingBytes = 40_960; // 10,240 floats per binding: b [640, 44] takes 3 K chunks
    try {
      const used = await plain(() => checkMatmul(20, 640, 44));
      expect(used).toContain("matmul_nn");
      // dB = Aᵀ·dC over K = 2000 rows of a [2000, 12] (3 chunks): matmul_tn accumulates, its
      // second row group (rows 8-11 of 12) and column group (16-19 of 20) repeating the first
      expect(await plain(() => checkMatmul(2000, 12, 20))).toContain("matmul_tn");
    } finally {
      g.maxBindingBytes = limit;
    }
  });
});

// The subgroup kernels (shaders/matmul-subgroup.ts) run where subgroups are 8 lanes wide (lavapipe);
// shapes with m, k and n multiples of 8 send the forward pass and both gradients through them.
await initGpu();
const subgroups = gpu().subgroupKernels;
describe.skipIf(!subgroups)("subgroup kernels (skipped where subgroups are not 8 lanes wide)", () => {
  it.each([
    [8, 8, 8],
    [40, 24, 136], // partial row teams and column workgroups
    [24, 200, 264],
    [72, 48, 8], // three row teams of 32 (the last partial)
    [1, 16, 4], // one row: dB = Aᵀ·dC has k = 1, not a multiple of 8, so it falls back
  ])("[%i, %i]·[%i, …] forward and both gradients", async (m, k, n) => {
    const used = await kernelsUsed(() => checkMatmul(m, k, n));
    const ran = (layout: string) => used.some((kernel) => new RegExp(`^matmul_sg(8|16|32)_${layout}$`).test(kernel));
    expect(ran("nn")).toBe(true);
    if (m % 8 === 0) expect(ran("nt") && ran("tn")).toBe(true);
  });
  it("match the plain kernels on the same inputs", async () => {
    const [m, k, n] = [48, 72, 132];
    const a = tensor(Float32Array.from(random.array(m * k)), [m, k]);
    const b = tensor(Float32Array.from(random.array(k * n)), [k, n]);
    const shared = await ops.matmul(a, b).data();
    gpu().subgroupKernels = false;
    try {
      const used = await kernelsUsed(async () => void (await ops.matmul(a, b).data()));
      expect(used).toContain("matmul_nn");
      expect(used.filter((kernel) => kernel.startsWith("matmul_sg"))).toEqual([]);
      expectClose(await ops.matmul(a, b).data(), Float64Array.from(shared), "plain vs subgroup");
    } finally {
      gpu().subgroupKernels = true;
    }
  });
  it("start K chunks that the plain kernel accumulates into, with bias and relu in the epilogue", async () => {
    const g = gpu();
    const limit = g.maxBindingBytes;
    g.maxBindingBytes = 40_960;
    try {
      const used = await kernelsUsed(() => checkMatmul(16, 640, 64)); // b: 40,960 floats, 4 K chunks
      // the first chunk overwrites C on the subgroup kernel, the later ones add to it
      expect(used).toEqual(expect.arrayContaining(["matmul_sg16_nn", "matmul_nn"]));
    } finally {
      g.maxBindingBytes = limit;
    }
  });
  it("split K into slices when C has few blocks (partial sums added by matmul_reduce)", async () => {
    const used = await kernelsUsed(() => checkMatmul(8, 4096, 128));
    expect(used).toEqual(expect.arrayContaining(["matmul_sg8_nn", "matmul_reduce"]));
    const odd = await kernelsUsed(() => checkMatmul(20, 2056, 36)); // last slice shorter
    expect(odd).toContain("matmul_reduce");
  });
  it("split K on the plain kernels too (matmul_nn computes the slices where subgroups are absent)", async () => {
    const g = gpu();
    const limit = g.maxBindingBytes;
    g.subgroupKernels = false;
    try {
      const used = await kernelsUsed(() => checkMatmul(8, 4096, 128));
      expect(used).toEqual(expect.arrayContaining(["matmul_nn", "matmul_reduce"]));
      expect(await kernelsUsed(() => checkMatmul(20, 2056, 36))).toContain("matmul_reduce"); // last slice shorter
      g.maxBindingBytes = 262_144; // K blocks of at most 1,024 rows of b
      expect(await kernelsUsed(() => checkMatmul(4, 4096, 64))).toContain("matmul_reduce");
    } finally {
      g.subgroupKernels = true;
      g.maxBindingBytes = limit;
    }
  });
  it("split K within binding-sized K blocks", async () => {
    const g = gpu();
    const limit = g.maxBindingBytes;
    g.maxBindingBytes = 262_144; // b [4096, 64]: 1 MiB, bound in K blocks of at most 1,024 rows
    try {
      const used = await kernelsUsed(() => checkMatmul(4, 4096, 64));
      expect(used).toContain("matmul_reduce");
    } finally {
      g.maxBindingBytes = limit;
    }
  });
});

describe("chunked bindings", () => {
  // 10,240 floats per binding: large operands are bound in blocks
  async function withSmallBindings(fn: () => Promise<void>): Promise<void> {
    const g = gpu();
    const limit = g.maxBindingBytes;
    g.maxBindingBytes = 40_960;
    try {
      await fn();
    } finally {
      g.maxBindingBytes = limit;
    }
  }
  it("splits b along K (forward accumulates; dA by columns, dB by rows)", async () => {
    await withSmallBindings(async () => {
      await checkMatmul(5, 300, 64); // b: 19,200 floats, vec4 kernels
      await checkMatmul(7, 301, 37); // scalar kernel, unaligned offsets
    });
  });
  it("splits a along M (dA by rows; dB accumulates over M)", async () => {
    await withSmallBindings(async () => {
      await checkMatmul(200, 96, 8); // a: 19,200 floats
      await checkMatmul(203, 51, 3);
    });
  });
});

describe("bad input", () => {
  it("rejects operands that are not 2-D", () => {
    expect(() => ops.matmul(tensor(new Float32Array(24), [2, 3, 4]), tensor(new Float32Array(8), [4, 2]))).toThrow(
      /matmul: a \[2, 3, 4\] must be a 2-D matrix/,
    );
  });
  it("rejects mismatched inner dimensions", () => {
    expect(() => ops.matmul(tensor(new Float32Array(6), [2, 3]), tensor(new Float32Array(8), [4, 2]))).toThrow(
      /matmul: inner dimensions differ: a \[2, 3\] · b \[4, 2\]; expected b \[3, N\]/,
    );
  });
  it("rejects zero-sized matrices", () => {
    expect(() => ops.matmul(tensor(new Float32Array(0), [0, 3]), tensor(new Float32Array(6), [3, 2]))).toThrow(/matmul: a \[0, 3\] has a zero-sized dimension/);
  });
});
