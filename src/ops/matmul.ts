import { gpu, type Binding } from "../device.js";
import { record } from "../autograd.js";
import { KERNELS, type KernelName } from "../kernels.js";
import { shapeString, type Tensor } from "../tensor.js";
import { grid1d, output, params, run, shapeError } from "./run.js";
import { subgroupTile } from "../../shaders/matmul-subgroup.js";

/**
 * How the two operands are stored: "nn" C = A·B with A [m, k], B [k, n]; "nt" C = A·Bᵀ with
 * B [n, k]; "tn" C = Aᵀ·B with A [k, m]. The transposed forms give the gradients without copies.
 */
export type Layout = "nn" | "nt" | "tn";

export interface Epilogue {
  /** [n], added to every row of C */
  bias?: Tensor | null;
  relu?: boolean;
}

const ACCUMULATE = 1;
const BIAS = 2;
const RELU = 4;

/** Rows and columns of C one workgroup of matmul_nn, _nt or _tn covers (8x8 blocks per invocation). */
export function matmulTile(): { rows: number; cols: number } {
  const c = KERNELS.matmul_nn.constants!;
  return { rows: 8 * c.WGY, cols: 8 * c.WGX };
}

/** The same for matmul_strided (4x4 blocks per invocation). */
function stridedTile(): { rows: number; cols: number } {
  const c = KERNELS.matmul_strided.constants!;
  return { rows: 4 * c.WGY, cols: 4 * c.WGX };
}

/** A row-major matrix inside a tensor: where each of the product's three dimensions walks it. */
interface Operand {
  t: Tensor;
  /** where the matrix starts in t (elements) */
  base: number;
  /** row stride in elements (its number of columns) */
  ld: number;
  /** which of m, n, k index its rows and its columns */
  rowDim: Dim;
  colDim: Dim;
}
type Dim = "m" | "n" | "k";
type Sizes = Record<Dim, number>;

/** Elements [start, start + length) of t, bound from the aligned offset at or below start. */
function span(t: Tensor, start: number, length: number): { binding: Binding; offset: number } {
  const alignElems = gpu().bindingAlignment / 4;
  const first = Math.floor(start / alignElems) * alignElems;
  return { binding: t.binding(first, start - first + length), offset: start - first };
}

/** Elements a block of `rows` x `cols` of a matrix with row stride `ld` spans. */
const extent = (rows: number, cols: number, ld: number): number => (rows - 1) * ld + cols;

const down4 = (x: number): number => (x >= 4 ? x - (x % 4) : x);

/**
 * Block sizes for m, n and k such that every operand's block fits one storage binding and the
 * grid fits the dispatch limit. K is split last resort (its chunks accumulate into C).
 */
function blockSizes(sizes: Sizes, operands: Operand[]): Sizes {
  const g = gpu();
  const slack = g.bindingAlignment / 4 - 1; // a block's binding may start up to this much earlier
  const limit = Math.floor(g.maxBindingBytes / 4);
  const tile = stridedTile(); // the smallest any kernel covers
  const maxWg = g.maxWorkgroupsPerDimension;
  const block: Sizes = {
    m: Math.min(sizes.m, maxWg * tile.rows),
    // n also bounds the bias block, one row of n values
    n: Math.min(sizes.n, maxWg * tile.cols, down4(limit - slack)),
    k: sizes.k,
  };
  for (;;) {
    const over = operands.find((o) => extent(block[o.rowDim], block[o.colDim], o.ld) + slack > limit);
    if (!over) {
      // K blocks in multiples of 8 keep the subgroup kernels usable
      if (block.k < sizes.k && block.k >= 8) block.k -= block.k % 8;
      return block;
    }
    const rows = block[over.rowDim];
    const cols = block[over.colDim];
    if (rows > 1) {
      const fit = Math.max(1, Math.floor((limit - slack - cols) / over.ld) + 1);
      block[over.rowDim] = down4(Math.max(1, Math.min(rows - 1, fit)));
    } else {
      if (limit - slack < 1) throw new Error(`gpu-cnn: storage binding limit of ${g.maxBindingBytes} bytes is too small`);
      block[over.colDim] = down4(Math.min(cols - 1, limit - slack));
    }
  }
}

/**
 * Records C = op(A)·op(B) (+ bias, relu) for `layout`, writing into `c` [m, n]. Splits the
 * problem into blocks whose operands fit one storage binding each; split K accumulates. When C
 * has too few blocks to keep the cores busy and K is long, K is cut into slices whose partial
 * products are added up afterwards (matmul_reduce), with the epilogue. `at` places a matrix
 * further into its tensor (elements; conv2d's im2col products write and read row ranges).
 */
export function gemm(layout: Layout, a: Tensor, b: Tensor, sizes: Sizes, c: Tensor, epilogue: Epilogue = {}, at: { a?: number; b?: number; c?: number } = {}): void {
  const { m, n, k } = sizes;
  const [baseA, baseB, baseC] = [at.a ?? 0, at.b ?? 0, at.c ?? 0];
  const A: Operand = layout === "tn" ? { t: a, base: baseA, ld: m, rowDim: "k", colDim: "m" } : { t: a, base: baseA, ld: k, rowDim: "m", colDim: "k" };
  const B: Operand = layout === "nt" ? { t: b, base: baseB, ld: k, rowDim: "n", colDim: "k" } : { t: b, base: baseB, ld: n, rowDim: "k", colDim: "n" };
  const C: Operand = { t: c, base: baseC, ld: n, rowDim: "m", colDim: "n" };
  const block = blockSizes(sizes, [A, B, C]);
  const depth = sliceDepth(layout, sizes, block);
  if (depth === 0) {
    products(layout, A, B, C, sizes, block, epilogue);
    return;
  }
  // split K: one dispatch per K block, workgroup z = one slice of `depth`, whose partial product
  // lands in rows [slice * m, (slice + 1) * m) of P; matmul_reduce adds them up with the epilogue
  const slices = Math.ceil(k / depth);
  const partial = output([slices * m, n], "matmul (split-K partial sums)");
  // one dispatch for all slices when B fits one binding (the last slice may be shorter)
  const kBlock = block.k >= k ? k : Math.floor(block.k / depth) * depth;
  for (let k0 = 0; k0 < k; k0 += kBlock) {
    const kb = Math.min(kBlock, k - k0);
    const z = Math.ceil(kb / depth);
    const sa = span(a, baseA + k0 * (layout === "tn" ? m : 1), extent(A.rowDim === "k" ? kb : m, A.colDim === "k" ? kb : m, A.ld));
    const sb = span(b, baseB + k0 * (layout === "nt" ? 1 : n), extent(B.rowDim === "k" ? kb : n, B.colDim === "k" ? kb : n, B.ld));
    const sp = span(partial, (k0 / depth) * m * n, z * m * n);
    const [aSm, aSk, bSk, bSn] = strides(layout, sizes);
    const { kernel, tile } = sliceKernel(layout, { m, n, k: kb }, [sa.offset, sb.offset, sp.offset], [aSm, aSk, bSk, bSn, n])!;
    run(
      kernel,
      [sa.binding, sb.binding, sa.binding, sp.binding],
      params([m, n, kb, sa.offset, sb.offset, sp.offset, 0, 0, aSm, aSk, bSk, bSn, n, depth, m * n]),
      [Math.ceil(n / tile.cols), Math.ceil(m / tile.rows), z],
    );
  }
  const bias = epilogue.bias ?? null;
  const flags = (bias ? BIAS : 0) | (epilogue.relu ? RELU : 0);
  const sc = span(c, baseC, m * n);
  run("matmul_reduce", [partial, bias ?? partial, sc.binding], params([m, n, slices, 0, 0, sc.offset, 0, flags, 0, 0, 0, 0, n]), grid1d(m * n, 16));
  partial.dispose();
}

/** Element strides of A (rows m, depth k) and B (depth k, columns n) for a layout. */
function strides(layout: Layout, { m, n, k }: Sizes): [number, number, number, number] {
  return [layout === "tn" ? 1 : k, layout === "tn" ? m : 1, layout === "nt" ? 1 : n, layout === "nt" ? k : 1];
}

/**
 * Split K when C has too few blocks to keep the cores busy and K is long: the depth of each
 * slice (a multiple of 8, at least MIN_SLICE, fitting the K block operands allow), aiming at some 32
 * workgroups in all; 0 for no split. Only when C is one block and a slice kernel takes the
 * layout (the subgroup kernels, or matmul_nn: on SwiftShader the 224x224 model's Dense forward,
 * [8 x 394272]·[394272 x 128], went 750-905 -> 701 ms; a GPU gets 32x the workgroups).
 */
function sliceDepth(layout: Layout, sizes: Sizes, block: Sizes): number {
  const { m, n, k } = sizes;
  if (k < 2048 || block.m < m || block.n < n || block.k < MIN_SLICE) return 0;
  const [aSm, aSk, bSk, bSn] = strides(layout, sizes);
  const fits = k % 8 === 0 ? sliceKernel(layout, { m, n, k: MIN_SLICE }, [0, 0, 0], [aSm, aSk, bSk, bSn, n]) : null;
  if (!fits) return 0;
  const blocks = Math.ceil(m / fits.tile.rows) * Math.ceil(n / fits.tile.cols);
  if (blocks >= 16) return 0;
  const slices = Math.min(Math.ceil(32 / blocks), Math.floor(k / MIN_SLICE));
  const depth = Math.min(Math.ceil(k / slices / 8) * 8, block.k - (block.k % 8));
  // the reduction binds every partial product at once
  if (Math.ceil(k / depth) * m * n * 4 > gpu().maxBindingBytes) return 0;
  return depth;
}

/**
 * The kernel that computes split-K slices for this block (workgroup z = slice), and its tile:
 * the subgroup kernels where the device has them, else matmul_nn; null where neither applies.
 */
function sliceKernel(layout: Layout, block: Sizes, offsets: number[], strides: number[]): { kernel: KernelName; tile: { rows: number; cols: number } } | null {
  if (gpu().subgroupKernels) {
    const kernel = subgroupKernel(layout, block, offsets, strides);
    return kernel ? { kernel, tile: subgroupTile(teamRows(block.m)) } : null;
  }
  return layout === "nn" && vec4Kernel(layout, block, offsets, strides) === "matmul_nn" ? { kernel: "matmul_nn", tile: matmulTile() } : null;
}

/** Shallowest split-K slice: 256 measured faster than 512 on the 28x28 dense layer (more workgroups for the cores). */
const MIN_SLICE = 256;
/** Rows per subgroup team (8, 16 or 32): the fewest that cover m, up to 32. */
const teamRows = (m: number): 8 | 16 | 32 => (m <= 8 ? 8 : m <= 16 ? 16 : 32);

/** Records the block dispatches of C = A·B (+ epilogue); K blocks after the first accumulate. */
function products(layout: Layout, A: Operand, B: Operand, C: Operand, sizes: Sizes, block: Sizes, epilogue: Epilogue): void {
  const { m, n, k } = sizes;
  const bias = epilogue.bias ?? null;
  const tile = matmulTile();
  for (let m0 = 0; m0 < m; m0 += block.m) {
    const mb = Math.min(block.m, m - m0);
    for (let n0 = 0; n0 < n; n0 += block.n) {
      const nb = Math.min(block.n, n - n0);
      for (let k0 = 0; k0 < k; k0 += block.k) {
        const kb = Math.min(block.k, k - k0);
        const first: Sizes = { m: m0, n: n0, k: k0 };
        const count: Sizes = { m: mb, n: nb, k: kb };
        const bind = (o: Operand) => span(o.t, o.base + first[o.rowDim] * o.ld + first[o.colDim], extent(count[o.rowDim], count[o.colDim], o.ld));
        const sa = bind(A);
        const sb = bind(B);
        const sc = bind(C);
        const sbias = bias ? span(bias, n0, nb) : null;
        let flags = 0;
        if (k0 > 0) flags |= ACCUMULATE;
        if (sbias && k0 === 0) flags |= BIAS;
        if (epilogue.relu && k0 + kb >= k) flags |= RELU;
        const [aSm, aSk, bSk, bSn] = strides(layout, sizes);
        const blockSize = { m: mb, n: nb, k: kb };
        const offsets = [sa.offset, sb.offset, sc.offset];
        const all = [aSm, aSk, bSk, bSn, n];
        // the subgroup kernels only overwrite C (their stores do not branch on ACCUMULATE)
        const shared = k0 === 0 ? subgroupKernel(layout, blockSize, offsets, all) : null;
        const kernel = shared ?? vec4Kernel(layout, blockSize, offsets, all);
        const kernelTile = shared ? subgroupTile(teamRows(mb)) : kernel === "matmul_strided" ? stridedTile() : tile;
        run(
          kernel,
          [sa.binding, sb.binding, sbias ? sbias.binding : sa.binding, sc.binding],
          params([mb, nb, kb, sa.offset, sb.offset, sc.offset, sbias ? sbias.offset : 0, flags, aSm, aSk, bSk, bSn, n, kb, 0]),
          [Math.ceil(nb / kernelTile.cols), Math.ceil(mb / kernelTile.rows)],
        );
      }
    }
  }
}

/**
 * The subgroup kernel for this block (shaders/matmul-subgroup.ts) where the device has it and the
 * block's shape suits it: k in steps of 8, whole vec4 column groups, vec4-aligned strides and
 * offsets. Null otherwise.
 */
function subgroupKernel(layout: Layout, block: Sizes, offsets: number[], strides: number[]): KernelName | null {
  if (!gpu().subgroupKernels) return null;
  const [aSm, aSk, bSk, bSn, ldc] = strides;
  const all4 = (...xs: number[]) => xs.every((x) => x % 4 === 0);
  if (block.k % 8 !== 0 || !all4(block.n, ldc, ...offsets)) return null;
  switch (layout) {
    case "nn":
      return all4(aSm, bSk) ? `matmul_sg${teamRows(block.m)}_nn` : null;
    case "nt":
      return all4(aSm, bSn) ? `matmul_sg${teamRows(block.m)}_nt` : null;
    case "tn":
      return all4(block.m, aSk, bSk) ? `matmul_sg${teamRows(block.m)}_tn` : null;
  }
}

/** The vec4 kernel for this block when its vec4-loaded sizes, strides and offsets allow. */
function vec4Kernel(layout: Layout, block: Sizes, offsets: number[], strides: number[]): KernelName {
  const [aSm, aSk, bSk, bSn, ldc] = strides;
  const [aOff, bOff, cOff] = offsets;
  const all4 = (...xs: number[]) => xs.every((x) => x % 4 === 0);
  switch (layout) {
    case "nn":
      return all4(block.k, block.n, aSm, bSk, ldc, aOff, bOff, cOff) ? "matmul_nn" : "matmul_strided";
    case "nt":
      return all4(block.k, aSm, bSn, aOff, bOff) ? "matmul_nt" : "matmul_strided";
    case "tn":
      return all4(block.m, block.n, aSk, bSk, ldc, aOff, bOff, cOff) ? "matmul_tn" : "matmul_strided";
  }
}

/** Whether backward() will want this tensor's gradient. */
export const needsGrad = (t: Tensor): boolean => t.requiresGrad || t.node !== null;

function checkMatrix(op: string, name: string, t: Tensor): void {
  if (t.shape.length !== 2) throw shapeError(op, `${name} ${shapeString(t.shape)} must be a 2-D matrix [rows, cols]`);
  if (t.size === 0) throw shapeError(op, `${name} ${shapeString(t.shape)} has a zero-sized dimension`);
}

/** A·Bᵀ for A [m, k] and B [n, k]: [m, n] (no gradient recorded; backward passes use it). */
export function matmulNT(a: Tensor, b: Tensor, what = "matmul backward"): Tensor {
  const [m, k] = a.shape;
  const n = b.shape[0];
  const c = output([m, n], what);
  gemm("nt", a, b, { m, n, k }, c);
  return c;
}

/** Aᵀ·B for A [k, m] and B [k, n]: [m, n] (no gradient recorded; backward passes use it). */
export function matmulTN(a: Tensor, b: Tensor, what = "matmul backward"): Tensor {
  const [k, m] = a.shape;
  const n = b.shape[1];
  const c = output([m, n], what);
  gemm("tn", a, b, { m, n, k }, c);
  return c;
}

/**
 * The matrix product of a [M, K] and b [K, N]: [M, N]. Gradients dA = dC·Bᵀ and dB = Aᵀ·dC,
 * computed with the transposed kernels (no transpose copies).
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  checkMatrix("matmul", "a", a);
  checkMatrix("matmul", "b", b);
  const [m, k] = a.shape;
  const [k2, n] = b.shape;
  if (k !== k2) {
    throw shapeError("matmul", `inner dimensions differ: a ${shapeString(a.shape)} · b ${shapeString(b.shape)}; expected b [${k}, N]`);
  }
  const c = output([m, n], "matmul");
  gemm("nn", a, b, { m, n, k }, c);
  return record(c, "matmul", [a, b], (dc) => [needsGrad(a) ? matmulNT(dc, b) : null, needsGrad(b) ? matmulTN(a, dc) : null]);
}
