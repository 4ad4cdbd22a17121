// conv2d as matrix products over its unfolded input (shaders/im2col.wgsl), for input and output
// channels in fours where no subgroup team kernel takes the shape (SwiftShader and GPUs; on
// lavapipe, the forward pass of the shapes its teams do not cover): the forward pass is col · w,
// the filter gradient colᵀ · dy, the input gradient dy · wᵀ gathered back into dx (col2im). Measured on SwiftShader (bench rows of 32x13x13x32 -> 64)
// against the implicit products with 4x4 tiles they replaced: forward 155 -> 81 ms, input
// gradient 198 -> 103 ms, filter gradient 150 -> 97 ms; the two-block MNIST step 618 -> 385 ms.
// The input gradient also takes inputs of any channel count (an image's), against the strip
// kernels: 32x28x28x1 -> 32 61 -> 37-44 ms, 8x224x224x3 -> 32 3.1 -> 1.0 s.

import { gpu } from "../device.js";
import type { Tensor } from "../tensor.js";
import type { Chunk, Geometry } from "./conv2d.js";
import { gemm } from "./matmul.js";
import { grid1d, gridCapacity, output, params, run } from "./run.js";
import { sumRows } from "./sum.js";

/** Lanes per workgroup of conv2d_im2col (`override WG` in shaders/im2col.wgsl). */
const WG = 64;

/**
 * Most bytes one unfolded block takes: pixels are cut into blocks that fit it (and one storage
 * binding), so a 224x224 layer does not unfold into gigabytes. (Tests lower it.)
 */
export const im2colLimits = { bytes: 32 << 20 };

/**
 * Whether the products apply: input and output channels in fours (vec4 rows). conv2d prefers the
 * subgroup teams where the device has them.
 */
export function im2colApplies(g: Geometry): boolean {
  return g.inC % 4 === 0 && g.outC % 4 === 0;
}

/** Elements in one row of the unfolded input: a window, kh * kw * inC. */
const windowSize = (g: Geometry): number => g.kh * g.kw * g.inC;

/** The chunk's output pixels in blocks [first, first + rows) whose unfolded rows fit the budget. */
function pixelBlocks(g: Geometry, c: Chunk): { first: number; rows: number }[] {
  const device = gpu();
  const bytes = Math.min(im2colLimits.bytes, device.maxBindingBytes);
  // (and one dispatch of conv2d_im2col, an invocation per row and tap, fits a 2-D grid)
  const invocations = gridCapacity(WG);
  const most = Math.max(1, Math.min(Math.floor(bytes / (4 * windowSize(g))), Math.floor(invocations / (g.kh * g.kw))));
  const pixels = c.batch * g.outH * g.outW;
  const blocks = [];
  for (let first = 0; first < pixels; first += most) blocks.push({ first, rows: Math.min(most, pixels - first) });
  return blocks;
}

/** Elements in one row of the input gradient's dcol: a window, up to a multiple of 4 (vec4 rows). */
const paddedWindow = (g: Geometry): number => Math.ceil(windowSize(g) / 4) * 4;

/** The Params uniform of shaders/im2col.wgsl (`struct Im2col`). */
const im2colParams = (g: Geometry, xOffset: number, first: number, rows: number): ArrayBuffer =>
  params([g.inH, g.inW, g.inC, g.outH, g.outW, g.outC, g.kh, g.kw, g.strideH, g.strideW, g.padTop, g.padLeft, xOffset, first, rows, paddedWindow(g)]);

/** The windows of pixels [first, first + rows) of chunk c's input: [rows, kh * kw * inC]. */
function unfold(g: Geometry, c: Chunk, first: number, rows: number): Tensor {
  const col = output([rows, windowSize(g)], "conv2d unfolded input");
  run("conv2d_im2col", [c.input, col], im2colParams(g, c.xOffset, first, rows), grid1d(rows * g.kh * g.kw, WG));
  return col;
}

/** y = x ⊛ w (+ b, relu) for each chunk of images, written into y (the chunks' images of the whole tensor). */
export function forwardByIm2col(g: Geometry, chunks: Chunk[], w: Tensor, b: Tensor | null, relu: boolean, y: Tensor): void {
  const k = windowSize(g);
  const filter = w.reshape([k, g.outC]);
  for (const c of chunks) {
    for (const { first, rows } of pixelBlocks(g, c)) {
      const col = unfold(g, c, first, rows);
      const pixel = c.first * g.outH * g.outW + first;
      gemm("nn", col, filter, { m: rows, n: g.outC, k }, y, { bias: b, relu }, { c: pixel * g.outC });
      col.dispose();
    }
  }
}

/**
 * dx = col2im(dy · wᵀ) for each chunk of images (chunks of dx and dy), written into dx: the
 * product gives each output pixel's window of gradients (dcol), and each dx pixel gathers the
 * rows of the windows it sits in. Any input channels (rows padded to fours), output channels in
 * fours. Blocks hold whole images (a dx pixel's windows lie in its own image); false (nothing
 * recorded) where the channels do not suit or one image's windows pass a binding or a grid.
 * (As the forward convolution of dy with the turned filter instead, the unfolding would carry
 * kh - 1 of padding: 40% more multiply-adds at 13x13, 145 against 103 ms on SwiftShader.)
 */
export function inputGradientByIm2col(g: Geometry, chunks: Chunk[], dy: Tensor, w: Tensor, dx: Tensor): boolean {
  const k = paddedWindow(g);
  const device = gpu();
  const perImage = g.outH * g.outW * k * 4;
  // (the gather runs an invocation per dx pixel and group of 4 channels, or per element, in one 2-D grid)
  const vec4 = g.inC % 4 === 0;
  const invocations = gridCapacity(WG);
  const perImageInvocations = g.inH * g.inW * (vec4 ? g.inC / 4 : g.inC);
  if (g.outC % 4 !== 0 || perImage > device.maxBindingBytes || perImageInvocations > invocations) return false;
  const images = Math.max(1, Math.min(Math.floor(im2colLimits.bytes / perImage), Math.floor(device.maxBindingBytes / perImage), Math.floor(invocations / perImageInvocations)));
  const wt = output([g.outC, k], "conv2d filter transposed");
  run("conv2d_filter_transpose", [w, wt], im2colParams(g, 0, 0, 0), grid1d(wt.size, WG));
  for (const c of chunks) {
    for (let first = 0; first < c.batch; first += images) {
      const count = Math.min(images, c.batch - first);
      const pixels = count * g.outH * g.outW;
      const dcol = output([pixels, k], "conv2d input gradient windows");
      gemm("nn", dy, wt, { m: pixels, n: k, k: g.outC }, dcol, {}, { a: (c.first + first) * g.outH * g.outW * g.outC });
      const rows = count * g.inH * g.inW;
      const xOffset = c.xOffset + first * g.inH * g.inW * g.inC;
      run(vec4 ? "conv2d_col2im" : "conv2d_col2im1", [dcol, c.input], im2colParams(g, xOffset, 0, rows), grid1d(rows * (vec4 ? g.inC / 4 : g.inC), WG));
      dcol.dispose();
    }
  }
  wt.dispose();
  return true;
}

/** dw = sum over pixels of window ⊗ dy: one product colᵀ · dy per block of pixels, the blocks' filters added up. */
export function filterGradientByIm2col(g: Geometry, chunks: Chunk[], dy: Tensor): Tensor {
  const k = windowSize(g);
  const blocks = chunks.flatMap((c) => pixelBlocks(g, c).map((block) => ({ c, ...block })));
  const partial = output([blocks.length, k * g.outC], "conv2d filter gradient");
  blocks.forEach(({ c, first, rows }, i) => {
    const col = unfold(g, c, first, rows);
    const pixel = c.first * g.outH * g.outW + first;
    gemm("tn", col, dy, { m: k, n: g.outC, k: rows }, partial, {}, { b: pixel * g.outC, c: i * k * g.outC });
    col.dispose();
  });
  const dw = (blocks.length === 1 ? partial : sumRows(partial)).reshape([g.kh, g.kw, g.inC, g.outC]);
  partial.dispose();
  return dw;
}
