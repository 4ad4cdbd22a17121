import { gpu, type Binding } from "../device.js";
import { record } from "../autograd.js";
import { KERNELS, type KernelName } from "../kernels.js";
import { shapeString, type Tensor } from "../tensor.js";
import { output, params, run, shapeError } from "./run.js";

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

/** Rows and columns of C one workgroup covers (each invocation computes a 4x4 block). */
export function matmulTile(): { rows: number; cols: number } {
  const c = KERNELS.matmul_nn.constants!;
  return { rows: 4 * c.WGY, cols: 4 * c.WGX };
}

/** A row-major matrix inside a tensor: where each of the product's three dimensions walks it. */
interface Operand {
  t: Tensor;
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
  const tile = matmulTile();
  const maxWg = g.maxWorkgroupsPerDimension;
  const block: Sizes = {
    m: Math.min(sizes.m, maxWg * tile.rows),
    // n also bounds the bias block, one row of n values
    n: Math.min(sizes.n, maxWg * tile.cols, down4(limit - slack)),
    k: sizes.k,
  };
  for (;;) {
    const over = operands.find((o) => extent(block[o.rowDim], block[o.colDim], o.ld) + slack > limit);
    if (!over) return block;
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
 * problem into blocks whose operands fit one storage binding each; split K accumulates.
 */
export function gemm(layout: Layout, a: Tensor, b: Tensor, sizes: Sizes, c: Tensor, epilogue: Epilogue = {}): void {
  const { m, n, k } = sizes;
  const A: Operand = layout === "tn" ? { t: a, ld: m, rowDim: "k", colDim: "m" } : { t: a, ld: k, rowDim: "m", colDim: "k" };
  const B: Operand = layout === "nt" ? { t: b, ld: k, rowDim: "n", colDim: "k" } : { t: b, ld: n, rowDim: "k", colDim: "n" };
  const C: Operand = { t: c, ld: n, rowDim: "m", colDim: "n" };
  const bias = epilogue.bias ?? null;
  const block = blockSizes(sizes, [A, B, C]);
  const tile = matmulTile();
  for (let m0 = 0; m0 < m; m0 += block.m) {
    const mb = Math.min(block.m, m - m0);
    for (let n0 = 0; n0 < n; n0 += block.n) {
      const nb = Math.min(block.n, n - n0);
      for (let k0 = 0; k0 < k; k0 += block.k) {
        const kb = Math.min(block.k, k - k0);
        const first: Sizes = { m: m0, n: n0, k: k0 };
        const count: Sizes = { m: mb, n: nb, k: kb };
        const bind = (o: Operand) => span(o.t, first[o.rowDim] * o.ld + first[o.colDim], extent(count[o.rowDim], count[o.colDim], o.ld));
        const sa = bind(A);
        const sb = bind(B);
        const sc = bind(C);
        const sbias = bias ? span(bias, n0, nb) : null;
        let flags = 0;
        if (k0 > 0) flags |= ACCUMULATE;
        if (sbias && k0 === 0) flags |= BIAS;
        if (epilogue.relu && k0 + kb >= k) flags |= RELU;
        // strides of A (rows m, depth k), B (depth k, columns n), C (rows)
        const aSm = layout === "tn" ? 1 : k;
        const aSk = layout === "tn" ? m : 1;
        const bSk = layout === "nt" ? 1 : n;
        const bSn = layout === "nt" ? k : 1;
        const kernel = vec4Kernel(layout, { m: mb, n: nb, k: kb }, [sa.offset, sb.offset, sc.offset], [aSm, aSk, bSk, bSn, n]);
        run(
          kernel,
          [sa.binding, sb.binding, sbias ? sbias.binding : sa.binding, sc.binding],
          params([mb, nb, kb, sa.offset, sb.offset, sc.offset, sbias ? sbias.offset : 0, flags, aSm, aSk, bSk, bSn, n]),
          [Math.ceil(nb / tile.cols), Math.ceil(mb / tile.rows)],
        );
      }
    }
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
