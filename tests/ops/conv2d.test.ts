import { describe, expect, it } from "vitest";
import { gpu } from "../../src/device.js";
import { initGpu, ops, tensor } from "../../src/index.node.js";
import { conv2dBackwardRef, conv2dRef, convSizes, type ConvCase } from "../ref/conv2d.js";
import { im2colLimits } from "../../src/ops/conv2d-im2col.js";
import { checkOp, expectClose, numericGrad, Random, testSeed, useGpu } from "../helpers.js";

useGpu();
const random = new Random(testSeed("conv2d"));
// the filter gradient's subgroup kernel runs where subgroups are 8 lanes wide (lavapipe)
await initGpu();
const subgroupKernels = gpu().subgroupKernels;

const shapes = (c: ConvCase) => ({
  x: [c.batch, c.inH, c.inW, c.inC],
  w: [c.kh, c.kw, c.inC, c.outC],
});

const describeCase = (c: ConvCase, bias: boolean) =>
  `conv2d x${JSON.stringify(shapes(c).x)} w${JSON.stringify(shapes(c).w)} strides ${c.strides} ${c.padding}${c.relu ? " relu" : ""}${bias ? "" : " no bias"}`;

interface CheckOptions {
  bias?: boolean;
  /** check gradients against central differences of the reference, not its backward */
  fd?: boolean;
  /** false: x needs no gradient (a first layer), so none is computed */
  xGrad?: boolean;
}

/** Forward and the gradients of x, w (and b) on the GPU against the float64 reference. */
async function checkConv(c: ConvCase, { bias = true, fd = false, xGrad = true }: CheckOptions = {}): Promise<void> {
  const { x, w } = shapes(c);
  const fanIn = c.kh * c.kw * c.inC;
  await checkOp({
    what: describeCase(c, bias),
    inputs: [
      { values: random.array(x.reduce((a, b) => a * b)), shape: x, grad: xGrad },
      { values: random.array(w.reduce((a, b) => a * b), -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn)), shape: w, grad: true },
      ...(bias ? [{ values: random.array(c.outC, -0.2, 0.2), shape: [c.outC], grad: true }] : []),
    ],
    reference: ([xv, wv, bv]) => conv2dRef(c, xv, wv, bv ?? null),
    op: ([xt, wt, bt]) => ops.conv2d(xt, wt, bt ?? null, { strides: c.strides, padding: c.padding, activation: c.relu ? "relu" : "linear" }),
    // without a reference backward, checkOp differentiates the reference numerically
    referenceBackward: fd
      ? undefined
      : ([xv, wv, bv], dy) => {
          const g = conv2dBackwardRef(c, xv, wv, bv ?? null, dy);
          return [xGrad ? g.dx : null, g.dw, ...(bias ? [g.db] : [])];
        },
    random,
  });
}

const size = (lo: number, hi: number) => random.int(lo, hi);

/** Records every dispatch (kernel name and workgroups) until restore(). */
function spyDispatches(): { calls: [string, [number, number?, number?]][]; restore(): void } {
  const g = gpu();
  const calls: [string, [number, number?, number?]][] = [];
  const dispatch = g.dispatch;
  g.dispatch = function (kernel, bindings, p, workgroups) {
    calls.push([kernel, workgroups]);
    dispatch.call(this, kernel, bindings, p, workgroups);
  };
  return { calls, restore: () => delete (g as { dispatch?: unknown }).dispatch };
}

describe("conv2d reference", () => {
  it("its backward matches central differences", () => {
    const cases: ConvCase[] = [
      { batch: 2, inH: 5, inW: 4, inC: 2, kh: 3, kw: 2, outC: 3, strides: [1, 1], padding: "valid" },
      { batch: 1, inH: 5, inW: 6, inC: 3, kh: 2, kw: 2, outC: 2, strides: [2, 2], padding: "same" },
      { batch: 2, inH: 4, inW: 5, inC: 1, kh: 3, kw: 3, outC: 2, strides: [2, 1], padding: "same", relu: true },
    ];
    for (const c of cases) {
      const { x, w } = shapes(c);
      const xv = random.array(x.reduce((a, b) => a * b));
      const wv = random.array(w.reduce((a, b) => a * b));
      const bv = random.array(c.outC);
      const y = conv2dRef(c, xv, wv, bv);
      const dy = random.array(y.length);
      const g = conv2dBackwardRef(c, xv, wv, bv, dy);
      expectClose(g.dx, numericGrad((v) => conv2dRef(c, v, wv, bv), xv, dy), `${describeCase(c, true)} dx`, 1e-6);
      expectClose(g.dw, numericGrad((v) => conv2dRef(c, xv, v, bv), wv, dy), `${describeCase(c, true)} dw`, 1e-6);
      expectClose(g.db, numericGrad((v) => conv2dRef(c, xv, wv, v), bv, dy), `${describeCase(c, true)} db`, 1e-6);
    }
  });

  it("pads like TensorFlow: the odd pixel after", () => {
    // in 6, k 2, s 2 -> no padding; in 5, k 4, s 1 -> 3 rows: 1 before, 2 after
    expect(convSizes({ batch: 1, inH: 6, inW: 5, inC: 1, kh: 2, kw: 4, outC: 1, strides: [2, 1], padding: "same" })).toEqual({ outH: 3, outW: 5, padTop: 0, padLeft: 1 });
    expect(ops.conv2dOutputShape([1, 6, 5, 1], [2, 4, 1, 7], [2, 1], "same")).toEqual([1, 3, 5, 7]);
    expect(ops.conv2dOutputShape([-1, 7, 9, 3], [3, 2, 3, 4], 2)).toEqual([-1, 3, 4, 4]);
  });
});

describe("conv2d forward and gradients vs the float64 reference (random sizes)", () => {
  const cases: [string, () => ConvCase, boolean?][] = [
    ["3x3 valid, stride 1", () => ({ batch: size(1, 3), inH: size(3, 11), inW: size(3, 11), inC: size(1, 9), kh: 3, kw: 3, outC: size(1, 11), strides: [1, 1], padding: "valid" })],
    ["stride 2, valid", () => ({ batch: size(1, 3), inH: size(4, 12), inW: size(4, 12), inC: size(1, 6), kh: 3, kw: 3, outC: size(1, 9), strides: [2, 2], padding: "valid" })],
    ["same, even 2x2 kernel, stride 2", () => ({ batch: size(1, 3), inH: size(2, 11), inW: size(2, 11), inC: size(1, 6), kh: 2, kw: 2, outC: size(1, 9), strides: [2, 2], padding: "same" })],
    ["same, even 4x4 kernel, stride 1", () => ({ batch: size(1, 2), inH: size(1, 9), inW: size(1, 9), inC: size(1, 5), kh: 4, kw: 4, outC: size(1, 7), strides: [1, 1], padding: "same" })],
    ["same, 3x3 kernel, stride 1", () => ({ batch: size(1, 3), inH: size(1, 10), inW: size(1, 10), inC: size(1, 7), kh: 3, kw: 3, outC: size(1, 10), strides: [1, 1], padding: "same" })],
    ["same, 3x3 kernel, stride 2", () => ({ batch: size(1, 3), inH: size(1, 11), inW: size(1, 11), inC: size(1, 5), kh: 3, kw: 3, outC: size(1, 9), strides: [2, 2], padding: "same" })],
    ["1x1 kernel, same", () => ({ batch: size(1, 3), inH: size(1, 8), inW: size(1, 8), inC: size(1, 13), kh: 1, kw: 1, outC: size(1, 13), strides: [1, 1], padding: "same" })],
    ["non-square kernel and strides, valid", () => ({ batch: size(1, 3), inH: size(5, 12), inW: size(4, 12), inC: size(1, 5), kh: 3, kw: 2, outC: size(1, 7), strides: [1, 2], padding: "valid" })],
    ["non-square kernel and strides, same", () => ({ batch: size(1, 3), inH: size(1, 12), inW: size(1, 12), inC: size(1, 5), kh: 2, kw: 5, outC: size(1, 7), strides: [3, 1], padding: "same" })],
    ["batch 1, one input channel, odd sizes", () => ({ batch: 1, inH: 2 * size(3, 6) + 1, inW: 2 * size(3, 6) + 1, inC: 1, kh: 3, kw: 3, outC: size(1, 6), strides: [1, 1], padding: "valid" })],
    ["window as large as the input", () => ({ batch: size(1, 3), inH: 4, inW: 3, inC: size(1, 5), kh: 4, kw: 3, outC: size(1, 6), strides: [2, 2], padding: "valid" })],
    ["no bias", () => ({ batch: size(1, 3), inH: size(3, 9), inW: size(3, 9), inC: size(1, 6), kh: 3, kw: 3, outC: size(1, 9), strides: [1, 1], padding: "same" }), false],
    ["fused relu", () => ({ batch: size(1, 3), inH: size(3, 9), inW: size(3, 9), inC: size(1, 6), kh: 3, kw: 3, outC: size(1, 9), strides: [1, 1], padding: "same", relu: true })],
    ["fused relu, stride 2, no bias", () => ({ batch: size(1, 3), inH: size(3, 9), inW: size(3, 9), inC: size(1, 6), kh: 3, kw: 3, outC: size(1, 9), strides: [2, 2], padding: "valid", relu: true }), false],
    ["longer reduction for the filter gradient", () => ({ batch: size(3, 5), inH: size(20, 30), inW: size(20, 30), inC: size(2, 5), kh: 3, kw: 3, outC: size(2, 6), strides: [1, 1], padding: "same" })],
  ];
  for (const [name, make, bias = true] of cases) {
    it(name, async () => {
      await checkConv(make(), { bias });
    });
  }

  it("shaped like the seed model's first layer: [2, 28, 28, 1] -> 32 filters 3x3, relu", async () => {
    await checkConv({ batch: 2, inH: 28, inW: 28, inC: 1, kh: 3, kw: 3, outC: 32, strides: [1, 1], padding: "valid", relu: true });
  });

  it("a wider layer: 16 -> 24 channels (outC a multiple of 4 but not of 8)", async () => {
    await checkConv({ batch: 2, inH: 9, inW: 10, inC: 16, kh: 3, kw: 3, outC: 24 - 4 * random.int(0, 1), strides: [1, 1], padding: "same" });
  });

  it("channels that are not multiples of 4", async () => {
    await checkConv({ batch: 2, inH: 7, inW: 8, inC: 4 * random.int(1, 3) + random.int(1, 3), kh: 3, kw: 3, outC: 4 * random.int(0, 3) + random.int(1, 3), strides: [1, 1], padding: "same" });
  });
});

/** Runs checkConv(c, opts) and returns the kernels it dispatched whose names start with `prefix`. */
async function kernelsRun(c: ConvCase, prefix: string, opts?: CheckOptions): Promise<string[]> {
  const spy = spyDispatches();
  try {
    await checkConv(c, opts);
  } finally {
    spy.restore();
  }
  return spy.calls.map(([kernel]) => kernel).filter((k) => k.startsWith(prefix));
}

describe("conv2d strip kernels (outC % 4 == 0) vs the float64 reference", () => {
  // rows of 16+ pixels take the sliding kernels (stride 1 across); others the short-strip forward
  const wide = () => size(16, 37);
  const channels4 = () => 4 * size(1, 6);
  const cases: [string, () => ConvCase][] = [
    ["3x3 valid, stride 1, one input channel", () => ({ batch: size(1, 3), inH: size(3, 9), inW: wide(), inC: 1, kh: 3, kw: 3, outC: channels4(), strides: [1, 1], padding: "valid" })],
    ["3x3 same, stride 1, 3 input channels", () => ({ batch: size(1, 2), inH: size(1, 8), inW: wide(), inC: 3, kh: 3, kw: 3, outC: channels4(), strides: [1, 1], padding: "same" })],
    ["2 input channels, even 4x2 kernel, same", () => ({ batch: size(1, 2), inH: size(2, 8), inW: wide(), inC: 2, kh: 4, kw: 2, outC: channels4(), strides: [1, 1], padding: "same" })],
    ["4 input channels, 5x5 kernel, valid", () => ({ batch: 1, inH: size(5, 8), inW: size(20, 30), inC: 4, kh: 5, kw: 5, outC: channels4(), strides: [1, 1], padding: "valid" })],
    ["input channels not a multiple of 4", () => ({ batch: size(1, 2), inH: size(2, 6), inW: wide(), inC: 4 * size(1, 2) + size(1, 3), kh: 3, kw: 3, outC: channels4(), strides: [1, 1], padding: "same" })],
    ["stride 2 down, 1 across", () => ({ batch: size(1, 2), inH: size(4, 11), inW: wide(), inC: size(1, 5), kh: 3, kw: 3, outC: channels4(), strides: [2, 1], padding: random.pick(["same", "valid"] as const) })],
    ["stride 2 across (short strips), same", () => ({ batch: size(1, 3), inH: size(4, 12), inW: size(16, 40), inC: size(1, 5), kh: 3, kw: 3, outC: channels4(), strides: [random.int(1, 2), 2], padding: "same" })],
    ["narrow rows (short strips), stride 1", () => ({ batch: size(1, 3), inH: size(3, 9), inW: size(3, 15), inC: size(1, 5), kh: 3, kw: 3, outC: channels4(), strides: [1, 1], padding: random.pick(["same", "valid"] as const) })],
    ["1x1 kernel, wide rows", () => ({ batch: size(1, 2), inH: size(1, 5), inW: wide(), inC: size(1, 9), kh: 1, kw: 1, outC: channels4(), strides: [1, 1], padding: "valid" })],
    ["batch 1, odd width, 36 channels, fused relu", () => ({ batch: 1, inH: 7, inW: 2 * size(8, 15) + 1, inC: 1, kh: 3, kw: 3, outC: 36, strides: [1, 1], padding: "same", relu: true })],
    // one input channel, stride 1, kernel height <= 3: the input gradient in blocks of 4 rows
    ["one channel, kernel 1-3 high, 1-5 wide", () => ({ batch: size(1, 3), inH: size(5, 13), inW: wide(), inC: 1, kh: size(1, 3), kw: size(1, 5), outC: channels4(), strides: [1, 1], padding: random.pick(["same", "valid"] as const) })],
    ["one channel, fewer rows than a block", () => ({ batch: size(1, 3), inH: size(1, 3), inW: wide(), inC: 1, kh: 1 + size(0, 2), kw: 3, outC: channels4(), strides: [1, 1], padding: "same" })],
    ["one channel, 2x2 kernel, valid, rows not a multiple of 4", () => ({ batch: size(1, 2), inH: 4 * size(1, 3) + size(1, 3), inW: wide(), inC: 1, kh: 2, kw: 2, outC: channels4(), strides: [1, 1], padding: "valid" })],
  ];
  for (const [name, make] of cases) {
    it(name, async () => {
      await checkConv(make(), { bias: random.int(0, 1) === 1 });
    });
  }

  it("picks the sliding and short-strip kernels where they apply", async () => {
    const spy = spyDispatches();
    const g = gpu();
    const subgroups = g.subgroupKernels;
    g.subgroupKernels = false; // the forward's subgroup teams would take the 3x3 stride-1 cases
    try {
      await checkConv({ batch: 1, inH: 5, inW: 17, inC: 3, kh: 3, kw: 3, outC: 8, strides: [1, 1], padding: "same" });
      await checkConv({ batch: 1, inH: 5, inW: 17, inC: 2, kh: 3, kw: 3, outC: 8, strides: [1, 2], padding: "same" });
      await checkConv({ batch: 1, inH: 6, inW: 20, inC: 2, kh: 5, kw: 5, outC: 8, strides: [1, 1], padding: "same" });
    } finally {
      g.subgroupKernels = subgroups;
      spy.restore();
    }
    const names = spy.calls.map(([kernel]) => kernel).filter((k) => k.startsWith("conv2d"));
    expect(names).toEqual(
      // 3x3 at stride 1: rows of 8 pixels (conv2d_fwd_row8); other kernels: the sliding strips;
      // the input gradient: dy · wᵀ gathered back (col2im; the strips below run with subgroups)
      expect.arrayContaining(["conv2d_fwd_row8", "conv2d_fwd_slide", "conv2d_fwd_vec4", "conv2d_col2im1"]),
    );
    expect(names.filter((k) => k.startsWith("conv2d_bwd_input"))).toEqual([]);
  });

  // with subgroups, the shapes no team takes (not 3x3 at stride 1) keep the strip input gradients
  it.skipIf(!subgroupKernels)("picks the strip input-gradient kernels where no team applies", async () => {
    const spy = spyDispatches();
    try {
      await checkConv({ batch: 1, inH: 5, inW: 17, inC: 2, kh: 3, kw: 3, outC: 8, strides: [1, 2], padding: "same" });
      await checkConv({ batch: 1, inH: 6, inW: 17, inC: 1, kh: 2, kw: 3, outC: 8, strides: [1, 1], padding: "same" });
      await checkConv({ batch: 1, inH: 6, inW: 20, inC: 3, kh: 5, kw: 5, outC: 8, strides: [1, 1], padding: "same" });
    } finally {
      spy.restore();
    }
    const names = spy.calls.map(([kernel]) => kernel).filter((k) => k.startsWith("conv2d_bwd_input"));
    expect(names).toEqual(["conv2d_bwd_input_vec4", "conv2d_bwd_input_ring1", "conv2d_bwd_input_slide3"]);
  });
});

describe("conv2d forward: subgroup teams (3x3, stride 1) and the plain kernels", () => {
  const forwardKernels = (c: ConvCase, opts?: CheckOptions) => kernelsRun(c, "conv2d_fwd", opts);
  const channels4 = () => 4 * size(1, 10);
  // teams cover 2 output rows by 16 pixels by 32 channels: widths of 16 to 40 leave edge blocks
  // that start early, odd heights a last block that overlaps, channel counts past 32 a second
  // (partial) team
  const cases: [string, () => ConvCase][] = [
    ["one input channel, valid", () => ({ batch: size(1, 3), inH: size(4, 9), inW: size(18, 42), inC: 1, kh: 3, kw: 3, outC: channels4(), strides: [1, 1], padding: "valid" })],
    ["three input channels, same, batch 1", () => ({ batch: 1, inH: size(2, 9), inW: size(16, 40), inC: 3, kh: 3, kw: 3, outC: channels4(), strides: [1, 1], padding: "same" })],
    ["odd channels past one team, relu", () => ({ batch: size(1, 2), inH: size(4, 7), inW: size(18, 35), inC: size(2, 5), kh: 3, kw: 3, outC: 4 * size(9, 12), strides: [1, 1], padding: random.pick(["same", "valid"] as const), relu: true })],
    ["exactly one block", () => ({ batch: 2, inH: 2, inW: 16, inC: 2, kh: 3, kw: 3, outC: 32, strides: [1, 1], padding: "same" })],
    // pixels past a row narrower than the block store pixel 0 again
    ["rows narrower than a block (1 to 15 pixels), relu", () => ({ batch: size(1, 3), inH: size(4, 14), inW: size(3, 17), inC: size(1, 9), kh: 3, kw: 3, outC: channels4(), strides: [1, 1], padding: random.pick(["same", "valid"] as const), relu: true })],
    // the image teams walk 32 rows down a strip of 8 pixels: heights past one team and off 32,
    // widths off 8, channels past one team
    ["image teams: one channel, heights past a team", () => ({ batch: size(1, 2), inH: size(34, 72), inW: size(10, 30), inC: 1, kh: 3, kw: 3, outC: channels4(), strides: [1, 1], padding: random.pick(["same", "valid"] as const), relu: random.int(0, 1) === 1 })],
    ["image teams: three channels, batch 1, relu", () => ({ batch: 1, inH: size(3, 40), inW: size(10, 27), inC: 3, kh: 3, kw: 3, outC: 4 * size(8, 12), strides: [1, 1], padding: random.pick(["same", "valid"] as const), relu: true })],
    ["image teams: exactly one team, 32 rows of 8", () => ({ batch: 2, inH: 32, inW: 8, inC: random.pick([1, 3]), kh: 3, kw: 3, outC: 32, strides: [1, 1], padding: "same" })],
    ["a 13x13 second layer: 32 channels in, 64 out, same", () => ({ batch: size(1, 2), inH: 13, inW: 13, inC: 32, kh: 3, kw: 3, outC: 64, strides: [1, 1], padding: "same" })],
  ];
  for (const [name, make] of cases) {
    it.skipIf(!subgroupKernels)(`subgroup teams: ${name}`, async () => {
      const c = make();
      // 16+ input channels in fours: the implicit-product teams; images (1 or 3 channels, rows of
      // 8+ pixels): the image teams
      const image = (c.inC === 1 || c.inC === 3) && convSizes(c).outW >= 8;
      const kernel = c.inC % 4 === 0 && c.inC >= 16 ? "conv2d_fwd_gemm" : image ? `conv2d_fwd_img${c.inC}` : "conv2d_fwd_sg3";
      expect(new Set(await forwardKernels(c, { bias: random.int(0, 1) === 1 }))).toEqual(new Set([kernel]));
    });
  }
  // the implicit product: rows are consecutive pixels of the flattened output (pixel counts off a
  // team's 32 and a workgroup's 128), any kernel size, stride and padding, channels past a team
  const gemmCases: [string, () => ConvCase][] = [
    ["3x3 stride 1, 16-40 channels in, odd sizes", () => ({ batch: size(1, 3), inH: size(3, 15), inW: size(3, 23), inC: 4 * size(4, 10), kh: 3, kw: 3, outC: channels4(), strides: [1, 1], padding: random.pick(["same", "valid"] as const), relu: random.int(0, 1) === 1 })],
    ["5x5 and 1x1 kernels, 4 or 8 channels in", () => ({ batch: size(1, 2), inH: size(5, 12), inW: size(5, 12), inC: 4 * size(1, 2), kh: random.pick([1, 5]), kw: random.pick([1, 5]), outC: channels4(), strides: [1, 1], padding: random.pick(["same", "valid"] as const) })],
    ["stride 2, batch 1, relu", () => ({ batch: 1, inH: size(4, 17), inW: size(4, 17), inC: 4 * size(1, 6), kh: 3, kw: 3, outC: 4 * size(8, 12), strides: [2, random.int(1, 2)], padding: random.pick(["same", "valid"] as const), relu: true })],
  ];
  for (const [name, make] of gemmCases) {
    it.skipIf(!subgroupKernels)(`implicit-product teams: ${name}`, async () => {
      // (no input gradient here: it runs forward kernels of its own, tested below)
      expect(new Set(await forwardKernels(make(), { bias: random.int(0, 1) === 1, xGrad: false }))).toEqual(new Set(["conv2d_fwd_gemm"]));
    });
  }
  it.skipIf(!subgroupKernels)("other shapes keep the strip kernels (input channels not in fours)", async () => {
    const names = [
      ...(await forwardKernels({ batch: 1, inH: 6, inW: 17, inC: 2, kh: 3, kw: 3, outC: 8, strides: [2, 1], padding: "same" })),
      ...(await forwardKernels({ batch: 1, inH: 6, inW: 20, inC: 2, kh: 3, kw: 5, outC: 8, strides: [1, 1], padding: "same" })),
      ...(await forwardKernels({ batch: 1, inH: 1, inW: 12, inC: 2, kh: 3, kw: 3, outC: 8, strides: [1, 1], padding: "same" })),
    ];
    expect(names.filter((k) => k === "conv2d_fwd_sg3" || k === "conv2d_fwd_gemm")).toEqual([]);
  });
});

describe("conv2d input gradient as a forward convolution on subgroup teams (3x3, stride 1, 16+ input channels)", () => {
  const inputKernels = (c: ConvCase) => kernelsRun(c, "conv2d", { bias: random.int(0, 1) === 1 });
  // dx runs the forward teams over dy with the filter turned and transposed: odd widths and
  // heights, both paddings, input channels past one team (32) and batch 1
  const cases: [string, () => ConvCase][] = [
    ["wide rows, same", () => ({ batch: size(1, 3), inH: size(2, 9), inW: size(16, 40), inC: 4 * size(4, 8), kh: 3, kw: 3, outC: 4 * size(1, 9), strides: [1, 1], padding: "same" })],
    ["narrow rows, valid, relu", () => ({ batch: size(1, 3), inH: size(4, 15), inW: size(3, 15), inC: 4 * size(4, 12), kh: 3, kw: 3, outC: 4 * size(1, 5), strides: [1, 1], padding: "valid", relu: true })],
    ["batch 1, odd output channels, same", () => ({ batch: 1, inH: size(3, 13), inW: size(3, 30), inC: 16, kh: 3, kw: 3, outC: size(1, 7), strides: [1, 1], padding: "same" })],
  ];
  for (const [name, make] of cases) {
    it.skipIf(!subgroupKernels)(name, async () => {
      const kernels = await inputKernels(make());
      expect(kernels).toContain("conv2d_flip_filter");
      expect(kernels.filter((k) => k.startsWith("conv2d_bwd_input"))).toEqual([]);
    });
  }
  it.skipIf(!subgroupKernels)("fewer input channels keep the input-gradient kernels", async () => {
    const kernels = await inputKernels({ batch: 1, inH: 6, inW: 20, inC: 8, kh: 3, kw: 3, outC: 8, strides: [1, 1], padding: "same" });
    expect(kernels).not.toContain("conv2d_flip_filter");
    expect(kernels).toContain("conv2d_bwd_input_slide4");
  });
});

describe("conv2d input gradient of an image (1-4 channels, 3x3, stride 1) on subgroup teams", () => {
  const inputKernels = (c: ConvCase) => kernelsRun(c, "conv2d_bwd_input", { bias: random.int(0, 1) === 1 });
  // 2-4 channels: teams cover 6 rows by 16 pixels: heights off 6 (and under it) leave a partial
  // last block, widths of 16-40 a last strip that starts early, channel groups of dy off 8 a
  // short loop. One channel: teams walk 32 rows (the last block starts early) by 8 pixels (a
  // last strip past the row stores only its pixels inside), blocks of 32 output channels
  const cases: [string, () => ConvCase][] = [
    ["one channel, valid, heights off 6", () => ({ batch: size(1, 3), inH: size(3, 20), inW: size(16, 40), inC: 1, kh: 3, kw: 3, outC: 4 * size(1, 10), strides: [1, 1], padding: "valid" })],
    ["one channel, over 32 rows, widths off 8, 2-3 blocks of 32 channels", () => ({ batch: 2, inH: size(33, 63), inW: size(8, 30), inC: 1, kh: 3, kw: 3, outC: 4 * size(9, 24), strides: [1, 1], padding: random.pick(["same", "valid"] as const) })],
    ["one channel, same, 1-2 rows, batch 1, 8 pixels", () => ({ batch: 1, inH: size(1, 2), inW: 8, inC: 1, kh: 3, kw: 3, outC: 4 * size(1, 12), strides: [1, 1], padding: "same" })],
    ["three channels, same, batch 1", () => ({ batch: 1, inH: size(1, 14), inW: size(16, 40), inC: 3, kh: 3, kw: 3, outC: 4 * size(1, 10), strides: [1, 1], padding: "same" })],
    ["two or four channels, either padding, relu", () => ({ batch: size(1, 2), inH: size(3, 13), inW: size(16, 33), inC: random.pick([2, 4]), kh: 3, kw: 3, outC: 4 * size(1, 9), strides: [1, 1], padding: random.pick(["same", "valid"] as const), relu: true })],
    ["exactly one team: 6 rows of 16", () => ({ batch: 2, inH: 6, inW: 16, inC: size(2, 4), kh: 3, kw: 3, outC: 32, strides: [1, 1], padding: "same" })],
  ];
  for (const [name, make] of cases) {
    it.skipIf(!subgroupKernels)(name, async () => {
      const c = make();
      expect(new Set(await inputKernels(c))).toEqual(new Set([`conv2d_bwd_input_img${c.inC}`]));
    });
  }
  it.skipIf(!subgroupKernels)("rows under 16 pixels (8 for one channel) and other kernels keep the strip kernels", async () => {
    const kernels = [
      ...(await inputKernels({ batch: 1, inH: 6, inW: 15, inC: 3, kh: 3, kw: 3, outC: 8, strides: [1, 1], padding: "same" })),
      ...(await inputKernels({ batch: 1, inH: 6, inW: 7, inC: 1, kh: 3, kw: 3, outC: 8, strides: [1, 1], padding: "same" })),
      ...(await inputKernels({ batch: 1, inH: 6, inW: 20, inC: 1, kh: 3, kw: 2, outC: 8, strides: [1, 1], padding: "same" })),
      ...(await inputKernels({ batch: 1, inH: 7, inW: 20, inC: 3, kh: 3, kw: 3, outC: 8, strides: [2, 1], padding: "same" })),
    ];
    expect(kernels.filter((k) => k.startsWith("conv2d_bwd_input_img"))).toEqual([]);
  });
});

describe("conv2d without subgroups: im2col products (input and output channels in fours)", () => {
  // on adapters without 8-lane subgroups (SwiftShader, GPUs) the forward pass, and the input
  // gradient of 16+ input channels, unfold the input (conv2d_im2col) and run a matrix product
  const plainKernels = async (c: ConvCase): Promise<string[]> => {
    const g = gpu();
    const subgroups = g.subgroupKernels;
    g.subgroupKernels = false;
    const spy = spyDispatches();
    try {
      await checkConv(c, { bias: random.int(0, 1) === 1 });
    } finally {
      g.subgroupKernels = subgroups;
      spy.restore();
    }
    return spy.calls.map(([kernel]) => kernel).filter((k) => k.startsWith("conv2d_fwd") || k.startsWith("conv2d_bwd_input") || k === "conv2d_im2col" || k === "conv2d_col2im");
  };
  const channels4 = () => 4 * size(1, 10);
  const cases: [string, () => ConvCase][] = [
    ["3x3, odd sizes, pixel counts off a multiple of 4", () => ({ batch: size(1, 3), inH: size(3, 13), inW: size(3, 21), inC: 4 * size(1, 3), kh: 3, kw: 3, outC: channels4(), strides: [1, 1], padding: random.pick(["same", "valid"] as const), relu: random.int(0, 1) === 1 })],
    ["stride 2, 5x5 or 1x1, batch 1", () => ({ batch: 1, inH: size(5, 15), inW: size(5, 15), inC: 4 * size(1, 4), kh: random.pick([1, 5]), kw: random.pick([1, 5]), outC: channels4(), strides: [random.int(1, 2), 2], padding: random.pick(["same", "valid"] as const) })],
  ];
  for (const [name, make] of cases) {
    it(name, async () => {
      const kernels = await plainKernels(make());
      expect(kernels.filter((k) => k.startsWith("conv2d_fwd"))).toEqual([]);
      expect(kernels).toContain("conv2d_im2col");
    });
  }
  // 3x3 at stride 1 with input channels not in fours: rows of 8 pixels by 8 channels (the last
  // strip of a row starts early; 4, 12, 20 ... channels repeat a group)
  it("3x3 images: rows of 8 pixels (widths off 8, channels off 8 by 4, relu)", async () => {
    for (const inC of [1, 3, size(1, 7) | 1]) {
      const c: ConvCase = { batch: size(1, 3), inH: size(3, 11), inW: size(10, 30), inC, kh: 3, kw: 3, outC: 4 * size(1, 9), strides: [1, 1], padding: random.pick(["same", "valid"] as const), relu: random.int(0, 1) === 1 };
      expect((await plainKernels(c)).filter((k) => k.startsWith("conv2d_fwd"))).toEqual(["conv2d_fwd_row8"]);
    }
  });
  it("the input gradient as dy · wᵀ folded back (col2im): strides, kernel sizes, padding", async () => {
    for (const [kh, kw, stride] of [[3, 3, 1], [random.pick([1, 2, 5]), random.pick([3, 4]), 2]]) {
      const c: ConvCase = { batch: size(1, 3), inH: size(5, 12), inW: size(5, 12), inC: 4 * size(1, 9), kh, kw, outC: channels4(), strides: [stride, random.int(1, 2)], padding: random.pick(["same", "valid"] as const) };
      const kernels = await plainKernels(c);
      expect(kernels.filter((k) => k.startsWith("conv2d_bwd_input") || k.startsWith("conv2d_fwd"))).toEqual([]);
      expect(kernels.filter((k) => k === "conv2d_col2im")).toHaveLength(1);
    }
  });
  it("deep windows: a split-K product per block of pixels, placed into y", async () => {
    const budget = im2colLimits.bytes;
    // 3x3 x 232 channels = 2,088 deep: short products split K (matmul_reduce); a budget of one
    // window puts each pixel's product at its own row of y
    im2colLimits.bytes = 4 * 2088;
    const spy = spyDispatches();
    try {
      const c: ConvCase = { batch: size(2, 3), inH: 3, inW: size(3, 4), inC: 232, kh: 3, kw: 3, outC: channels4(), strides: [1, 1], padding: "valid", relu: true };
      const kernels = await plainKernels(c);
      expect(kernels.filter((k) => k === "conv2d_im2col").length).toBeGreaterThan(2);
    } finally {
      im2colLimits.bytes = budget;
      spy.restore();
    }
    expect(spy.calls.some(([kernel]) => kernel === "matmul_reduce")).toBe(true);
  });
  it("unfolds in blocks of pixels (images for the input gradient) when one block would pass its budget", async () => {
    const budget = im2colLimits.bytes;
    im2colLimits.bytes = 4 * 36 * size(5, 20); // 5-20 rows of a 3x3x4 window, under one image's 36+ pixels
    try {
      const c: ConvCase = { batch: size(2, 3), inH: size(6, 9), inW: size(6, 9), inC: 4, kh: 3, kw: 3, outC: channels4(), strides: [1, 1], padding: "same", relu: true };
      const kernels = await plainKernels(c);
      expect(kernels.filter((k) => k === "conv2d_im2col").length).toBeGreaterThan(2);
      // the input gradient's blocks hold whole images: one image each here
      expect(kernels.filter((k) => k === "conv2d_col2im")).toHaveLength(c.batch);
    } finally {
      im2colLimits.bytes = budget;
    }
  });
});

describe("conv2d filter gradient: subgroup teams and the plain kernels", () => {
  const filterGradKernels = (c: ConvCase) => kernelsRun(c, "conv2d_bwd_filter", { xGrad: false });
  const cases: [string, () => ConvCase][] = [
    ["3x3, one input channel (9 rows: a partial team)", () => ({ batch: size(1, 3), inH: size(5, 20), inW: size(5, 20), inC: 1, kh: 3, kw: 3, outC: channels4(), strides: [1, 1], padding: "same" })],
    // the image teams walk their slice in strips of 8 pixels (widths off 8, under 8), over
    // many slices (a longer batch), channels past one team
    ["images: three channels, widths off 8, channels past one team", () => ({ batch: size(1, 2), inH: size(3, 12), inW: size(3, 27), inC: 3, kh: 3, kw: 3, outC: 4 * size(8, 12), strides: [1, 1], padding: random.pick(["same", "valid"] as const) })],
    ["images: one channel, many slices", () => ({ batch: size(6, 10), inH: size(20, 30), inW: size(20, 30), inC: 1, kh: 3, kw: 3, outC: 4 * size(1, 4), strides: [1, 1], padding: random.pick(["same", "valid"] as const) })],
    ["rows and channels past one team", () => ({ batch: size(1, 2), inH: size(4, 10), inW: size(4, 10), inC: size(2, 5), kh: 3, kw: 3, outC: 4 * size(9, 12), strides: [1, 1], padding: "valid" })],
    ["stride 2, even kernel", () => ({ batch: size(1, 3), inH: size(4, 12), inW: size(4, 12), inC: size(1, 4), kh: 2, kw: 4, outC: channels4(), strides: [2, 2], padding: random.pick(["same", "valid"] as const) })],
  ];
  const channels4 = () => 4 * size(1, 6);
  // input channels in fours: the implicit-product teams (32 filter rows: 36 rows for 4 channels
  // leave a partial team; rows of 1-4 pixels past a multiple of 4; channel blocks past one team)
  cases.push(
    ["implicit product: channels in fours, odd rows, past one team", () => ({ batch: size(1, 3), inH: size(3, 14), inW: size(3, 14), inC: 4 * size(1, 9), kh: 3, kw: 3, outC: 4 * size(1, 12), strides: [1, 1], padding: random.pick(["same", "valid"] as const) })],
    ["implicit product: stride 2, 5x5 or 1x3 kernel", () => ({ batch: size(1, 2), inH: size(5, 13), inW: size(5, 13), inC: 4 * size(1, 3), kh: random.pick([1, 5]), kw: random.pick([3, 5]), outC: channels4(), strides: [2, random.int(1, 2)], padding: random.pick(["same", "valid"] as const) })],
  );
  for (const [name, make] of cases) {
    it.skipIf(!subgroupKernels)(`subgroup teams: ${name}`, async () => {
      const c = make();
      // images (1 or 3 channels, 3x3, stride 1): teams that hold the whole filter
      const image = (c.inC === 1 || c.inC === 3) && c.kh === 3 && c.kw === 3 && c.strides[0] === 1 && c.strides[1] === 1;
      expect(await filterGradKernels(c)).toEqual([c.inC % 4 === 0 ? "conv2d_bwd_filter_gemm" : image ? `conv2d_bwd_filter_img${c.inC}` : "conv2d_bwd_filter_sg"]);
    });
    it(`plain tiles: ${name}`, async () => {
      const g = gpu();
      const subgroups = g.subgroupKernels;
      g.subgroupKernels = false;
      try {
        const c = make();
        // input channels in fours: im2col products (no conv2d_bwd_filter kernel); other 3x3
        // filters at stride 1: all 9 taps of a channel in registers
        const row9 = c.kh === 3 && c.kw === 3 && c.strides[0] === 1 && c.strides[1] === 1;
        expect(await filterGradKernels(c)).toEqual(c.inC % 4 === 0 ? [] : [row9 ? "conv2d_bwd_filter_row9" : "conv2d_bwd_filter_vec4"]);
      } finally {
        g.subgroupKernels = subgroups;
      }
    });
  }
});

describe("conv2d GPU gradients vs central differences", () => {
  it("tiny cases", async () => {
    await checkConv({ batch: 2, inH: 4, inW: 5, inC: 2, kh: 2, kw: 3, outC: 3, strides: [1, 2], padding: "same" }, { fd: true });
    await checkConv({ batch: 1, inH: 5, inW: 5, inC: 3, kh: 3, kw: 3, outC: 5, strides: [2, 2], padding: "valid", relu: true }, { fd: true });
    await checkConv({ batch: 2, inH: 4, inW: 4, inC: 2, kh: 3, kw: 2, outC: 4, strides: [1, 1], padding: "same" }, { fd: true });
  });
});

describe("conv2d large tensors", () => {
  it("splits the batch into chunks that fit one storage binding", async () => {
    const g = gpu();
    const limit = g.maxBindingBytes;
    const subgroups = g.subgroupKernels;
    // odd image sizes: chunks start at unaligned offsets inside their bindings
    const c: ConvCase = { batch: 7, inH: 9, inW: 7, inC: 3, kh: 3, kw: 3, outC: 5, strides: [1, 1], padding: "same" };
    // the largest image is 9*7*5 floats = 1,260 bytes: 3,072 bytes hold two (plus alignment slack)
    g.maxBindingBytes = 3072;
    const spy = spyDispatches();
    try {
      await checkConv(c);
      await checkConv({ ...c, inC: 5, outC: 3, relu: true, strides: [2, 1] }, { bias: false });
      // outC % 4 == 0 takes the vec4 kernels; an output image is 9*7*8 floats, 3 per chunk
      // (sumRows, adding the filter gradient's partial sums, needs 8 of its 216-float rows per chunk)
      g.maxBindingBytes = 8192;
      await checkConv({ ...c, outC: 8 });
      // rows of 17: the sliding kernels; an output image is 5*17*8 floats = 2,720 bytes, 2 per chunk
      g.maxBindingBytes = 6144;
      await checkConv({ ...c, inH: 5, inW: 17, inC: 1, outC: 8, batch: 5 });
      g.subgroupKernels = false;
      await checkConv({ ...c, inH: 5, inW: 17, inC: 1, outC: 8, batch: 5 });
    } finally {
      g.maxBindingBytes = limit;
      g.subgroupKernels = subgroups;
      spy.restore();
    }
    // 4 chunks of 7 images in the first two cases, 3 in the third, 3 of 5 in the last two (the
    // forward on subgroup teams where the device has them, then on the strip kernels), for each
    // of the three kernels; the last input gradient is gathered back from dy · wᵀ (col2im), one
    // image a block (an image's windows take 4,080 of the 6,144 bytes)
    const count = (name: string) => spy.calls.filter(([kernel]) => kernel.startsWith(name)).length;
    expect([count("conv2d_fwd"), count("conv2d_bwd_input"), count("conv2d_col2im1"), count("conv2d_bwd_filter")]).toEqual([17, 14, 5, 17]);
    expect(spy.calls.some(([kernel]) => kernel === "conv2d_fwd_row8")).toBe(true);
    if (subgroups) expect(spy.calls.some(([kernel]) => kernel === "conv2d_fwd_sg3")).toBe(true);
    if (subgroups) expect(spy.calls.some(([kernel]) => kernel === "conv2d_bwd_input_img1")).toBe(true);
    if (subgroups) expect(spy.calls.some(([kernel]) => kernel === "conv2d_fwd_img1")).toBe(true);
  });

  it("splits the batch for the im2col products too (no subgroups, channels in fours)", async () => {
    const g = gpu();
    const [limit, subgroups] = [g.maxBindingBytes, g.subgroupKernels];
    // an output image is 5*7*16 floats = 2,240 bytes: 2 per 6,144-byte chunk, 3 chunks of 5; an
    // input image is 140 floats, so chunks start 24 floats past an aligned binding offset
    g.maxBindingBytes = 6144;
    g.subgroupKernels = false;
    const spy = spyDispatches();
    try {
      await checkConv({ batch: 5, inH: 5, inW: 7, inC: 4, kh: 3, kw: 3, outC: 16, strides: [1, 1], padding: "same", relu: true });
    } finally {
      g.maxBindingBytes = limit;
      g.subgroupKernels = subgroups;
      spy.restore();
    }
    const kernels = spy.calls.map(([kernel]) => kernel);
    expect(kernels.filter((k) => k.startsWith("conv2d_fwd") || k.startsWith("conv2d_bwd"))).toEqual([]);
    // one image's windows (35 x 36 floats) per col2im block
    expect(kernels.filter((k) => k === "conv2d_col2im")).toHaveLength(5);
  });

  it.skipIf(!subgroupKernels)("splits the batch for the input gradient on forward teams too", async () => {
    const g = gpu();
    const limit = g.maxBindingBytes;
    // an input image is 5*7*16 floats = 2,240 bytes: two per 6,144-byte chunk, so 3 chunks of 5;
    // 560 floats an image puts chunk starts 32 floats past an aligned binding offset
    g.maxBindingBytes = 6144;
    const spy = spyDispatches();
    try {
      await checkConv({ batch: 5, inH: 5, inW: 7, inC: 16, kh: 3, kw: 3, outC: 4, strides: [1, 1], padding: "same" });
    } finally {
      g.maxBindingBytes = limit;
      spy.restore();
    }
    // 3 chunks forward (16 channels in: implicit-product teams) and 3 for the input gradient
    // (the transposed convolution has 4 channels in: row-strip teams)
    const kernels = spy.calls.map(([kernel]) => kernel);
    expect(kernels.filter((k) => k === "conv2d_fwd_gemm")).toHaveLength(3);
    expect(kernels.filter((k) => k === "conv2d_fwd_sg3")).toHaveLength(3);
    expect(spy.calls.filter(([kernel]) => kernel === "conv2d_flip_filter")).toHaveLength(1);
  });

  it("folds dispatches past the per-dimension workgroup limit", async () => {
    const g = gpu();
    // Pretend the adapter allows only 10 workgroups per dimension, so larger dispatches fold
    // into 2-D. Every dispatch of these steps (NaN poisoning included) must fit in 10 x 10.
    // The plain kernels here; the subgroup ones in the next test.
    Object.defineProperty(g, "maxWorkgroupsPerDimension", { value: 10, configurable: true });
    const subgroups = g.subgroupKernels;
    g.subgroupKernels = false;
    const spy = spyDispatches();
    const same = { kh: 3, kw: 3, strides: [1, 1] as [number, number], padding: "same" as const };
    try {
      // 3,200 pixels: forward and input gradient run 800 tiles of 4 pixels, 13 workgroups
      await checkConv({ ...same, batch: 2, inH: 40, inW: 40, inC: 1, outC: 3 });
      // rows of 8: 4 * 100 rows of 13 (82 workgroups); an image's input gradient (10,000
      // elements) is past one 10 x 10 grid's gather: the ring of rows, 700 tiles (11 workgroups)
      await checkConv({ ...same, batch: 4, inH: 100, inW: 100, inC: 1, outC: 4 });
      // 40 x 40: the input gradient gathered back from dy · wᵀ, 4 images (6,400 elements) a block
      await checkConv({ ...same, batch: 8, inH: 40, inW: 40, inC: 1, outC: 4 });
      // 5x5, sliding strips: 4 * 50 rows of 4 strips by 2 channel groups (25 workgroups); its
      // filter gradient 7 x 3 tiles x 39 slices (13)
      await checkConv({ ...same, kh: 5, kw: 5, batch: 4, inH: 50, inW: 50, inC: 1, outC: 20 }, { xGrad: false });
      // stride 2: 2 * 32 rows of 4 short strips by 3 channel groups (12 workgroups)
      await checkConv({ ...same, strides: [2, 2], batch: 2, inH: 64, inW: 64, inC: 1, outC: 48 }, { xGrad: false });
      // filter gradient: 36 row tiles x 32 slices (outC 2), x 23 slices (outC 4): 13+ workgroups
      await checkConv({ ...same, batch: 2, inH: 64, inW: 64, inC: 16, outC: 2 }, { xGrad: false });
      // 3x3, 15 channels: all 9 taps of a channel per invocation, 15 x 5 tiles x 24 slices (29)
      await checkConv({ ...same, batch: 2, inH: 56, inW: 56, inC: 15, outC: 40 }, { xGrad: false });
      // channels in fours, input gradient: col2im over blocks of 4 images (6,400 invocations:
      // 100 workgroups each)
      await checkConv({ ...same, batch: 8, inH: 20, inW: 20, inC: 16, outC: 4 });
      // channels in fours: the im2col products (16,384 rows x 9 taps: 2,304 workgroups)
      await checkConv({ ...same, batch: 4, inH: 64, inW: 64, inC: 16, outC: 4 }, { xGrad: false });
    } finally {
      delete (g as { maxWorkgroupsPerDimension?: number }).maxWorkgroupsPerDimension;
      g.subgroupKernels = subgroups;
      spy.restore();
    }
    expect(g.maxWorkgroupsPerDimension).toBeGreaterThan(10);
    const folded = spy.calls.filter(([, workgroups]) => (workgroups[1] ?? 1) > 1).map(([kernel]) => kernel);
    const kernels = ["conv2d_fwd", "conv2d_fwd_vec4", "conv2d_fwd_slide", "conv2d_fwd_row8", "conv2d_im2col", "conv2d_col2im", "conv2d_col2im1", "conv2d_bwd_input", "conv2d_bwd_input_ring1", "conv2d_bwd_filter", "conv2d_bwd_filter_vec4", "conv2d_bwd_filter_row9"];
    expect([...folded]).toEqual(expect.arrayContaining(kernels));
  });

  it.skipIf(!subgroupKernels)("folds the strip input gradients (subgroups: shapes no team takes) too", async () => {
    const g = gpu();
    Object.defineProperty(g, "maxWorkgroupsPerDimension", { value: 10, configurable: true });
    const spy = spyDispatches();
    const same = { kh: 3, kw: 3, strides: [1, 1] as [number, number], padding: "same" as const };
    try {
      // 2x3 kernel: blocks of 4 rows, 4 * 25 blocks x 7 strips = 700 tiles (11 workgroups)
      await checkConv({ ...same, kh: 2, batch: 4, inH: 100, inW: 100, inC: 1, outC: 4 }, { bias: false });
      // stride 2 down: sliding strips, 3 * 56 rows of 4 (11 workgroups)
      await checkConv({ ...same, strides: [2, 1], batch: 3, inH: 56, inW: 56, inC: 1, outC: 4 }, { bias: false });
      // stride 2: 2,048 tiles of 4 pixels (32 workgroups)
      await checkConv({ ...same, strides: [2, 2], batch: 2, inH: 64, inW: 64, inC: 1, outC: 48 }, { bias: false });
    } finally {
      delete (g as { maxWorkgroupsPerDimension?: number }).maxWorkgroupsPerDimension;
      spy.restore();
    }
    const folded = spy.calls.filter(([, workgroups]) => (workgroups[1] ?? 1) > 1).map(([kernel]) => kernel);
    expect([...folded]).toEqual(expect.arrayContaining(["conv2d_bwd_input_ring1", "conv2d_bwd_input_slide1", "conv2d_bwd_input_vec4"]));
  });

  it.skipIf(!subgroupKernels)("folds the subgroup filter gradient's teams too", async () => {
    const g = gpu();
    Object.defineProperty(g, "maxWorkgroupsPerDimension", { value: 10, configurable: true });
    const spy = spyDispatches();
    try {
      // 18 filter rows: 2 teams of 16 rows by 32 channels, x 12 slices of 3,200 pixels: 24
      // workgroups, folded to 8 x 3
      await checkConv({ kh: 3, kw: 3, strides: [1, 1], padding: "same", batch: 2, inH: 40, inW: 40, inC: 2, outC: 4 });
    } finally {
      delete (g as { maxWorkgroupsPerDimension?: number }).maxWorkgroupsPerDimension;
      spy.restore();
    }
    expect(spy.calls).toContainEqual(["conv2d_bwd_filter_sg", [8, 3]]);
  });

  it("throws a clear error when one image exceeds a storage binding", () => {
    const g = gpu();
    const limit = g.maxBindingBytes;
    g.maxBindingBytes = 1024;
    try {
      const x = tensor(new Float32Array(2 * 20 * 20), [2, 20, 20, 1]);
      const w = tensor(new Float32Array(9), [3, 3, 1, 1]);
      expect(() => ops.conv2d(x, w, null)).toThrow(/conv2d: one image of the input \[2, 20, 20, 1\] takes 1600 bytes, more than .* storage binding limit \(1024 bytes\)/);
    } finally {
      g.maxBindingBytes = limit;
    }
  });
});

describe("conv2d rejects bad input before any GPU work", () => {
  const x = () => tensor(new Float32Array(2 * 5 * 5 * 3), [2, 5, 5, 3]);
  const w = () => tensor(new Float32Array(3 * 3 * 3 * 4), [3, 3, 3, 4]);
  it("input of the wrong rank", () => {
    expect(() => ops.conv2d(tensor(new Float32Array(75), [5, 5, 3]), w(), null)).toThrow(/conv2d: input \[5, 5, 3\] must be 4-D \[batch, height, width, channels\]/);
  });
  it("filter of the wrong rank", () => {
    expect(() => ops.conv2d(x(), tensor(new Float32Array(27), [3, 3, 3]), null)).toThrow(/conv2d: filter \[3, 3, 3\] must be 4-D/);
  });
  it("channels that do not match", () => {
    expect(() => ops.conv2d(x(), tensor(new Float32Array(36), [3, 3, 1, 4]), null)).toThrow(/conv2d: input \[2, 5, 5, 3\] has 3 channel\(s\) but filter \[3, 3, 1, 4\] expects 1/);
  });
  it("a window larger than the input with valid padding", () => {
    expect(() => ops.conv2d(x(), tensor(new Float32Array(6 * 3 * 3 * 4), [6, 3, 3, 4]), null)).toThrow(/conv2d: filter \[6, 3, 3, 4\] window 6x3 is larger than the 5x5 input \[2, 5, 5, 3\] with padding "valid"/);
  });
  it("zero sizes", () => {
    expect(() => ops.conv2d(tensor(new Float32Array(0), [2, 0, 5, 3]), w(), null)).toThrow(/conv2d: input \[2, 0, 5, 3\] must have positive integer sizes/);
    expect(() => ops.conv2d(x(), tensor(new Float32Array(0), [3, 3, 3, 0]), null)).toThrow(/conv2d: filter \[3, 3, 3, 0\] must have positive integer sizes/);
  });
  it("non-positive strides", () => {
    expect(() => ops.conv2d(x(), w(), null, { strides: 0 })).toThrow(/conv2d: strides 0 must be a positive integer/);
    expect(() => ops.conv2d(x(), w(), null, { strides: [1, -2] })).toThrow(/conv2d: strides \[1,-2\] must be/);
  });
  it("a bias of the wrong size", () => {
    expect(() => ops.conv2d(x(), w(), tensor([1, 2, 3]))).toThrow(/conv2d: bias \[3\] does not match filter \[3, 3, 3, 4\]; expected \[4\]/);
  });
  it("unknown padding or activation", () => {
    expect(() => ops.conv2d(x(), w(), null, { padding: "full" as "same" })).toThrow(/conv2d: padding "full" must be "valid" or "same"/);
    expect(() => ops.conv2d(x(), w(), null, { activation: "tanh" as "relu" })).toThrow(/conv2d: activation "tanh" must be "linear" or "relu"/);
  });
  it("conv2dOutputShape throws the same errors", () => {
    expect(() => ops.conv2dOutputShape([1, 2, 2, 3], [3, 3, 3, 4])).toThrow(/conv2dOutputShape: filter \[3, 3, 3, 4\] window 3x3 is larger than the 2x2 input/);
    expect(() => ops.conv2dOutputShape([1, 5, 5], [3, 3, 3, 4])).toThrow(/conv2dOutputShape: input \[1, 5, 5\] must be 4-D/);
    expect(() => ops.conv2dOutputShape([1, 5, 5, 3], [3, 3, 3, 4], [1, 0])).toThrow(/conv2dOutputShape: strides \[1,0\] must be/);
  });
});
