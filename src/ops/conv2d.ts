import { record } from "../autograd.js";
import { gpu, type Binding } from "../device.js";
import type { KernelName } from "../kernels.js";
import { FORWARD_TEAM_MAX_TILES, FORWARD_TEAM_PIXELS, FORWARD_TEAM_ROWS, FORWARD_TEAM_WG } from "../../shaders/conv2d-forward-subgroup.js";
import { IMAGE_CHANNELS, IMAGE_FILTER_CHANNELS, IMAGE_TEAM_PIXELS, IMAGE_TEAM_ROWS, IMAGE_TEAM_WG, INPUT_TEAM_CHANNELS, INPUT_TEAM_PIXELS, INPUT_TEAM_ROWS, GRAY_PIXELS, GRAY_ROWS } from "../../shaders/conv2d-image-subgroup.js";
import { GEMM_FILTER_ROWS, GEMM_MAX_PIXELS, GEMM_TEAM_CHANNELS, GEMM_TEAM_PIXELS, GEMM_TEAM_WG } from "../../shaders/conv2d-gemm-subgroup.js";
import { shapeString, type Shape, type Tensor } from "../tensor.js";
import { reluBackward } from "./relu.js";
import { grid1d, gridCapacity, output, params, run, shapeError } from "./run.js";
import { sumRows } from "./sum.js";
import { filterGradientByIm2col, forwardByIm2col, im2colApplies, inputGradientByIm2col } from "./conv2d-im2col.js";

export type Conv2dPadding = "valid" | "same";

export interface Conv2dOptions {
  /** Step between windows: one number for both axes or [vertical, horizontal]. Default 1. */
  strides?: number | [number, number];
  /** "valid" (no padding, the default) or "same" (zero padding, as TensorFlow places it). */
  padding?: Conv2dPadding;
  /** "relu" applies max(y, 0) in the same pass. Default "linear". */
  activation?: "linear" | "relu";
}

/** Lanes per workgroup; matches `override WG` in shaders/conv2d.wgsl. */
const WG = 64;
/** The plain kernels compute 4 pixels (or filter rows) by 4 channels, 8 in conv2d_bwd_filter_vec4. */
const TILE = 4;
const VEC4_TILE = 8;
/**
 * Pixels per strip in the strip kernels (STRIP and SHORT_STRIP in shaders/conv2d.wgsl): the
 * sliding ones (stride 1) and the forward for other strides or narrow outputs.
 */
const STRIP = 16;
const SHORT_STRIP = 8;
/** Output channels per forward strip tile: 4 groups of 4. */
const STRIP_CHANNELS = 16;
/** Input rows per block of conv2d_bwd_input_ring1 (RING_ROWS in shaders/conv2d.wgsl). */
const RING_ROWS = 4;
/** A filter-gradient team's tile (shaders/conv2d-subgroup.wgsl): 16 filter rows by 8 x 4 channels. */
const TEAM_ROWS = 16;
const TEAM_CHANNELS = 32;
/**
 * Invocations the filter gradient aims for: its output (the filter) is small and its reduction
 * (every output pixel of the batch) long, so the reduction is cut into this many slices' worth of
 * partial sums, added up afterwards.
 */
const FILTER_GRAD_INVOCATIONS = 16_384;
/** Fewest output pixels one slice of the filter gradient sums (slicing finer only adds overhead). */
const MIN_SLICE_PIXELS = 256;

/** Everything the kernels need to know about one convolution. */
export interface Geometry {
  batch: number;
  inH: number;
  inW: number;
  inC: number;
  kh: number;
  kw: number;
  outC: number;
  outH: number;
  outW: number;
  strideH: number;
  strideW: number;
  padTop: number;
  padLeft: number;
}

/** A 3x3 filter at stride 1 both ways: the shape the row and team kernels are written for. */
const is3x3Stride1 = (g: Geometry): boolean => g.kh === 3 && g.kw === 3 && g.strideH === 1 && g.strideW === 1;

function geometry(op: string, inputShape: Shape, kernelShape: Shape, strides: number | [number, number], padding: Conv2dPadding, unknownBatch = false): Geometry {
  const input = `input ${shapeString(inputShape)}`;
  const filter = `filter ${shapeString(kernelShape)}`;
  if (inputShape.length !== 4) throw shapeError(op, `${input} must be 4-D [batch, height, width, channels] (NHWC)`);
  if (kernelShape.length !== 4) throw shapeError(op, `${filter} must be 4-D [kernelHeight, kernelWidth, inChannels, outChannels]`);
  const [batch, inH, inW, inC] = inputShape;
  const [kh, kw, filterC, outC] = kernelShape;
  const positive = (v: number) => Number.isInteger(v) && v > 0;
  const batchOk = positive(batch) || (unknownBatch && batch === -1);
  if (!batchOk || ![inH, inW, inC].every(positive)) throw shapeError(op, `${input} must have positive integer sizes`);
  if (![kh, kw, filterC, outC].every(positive)) throw shapeError(op, `${filter} must have positive integer sizes`);
  if (filterC !== inC) {
    throw shapeError(op, `${input} has ${inC} channel(s) but ${filter} expects ${filterC} (filters are [kh, kw, inChannels, outChannels])`);
  }
  const [strideH, strideW] = typeof strides === "number" ? [strides, strides] : Array.isArray(strides) ? strides : [NaN, NaN];
  if (!positive(strideH) || !positive(strideW) || (Array.isArray(strides) && strides.length !== 2)) {
    throw shapeError(op, `strides ${JSON.stringify(strides)} must be a positive integer or two positive integers [vertical, horizontal]`);
  }
  if (padding !== "valid" && padding !== "same") throw shapeError(op, `padding ${JSON.stringify(padding)} must be "valid" or "same"`);
  // (one tile of 4 channels or more per workgroup along z, which allows 65,535 workgroups)
  const maxChannels = TILE * 65_535;
  if (inC > maxChannels || outC > maxChannels) throw shapeError(op, `${filter} has more than ${maxChannels} channels`);

  let outH: number, outW: number, padTop: number, padLeft: number;
  if (padding === "valid") {
    if (kh > inH || kw > inW) {
      throw shapeError(op, `${filter} window ${kh}x${kw} is larger than the ${inH}x${inW} ${input} with padding "valid"`);
    }
    [outH, outW, padTop, padLeft] = [Math.floor((inH - kh) / strideH) + 1, Math.floor((inW - kw) / strideW) + 1, 0, 0];
  } else {
    // TensorFlow's rule: the odd padding pixel goes after (bottom / right)
    outH = Math.ceil(inH / strideH);
    outW = Math.ceil(inW / strideW);
    padTop = Math.floor(Math.max((outH - 1) * strideH + kh - inH, 0) / 2);
    padLeft = Math.floor(Math.max((outW - 1) * strideW + kw - inW, 0) / 2);
  }
  return { batch, inH, inW, inC, kh, kw, outC, outH, outW, strideH, strideW, padTop, padLeft };
}

/**
 * The output shape [batch, outHeight, outWidth, outChannels] of conv2d() on an NHWC input shape
 * and a [kh, kw, inC, outC] filter shape, for layers to infer shapes. The batch may be -1
 * (unknown). Throws the errors conv2d() would: wrong ranks, channel mismatch, non-positive sizes
 * or strides, a window larger than the padded input.
 */
export function conv2dOutputShape(inputShape: Shape, kernelShape: Shape, strides: number | [number, number] = 1, padding: Conv2dPadding = "valid"): number[] {
  const g = geometry("conv2dOutputShape", inputShape, kernelShape, strides, padding, true);
  return [g.batch, g.outH, g.outW, g.outC];
}

/** The Params uniform every conv2d kernel reads (see `struct Conv` in shaders/conv2d.wgsl). */
function convParams(g: Geometry, chunk: { batch: number; xOffset: number; yOffset: number }, extra: { bias?: boolean; relu?: boolean; sliceRows?: number; outRow?: number } = {}): ArrayBuffer {
  return params([
    chunk.batch, g.inH, g.inW, g.inC, g.outH, g.outW, g.outC, g.kh, g.kw, g.strideH, g.strideW, g.padTop, g.padLeft,
    chunk.xOffset, chunk.yOffset, extra.bias ? 1 : 0, extra.relu ? 1 : 0, extra.sliceRows ?? 0, extra.outRow ?? 0,
  ]);
}

/** A batch chunk: its images' bindings of an input-sized and an output-sized tensor. */
export interface Chunk {
  first: number;
  batch: number;
  /** binding of the input-sized tensor (x or dx) and where the chunk starts in it */
  input: Binding;
  xOffset: number;
  /** binding of the output-sized tensor (y or dy) */
  output: Binding;
  yOffset: number;
}

/**
 * Splits the batch so that each chunk's images of `input` (x or dx) and `out` (y or dy) fit one
 * storage binding. Bindings start at the aligned offset at or before the chunk's first image;
 * the kernels skip the few elements in between.
 */
function batchChunks(g: Geometry, input: Tensor, out: Tensor): Chunk[] {
  const device = gpu();
  const limit = device.maxBindingBytes;
  const alignElems = device.bindingAlignment / 4;
  const inputImage = g.inH * g.inW * g.inC;
  const outputImage = g.outH * g.outW * g.outC;
  const largest = Math.max(inputImage, outputImage) * 4;
  let perChunk = g.batch;
  if (g.batch * largest > limit) {
    perChunk = Math.floor((limit - device.bindingAlignment) / largest);
    if (perChunk < 1) {
      const [what, shape] = inputImage >= outputImage ? ["input", input.shape] : ["output", out.shape];
      throw shapeError(
        "conv2d",
        `one image of the ${what} ${shapeString(shape)} takes ${largest} bytes, more than this adapter's storage binding limit ` +
          `(${limit} bytes); use smaller images or fewer channels`,
      );
    }
  }
  const slice = (t: Tensor, perImage: number, first: number, count: number): [Binding, number] => {
    const start = first * perImage;
    const aligned = start - (start % alignElems);
    return [t.binding(aligned, start + count * perImage - aligned), start - aligned];
  };
  const result: Chunk[] = [];
  for (let first = 0; first < g.batch; first += perChunk) {
    const batch = Math.min(perChunk, g.batch - first);
    const [inputBinding, xOffset] = slice(input, inputImage, first, batch);
    const [outputBinding, yOffset] = slice(out, outputImage, first, batch);
    result.push({ first, batch, input: inputBinding, xOffset, output: outputBinding, yOffset });
  }
  return result;
}

function checkFits(t: Tensor, what: string): void {
  const limit = gpu().maxBindingBytes;
  if (t.size * 4 > limit) {
    throw shapeError("conv2d", `${what} ${shapeString(t.shape)} takes ${t.size * 4} bytes, more than this adapter's storage binding limit (${limit} bytes)`);
  }
}

/** Whether backward() wants a gradient for t (it needs one, or an op that made it does). */
const wantsGrad = (t: Tensor | null): t is Tensor => !!t && (t.requiresGrad || t.node !== null);

/**
 * 2-D convolution (cross-correlation, as Keras): x NHWC [batch, height, width, inChannels],
 * w [kh, kw, inChannels, outChannels], b [outChannels] or null. "same" padding pads like
 * TensorFlow (the odd pixel after). `activation: "relu"` fuses max(y, 0) into the forward pass.
 * Batches whose tensors exceed one storage binding run in chunks of images.
 */
export function conv2d(x: Tensor, w: Tensor, b: Tensor | null, opts: Conv2dOptions = {}): Tensor {
  const { strides = 1, padding = "valid", activation = "linear" } = opts;
  const g = geometry("conv2d", x.shape, w.shape, strides, padding);
  if (b && (b.shape.length !== 1 || b.shape[0] !== g.outC)) {
    throw shapeError("conv2d", `bias ${shapeString(b.shape)} does not match filter ${shapeString(w.shape)}; expected [${g.outC}]`);
  }
  if (activation !== "linear" && activation !== "relu") throw shapeError("conv2d", `activation ${JSON.stringify(activation)} must be "linear" or "relu"`);
  checkFits(w, "filter");
  const relu = activation === "relu";
  const y = output([g.batch, g.outH, g.outW, g.outC], relu ? "conv2d+relu" : "conv2d");
  for (const c of batchChunks(g, x, y)) {
    const p = convParams(g, c, { bias: !!b, relu });
    // without a bias the kernel ignores its bias binding; any read-only buffer fills it
    const bindings = [c.input, w, b ?? w, c.output];
    if (g.outC % 4 !== 0) {
      const [gx, gy] = grid1d(Math.ceil((c.batch * g.outH * g.outW) / TILE), WG);
      run("conv2d_fwd", bindings, p, [gx, gy, Math.ceil(g.outC / TILE)]);
      continue;
    }
    const product = forwardProduct(g, c.batch);
    if (product) {
      run(product.kernel, bindings, p, product.grid);
      continue;
    }
    if (im2colApplies(g)) {
      forwardByIm2col(g, [c], w, b, relu, y);
      continue;
    }
    // 3x3 at stride 1 (an image's first layer, without subgroups): rows of 8 pixels by 8
    // channels in named registers. SwiftShader: 32x28x28x1 -> 32 48 -> 27-33 ms, 8x224x224x3 ->
    // 32 1.84 -> 0.66 s against the strips below.
    if (is3x3Stride1(g) && g.outW >= 8) {
      run("conv2d_fwd_row8", bindings, p, grid1d(c.batch * g.outH * Math.ceil(g.outW / 8) * Math.ceil(g.outC / 8), WG));
      continue;
    }
    // strips along output rows; stride 1 slides the inputs along the strip
    const slide = g.strideW === 1 && g.outW >= STRIP;
    const strip = slide ? STRIP : SHORT_STRIP;
    const tiles = c.batch * g.outH * Math.ceil(g.outW / strip) * Math.ceil(g.outC / STRIP_CHANNELS);
    run(slide ? "conv2d_fwd_slide" : "conv2d_fwd_vec4", bindings, p, grid1d(tiles, WG));
  }
  return record(y, "conv2d", [x, w, b], (dyIn) => {
    const dy = relu ? reluBackward(y, dyIn) : dyIn;
    const grads = [
      wantsGrad(x) ? conv2dBackwardInput(g, dy, w) : null,
      wantsGrad(w) ? conv2dBackwardFilter(g, x, dy) : null,
      wantsGrad(b) ? sumRows(dy.reshape([g.batch * g.outH * g.outW, g.outC])) : null,
    ];
    if (dy !== dyIn) dy.dispose();
    return grads;
  });
}

/**
 * The forward kernel of the subgroup teams for this shape (implicit product, image or row-strip
 * teams), or null: then input channels in fours take the im2col products, others the strips.
 */
function forwardProduct(g: Geometry, batch: number): { kernel: KernelName; grid: [number, number?, number?] } | null {
  if (gemmTeams(g)) return { kernel: "conv2d_fwd_gemm", grid: gemmGrid(g, batch) };
  const image = imageKernel(g, "conv2d_fwd_img", IMAGE_CHANNELS, g.outW >= IMAGE_TEAM_PIXELS);
  const imageTiles = batch * Math.ceil(g.outH / IMAGE_TEAM_ROWS) * Math.ceil(g.outW / IMAGE_TEAM_PIXELS) * Math.ceil(g.outC / TEAM_CHANNELS);
  if (image && imageTiles < FORWARD_TEAM_MAX_TILES) return { kernel: image, grid: grid1d(imageTiles, IMAGE_TEAM_WG / 8) };
  const teamTiles = batch * Math.ceil(g.outH / FORWARD_TEAM_ROWS) * Math.ceil(g.outW / FORWARD_TEAM_PIXELS) * Math.ceil(g.outC / TEAM_CHANNELS);
  if (forwardTeams(g) && teamTiles < FORWARD_TEAM_MAX_TILES) return { kernel: "conv2d_fwd_sg3", grid: grid1d(teamTiles, FORWARD_TEAM_WG / 8) };
  return null;
}

/**
 * Input channels from which the implicit-product teams beat the row-strip teams (3x3, stride 1).
 * Measured (lavapipe, kernel times): 32x13x13x32 -> 64 20 against 31 ms, 32x26x26x32 -> 32 39
 * against 53; with 4 or 8 channels 4-10% slower. Other shapes have no strip teams, and the
 * product teams beat the plain kernels there (5x5: 27 against 31 ms; stride 2: 17 against 38).
 */
const GEMM_MIN_CHANNELS = 16;

/** Whether the forward pass runs as an implicit matrix product on teams (shaders/conv2d-gemm-subgroup.ts). */
function gemmTeams(g: Geometry): boolean {
  const device = gpu();
  const pixels = g.batch * g.outH * g.outW;
  const fits = g.inC % 4 === 0 && g.outC % 4 === 0 && pixels < GEMM_MAX_PIXELS && device.subgroupKernels && device.kernels.has("conv2d_fwd_gemm");
  return fits && (g.inC >= GEMM_MIN_CHANNELS || !forwardTeams(g));
}

/** Its workgroups: (blocks of 32 output channels, blocks of 4 teams' pixels). */
function gemmGrid(g: Geometry, batch: number): [number, number] {
  return [Math.ceil(g.outC / GEMM_TEAM_CHANNELS), Math.ceil((batch * g.outH * g.outW) / (GEMM_TEAM_PIXELS * (GEMM_TEAM_WG / 8)))];
}

/**
 * The kernel `${name}${inC}` of shaders/conv2d-image-subgroup.ts (a first layer's: 3x3 filters at
 * stride 1, output channels in fours) where it applies: input channels among `channels`, rows
 * wide enough for its strips (`wide`), compiled on this device. Null otherwise.
 */
function imageKernel(g: Geometry, name: string, channels: readonly number[], wide: boolean): KernelName | null {
  const shape = is3x3Stride1(g) && g.outC % 4 === 0 && channels.includes(g.inC);
  const kernel = `${name}${g.inC}` as KernelName;
  return shape && wide && gpu().subgroupKernels && gpu().kernels.has(kernel) ? kernel : null;
}

/** Whether the forward pass runs on teams of 8 lanes (shaders/conv2d-forward-subgroup.ts). */
function forwardTeams(g: Geometry): boolean {
  const device = gpu();
  const shape = is3x3Stride1(g) && g.outC % 4 === 0;
  return shape && g.outH >= FORWARD_TEAM_ROWS && device.subgroupKernels && device.kernels.has("conv2d_fwd_sg3");
}

/**
 * Input channels from which the input gradient runs as a forward convolution on subgroup teams
 * (teams cover 32 channels: with fewer, most lanes repeat the last ones). Measured (lavapipe,
 * dinput of 32x26x26xC -> 32): C = 8 teams 49 ms, strips 23 ms; C = 16 51 / 49 ms; C = 32 48 /
 * 111 ms. At 13x13 (rows too narrow for strips) C = 4 and 8: teams 13 ms, conv2d_bwd_input_vec4 7-10.
 */
const TEAM_INPUT_GRAD_MIN_CHANNELS = 16;

/**
 * dx for 3x3 filters at stride 1 as the forward convolution of dy with the filter turned half a
 * turn and its channel axes swapped, on one of forwardProduct's kernels; null where none applies.
 */
function inputGradientByForwardTeams(g: Geometry, dy: Tensor, w: Tensor): Tensor | null {
  const shape = is3x3Stride1(g) && g.inC % 4 === 0;
  if (!shape || g.inC < TEAM_INPUT_GRAD_MIN_CHANNELS) return null;
  // dy [n, outH, outW, outC] in, dx [n, inH, inW, inC] out, padded k - 1 - pad
  const t: Geometry = {
    ...g, inH: g.outH, inW: g.outW, inC: g.outC, outH: g.inH, outW: g.inW, outC: g.inC,
    padTop: g.kh - 1 - g.padTop, padLeft: g.kw - 1 - g.padLeft,
  };
  // (a batch chunk, being smaller, gets a kernel wherever the whole batch does)
  if (!forwardProduct(t, g.batch)) return null;
  const flipped = output([g.kh, g.kw, g.outC, g.inC], "conv2d flipped filter");
  run("conv2d_flip_filter", [w, flipped], convParams(g, { batch: 0, xOffset: 0, yOffset: 0 }), grid1d(w.size, WG));
  const dx = output([g.batch, g.inH, g.inW, g.inC], "conv2d input gradient");
  for (const c of batchChunks(t, dy, dx)) {
    const { kernel, grid } = forwardProduct(t, c.batch)!;
    run(kernel, [c.input, flipped, flipped, c.output], convParams(t, c), grid);
  }
  flipped.dispose();
  return dx;
}

/** dx: each input pixel gathers dy through the filter taps that reached it. */
function conv2dBackwardInput(g: Geometry, dy: Tensor, w: Tensor): Tensor {
  const byTeams = inputGradientByForwardTeams(g, dy, w);
  if (byTeams) return byTeams;
  const dx = output([g.batch, g.inH, g.inW, g.inC], "conv2d input gradient");
  // without subgroups, output channels in fours: the im2col products (dy · wᵀ, folded back)
  if (!gpu().subgroupKernels && inputGradientByIm2col(g, batchChunks(g, dx, dy), dy, w, dx)) return dx;
  const gray = g.inC === 1;
  const [rows, pixels] = gray ? [Math.min(g.inH, GRAY_ROWS), GRAY_PIXELS] : [INPUT_TEAM_ROWS, INPUT_TEAM_PIXELS];
  const imageTeams = imageKernel(g, "conv2d_bwd_input_img", [1, ...INPUT_TEAM_CHANNELS], g.inW >= pixels);
  if (imageTeams) {
    for (const c of batchChunks(g, dx, dy)) {
      const tiles = c.batch * Math.ceil(g.inH / rows) * Math.ceil(g.inW / pixels);
      run(imageTeams, [c.output, w, c.input], convParams(g, c), grid1d(tiles, IMAGE_TEAM_WG / 8));
    }
    return dx;
  }
  // strips of 1-4 input channels that slide along rows (stride 1 across, outC % 4 == 0); one
  // input channel and stride 1 both ways: blocks of rows that load each dy row once
  const slide = g.outC % 4 === 0 && g.strideW === 1 && g.inW >= STRIP;
  const ring = slide && g.inC === 1 && g.strideH === 1 && g.kh <= 3;
  const chans = Math.min(g.inC, 4);
  for (const c of batchChunks(g, dx, dy)) {
    const p = convParams(g, c);
    if (ring) {
      const tiles = c.batch * Math.ceil(g.inH / RING_ROWS) * Math.ceil(g.inW / STRIP);
      run("conv2d_bwd_input_ring1", [c.output, w, c.input], p, grid1d(tiles, WG));
      continue;
    }
    if (slide) {
      const tiles = c.batch * g.inH * Math.ceil(g.inW / STRIP) * Math.ceil(g.inC / chans);
      run(SLIDE_INPUT_KERNELS[chans - 1], [c.output, w, c.input], p, grid1d(tiles, WG));
      continue;
    }
    const [gx, gy] = grid1d(Math.ceil((c.batch * g.inH * g.inW) / TILE), WG);
    const kernel = g.outC % 4 === 0 ? "conv2d_bwd_input_vec4" : "conv2d_bwd_input";
    run(kernel, [c.output, w, c.input], p, [gx, gy, Math.ceil(g.inC / TILE)]);
  }
  return dx;
}

/** The sliding input-gradient kernels by input channels per strip (1 to 4). */
const SLIDE_INPUT_KERNELS = ["conv2d_bwd_input_slide1", "conv2d_bwd_input_slide2", "conv2d_bwd_input_slide3", "conv2d_bwd_input_slide4"] as const;

/**
 * dw: for every filter element, a sum over the whole batch's output pixels. Each dispatch writes
 * partial sums, one row per slice of output rows (and per batch chunk); sumRows adds them.
 */
function conv2dBackwardFilter(g: Geometry, x: Tensor, dy: Tensor): Tensor {
  const filterSize = g.kh * g.kw * g.inC * g.outC;
  const device = gpu();
  const limit = device.maxBindingBytes;
  const chunks = batchChunks(g, x, dy);
  const vec4 = g.outC % 4 === 0;
  const rows = g.kh * g.kw * g.inC;
  // teams of 8 lanes sharing inputs by subgroup shuffles where the device has them: with input
  // channels in fours, as an implicit matrix product (32 filter rows a team)
  const teams = vec4 && device.subgroupKernels && device.kernels.has("conv2d_bwd_filter_sg");
  // (measured against conv2d_bwd_filter_sg: 8x111x111x32 -> 32 151 against 211 ms, 26x26 38
  // against 49, 13x13x32 -> 64 23 against 26; with 4 channels the same)
  const gemm = teams && g.inC % 4 === 0 && device.kernels.has("conv2d_bwd_filter_gemm");
  // without teams, with input channels in fours: the im2col products
  if (!teams && im2colApplies(g)) return filterGradientByIm2col(g, chunks, dy);
  // without teams, 3x3 at stride 1 with other channel counts (an image): all 9 taps of a channel
  // in registers (SwiftShader, against conv2d_bwd_filter_vec4: 32x28x28x1 -> 32 52 -> 9 ms,
  // 8x224x224x3 -> 32 2.0 -> 0.41 s)
  const row9 = !teams && vec4 && is3x3Stride1(g);
  // images (1 or 3 input channels, 3x3, stride 1): teams that hold the whole filter
  const image = teams ? imageKernel(g, "conv2d_bwd_filter_img", IMAGE_FILTER_CHANNELS, true) : null;
  const kernel: KernelName = image
    ? image
    : gemm ? "conv2d_bwd_filter_gemm" : teams ? "conv2d_bwd_filter_sg" : row9 ? "conv2d_bwd_filter_row9" : vec4 ? "conv2d_bwd_filter_vec4" : "conv2d_bwd_filter";
  // tiles (one invocation each) or teams (8 lanes each) that every slice runs
  const tiles = image
    ? Math.ceil(g.outC / TEAM_CHANNELS)
    : teams
    ? Math.ceil(rows / (gemm ? GEMM_FILTER_ROWS : TEAM_ROWS)) * Math.ceil(g.outC / TEAM_CHANNELS)
    : row9
    ? g.inC * Math.ceil(g.outC / 8)
    : Math.ceil(rows / TILE) * Math.ceil(g.outC / (vec4 ? VEC4_TILE : TILE));
  const lanesPerTile = teams ? 8 : 1;
  // partial sums must fit one binding, for all chunks together, and a chunk's dispatch one 2-D grid
  const gridSlices = Math.floor(gridCapacity(teams ? 1 : WG) / tiles);
  const maxSlicesPerChunk = Math.max(1, Math.min(gridSlices, Math.floor(limit / (filterSize * 4) / chunks.length)));
  const plans = chunks.map((c) => {
    const outRows = c.batch * g.outH;
    const wanted = Math.ceil(FILTER_GRAD_INVOCATIONS / (tiles * lanesPerTile));
    const enoughWork = Math.max(1, Math.floor((outRows * g.outW) / MIN_SLICE_PIXELS));
    const slices = Math.max(1, Math.min(wanted, enoughWork, maxSlicesPerChunk, outRows));
    const sliceRows = Math.ceil(outRows / slices);
    return { c, sliceRows, slices: Math.ceil(outRows / sliceRows) };
  });
  const totalSlices = plans.reduce((sum, plan) => sum + plan.slices, 0);
  const partial = output([totalSlices, filterSize], "conv2d filter gradient");
  let outRow = 0;
  for (const { c, sliceRows, slices } of plans) {
    // a team's workgroup is its 8 lanes
    const [gx, gy] = teams ? grid1d(tiles * slices, 1) : grid1d(tiles * slices, WG);
    run(kernel, [c.input, c.output, partial], convParams(g, c, { sliceRows, outRow }), [gx, gy]);
    outRow += slices;
  }
  const dw = (totalSlices === 1 ? partial : sumRows(partial)).reshape([g.kh, g.kw, g.inC, g.outC]);
  partial.dispose();
  return dw;
}
