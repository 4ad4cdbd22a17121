import { record } from "../autograd.js";
import { gpu } from "../device.js";
import type { KernelName } from "../kernels.js";
import { shapeString, type Shape, type Tensor } from "../tensor.js";
import { blockGroups, chunks, grid1d, output, params, run, shapeError } from "./run.js";

export type PoolPadding = "valid" | "same";

export interface MaxPool2dOptions {
  /** Window [height, width]; one number for a square window. Default [2, 2]. */
  poolSize?: number | [number, number];
  /** Steps between windows; default poolSize (as Keras). */
  strides?: number | [number, number];
  /** "valid" drops windows that would leave the input; "same" pads so out = ceil(in / stride). Default "valid". */
  padding?: PoolPadding;
}

/** Everything a pooling dispatch needs to know about one call's shapes. */
interface PoolGeometry {
  batch: number;
  height: number;
  width: number;
  channels: number;
  outHeight: number;
  outWidth: number;
  pool: [number, number];
  strides: [number, number];
  /** Padding rows above and columns left of the input ("same" only; padded cells never win). */
  padTop: number;
  padLeft: number;
}

function pair(op: string, what: string, value: number | [number, number]): [number, number] {
  const p: [number, number] = typeof value === "number" ? [value, value] : value;
  if (!Array.isArray(p) || p.length !== 2 || !p.every((v) => Number.isInteger(v) && v > 0)) {
    throw shapeError(op, `${what} must be a positive integer or a pair of them, got ${JSON.stringify(value)}`);
  }
  return [p[0], p[1]];
}

function outputSize(inSize: number, pool: number, stride: number, padding: PoolPadding): { out: number; padBefore: number } {
  if (padding === "valid") return { out: Math.floor((inSize - pool) / stride) + 1, padBefore: 0 };
  const out = Math.ceil(inSize / stride);
  const total = Math.max((out - 1) * stride + pool - inSize, 0);
  return { out, padBefore: Math.floor(total / 2) };
}

function geometry(op: string, inputShape: Shape, poolSize: number | [number, number], strides: number | [number, number] | undefined, padding: PoolPadding): PoolGeometry {
  if (inputShape.length !== 4) {
    throw shapeError(op, `expects an NHWC input [batch, height, width, channels], got ${shapeString(inputShape)} (rank ${inputShape.length})`);
  }
  if (!inputShape.every((d) => Number.isInteger(d) && d > 0)) {
    throw shapeError(op, `input ${shapeString(inputShape)} has a zero or negative size; every dimension must be at least 1`);
  }
  if (padding !== "valid" && padding !== "same") {
    throw shapeError(op, `padding must be "valid" or "same", got ${JSON.stringify(padding)}`);
  }
  const pool = pair(op, "poolSize", poolSize);
  const step = pair(op, "strides", strides ?? pool);
  const [batch, height, width, channels] = inputShape;
  if (padding === "valid" && (pool[0] > height || pool[1] > width)) {
    throw shapeError(
      op,
      `pool ${shapeString(pool)} is larger than input ${shapeString(inputShape)} (height ${height}, width ${width}) with "valid" padding; ` +
        `use a pool of at most [${height}, ${width}] or padding "same"`,
    );
  }
  const rows = outputSize(height, pool[0], step[0], padding);
  const cols = outputSize(width, pool[1], step[1], padding);
  return {
    batch,
    height,
    width,
    channels,
    outHeight: rows.out,
    outWidth: cols.out,
    pool,
    strides: step,
    padTop: rows.padBefore,
    padLeft: cols.padBefore,
  };
}

/**
 * The output shape [batch, outHeight, outWidth, channels] of max pooling an NHWC input, as Keras
 * and TensorFlow size it: "valid" floor((in - pool) / stride) + 1, "same" ceil(in / stride).
 * Throws for a wrong rank, non-positive sizes, or a pool larger than the input with "valid".
 */
export function maxPool2dOutputShape(
  inputShape: Shape,
  poolSize: number | [number, number] = 2,
  strides?: number | [number, number],
  padding: PoolPadding = "valid",
): number[] {
  const g = geometry("maxPool2d", inputShape, poolSize, strides, padding);
  return [g.batch, g.outHeight, g.outWidth, g.channels];
}

/** The u32 fields every pooling kernel's Params starts with; `count` is the items of this dispatch. */
function poolParams(g: PoolGeometry, count: number): ArrayBuffer {
  return params([g.height, g.width, g.channels, g.outHeight, g.outWidth, g.pool[0], g.pool[1], g.strides[0], g.strides[1], g.padTop, g.padLeft, count]);
}

/**
 * Image ranges [first, count] that fit one storage binding, so that input-sized and output-sized
 * tensors both start each chunk at an aligned offset. The input image is the larger of the two.
 */
function batchChunks(g: PoolGeometry): [number, number][] {
  const outImage = g.outHeight * g.outWidth * g.channels;
  const align = gpu().bindingAlignment;
  const outStep = align / gcd(outImage * 4, align);
  return chunks(g.batch, g.height * g.width * g.channels, outStep);
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/**
 * Workgroups for `items` outputs: the 2x2 kernels walk blocks of them in a few workgroups (sized
 * as an elementwise pass over their 4 input vec4s each), the others take one per invocation.
 */
function dispatchFor(kernel: KernelName, items: number): [number, number?] {
  return kernel.includes("_2x2") ? blockGroups(16 * items) : grid1d(items);
}

/**
 * Keras' default 2x2 pool with stride 2, which has straight-line kernels: "inside" when every
 * window lies inside the image (no padding; an odd last row or column is left out), "tiling"
 * when the windows also cover it exactly (even sizes), "no" otherwise.
 */
function windows2x2(g: PoolGeometry): "tiling" | "inside" | "no" {
  const is2x2 = g.pool[0] === 2 && g.pool[1] === 2 && g.strides[0] === 2 && g.strides[1] === 2;
  if (!is2x2 || g.padTop !== 0 || g.padLeft !== 0 || 2 * g.outHeight > g.height || 2 * g.outWidth > g.width) return "no";
  return 2 * g.outHeight === g.height && 2 * g.outWidth === g.width ? "tiling" : "inside";
}

/**
 * 2-D max pooling of an NHWC tensor [N, H, W, C], as Keras MaxPooling2D. The forward also stores
 * each output's winning input (the first maximum in window order); the backward sends dy there.
 */
export function maxPool2d(x: Tensor, opts: MaxPool2dOptions = {}): Tensor {
  const g = geometry("maxPool2d", x.shape, opts.poolSize ?? 2, opts.strides, opts.padding ?? "valid");
  const outShape = [g.batch, g.outHeight, g.outWidth, g.channels];
  const y = output(outShape, "maxPool2d");
  // 4 channels per invocation with vec4 loads when every pixel starts on a vec4 (4x fewer
  // invocations: much faster on software Vulkan); 2x2 windows with stride 2 that all lie inside
  // the image (Keras' default) have their own straight-line kernels
  const lanes = g.channels % 4 === 0 ? 4 : 1;
  const fast2x2 = lanes === 4 && windows2x2(g) !== "no";
  // an input that needs no gradient (inference) gets no winners from the 2x2 kernel; the others
  // always write them, and record() below drops them when no gradient is recorded
  const winners = !fast2x2 || x.requiresGrad || x.node !== null;
  // u32 flat indices within each image, held in a float tensor's buffer
  const argmax = winners ? output(outShape, "maxPool2d argmax") : null;
  const kernel: KernelName = fast2x2 ? (argmax ? "maxpool2d_fwd_vec4_2x2" : "maxpool2d_fwd_vec4_2x2_max") : lanes === 4 ? "maxpool2d_fwd_vec4" : "maxpool2d_fwd";
  const inImage = g.height * g.width * g.channels;
  const outImage = g.outHeight * g.outWidth * g.channels;
  for (const [first, count] of batchChunks(g)) {
    const items = (count * outImage) / lanes;
    const outputs = [y, argmax].filter((t): t is Tensor => t !== null).map((t) => t.binding(first * outImage, count * outImage));
    run(kernel, [x.binding(first * inImage, count * inImage), ...outputs], poolParams(g, items), dispatchFor(kernel, items));
  }
  // (no winners means x is not tracked: record() makes no node and never calls the backward)
  const out = record(y, "maxPool2d", [x], (dy) => [maxPool2dBackward(g, argmax!, dy)]);
  // without a gradient node nothing will read the winners again
  if (!out.node) argmax?.dispose();
  return out;
}

/**
 * dx[n, i, j, c]: the sum of dy over the windows that hold (i, j) and chose it as their maximum.
 * Deterministic and free of atomics: every dx element is written by one invocation. Windows that
 * do not overlap (stride >= pool, Keras' default) run one invocation per output, which writes the
 * input cells it owns; overlapping windows gather, one invocation per input element.
 */
function maxPool2dBackward(g: PoolGeometry, argmax: Tensor, dy: Tensor): Tensor {
  const dx = output([g.batch, g.height, g.width, g.channels], "maxPool2d backward");
  const lanes = g.channels % 4 === 0 ? 4 : 1;
  const tiles = g.strides[0] >= g.pool[0] && g.strides[1] >= g.pool[1];
  const kernel: KernelName = tiles
    ? lanes === 4 ? (windows2x2(g) === "tiling" ? "maxpool2d_bwd_tile_vec4_2x2" : "maxpool2d_bwd_tile_vec4") : "maxpool2d_bwd_tile"
    : lanes === 4 ? "maxpool2d_bwd_vec4" : "maxpool2d_bwd";
  const inImage = g.height * g.width * g.channels;
  const outImage = g.outHeight * g.outWidth * g.channels;
  for (const [first, count] of batchChunks(g)) {
    const items = (count * (tiles ? outImage : inImage)) / lanes;
    run(
      kernel,
      [dy.binding(first * outImage, count * outImage), argmax.binding(first * outImage, count * outImage), dx.binding(first * inImage, count * inImage)],
      poolParams(g, items),
      dispatchFor(kernel, items),
    );
  }
  return dx;
}
