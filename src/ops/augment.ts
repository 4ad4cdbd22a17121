// Image augmentation on the GPU (NHWC), with per-image parameters drawn on the CPU by the
// augmentation layers and passed as small tensors: affine resampling (TensorFlow's
// ImageProjectiveTransformV3, which Keras' RandomFlip / RandomTranslation / RandomRotation /
// RandomZoom use), per-image channel means, contrast and brightness. Augmentation sits before
// any weights, so these ops have no gradient; asking for one throws.
import { record } from "../autograd.js";
import { shapeString, type Tensor } from "../tensor.js";
import { imageChunks } from "./resize.js";
import { chunks, grid1d, output, params, run, shapeError } from "./run.js";

export type FillMode = "reflect" | "wrap" | "constant" | "nearest";
export const FILL_MODES: readonly FillMode[] = ["reflect", "wrap", "constant", "nearest"];
export type SampleInterpolation = "bilinear" | "nearest";
export const SAMPLE_INTERPOLATIONS: readonly SampleInterpolation[] = ["bilinear", "nearest"];

export interface AffineTransformOptions {
  /** "bilinear" (default) or "nearest" (rounds half away from zero, as TensorFlow). */
  interpolation?: SampleInterpolation;
  /** How points outside the image are filled (default "reflect", as Keras). */
  fillMode?: FillMode;
  /** The value outside the image for fillMode "constant" (default 0). */
  fillValue?: number;
}

/** Entries per image in a transform: [a0, a1, a2, b0, b1, b2, c0, c1], TensorFlow's layout. */
export const TRANSFORM_SIZE = 8;

function noGradient(op: string): () => never {
  return () => {
    throw new Error(`gpu-cnn: ${op} has no gradient; augmentation layers belong before any layer with weights (at the start of the model)`);
  };
}

function checkImages(op: string, x: Tensor): [number, number, number, number] {
  if (x.shape.length !== 4 || x.shape.some((d) => d <= 0)) {
    throw shapeError(op, `expects images [batch, height, width, channels] with positive sizes, got ${shapeString(x.shape)}`);
  }
  return x.shape as unknown as [number, number, number, number];
}

function checkPerImage(op: string, what: string, t: Tensor, x: Tensor, per: number): void {
  const n = x.shape[0];
  const ok = per === 1 ? t.size === n && (t.shape.length === 1 || (t.shape.length === 2 && t.shape[1] === 1)) : t.shape.length === 2 && t.shape[0] === n && t.shape[1] === per;
  if (!ok) throw shapeError(op, `${what} ${shapeString(t.shape)} must be ${per === 1 ? `[${n}]` : `[${n}, ${per}]`}, one row per image of ${shapeString(x.shape)}`);
}

/**
 * Resamples each image n of x [N, H, W, C] through its transform transforms[n] =
 * [a0, a1, a2, b0, b1, b2, c0, c1]: output pixel (x, y) reads the input at
 * ((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k), k = c0 x + c1 y + 1, pixel centres at
 * integer coordinates, points outside the image filled by `fillMode` (TensorFlow's semantics).
 */
export function affineTransform(x: Tensor, transforms: Tensor, options: AffineTransformOptions = {}): Tensor {
  const [n, h, w, c] = checkImages("affineTransform", x);
  checkPerImage("affineTransform", "transforms", transforms, x, TRANSFORM_SIZE);
  const interpolation = options.interpolation ?? "bilinear";
  const fillMode = options.fillMode ?? "reflect";
  const fillValue = options.fillValue ?? 0;
  if (!SAMPLE_INTERPOLATIONS.includes(interpolation)) throw shapeError("affineTransform", `interpolation ${JSON.stringify(interpolation)} is not supported; use "bilinear" or "nearest"`);
  if (!FILL_MODES.includes(fillMode)) throw shapeError("affineTransform", `fillMode ${JSON.stringify(fillMode)} is not supported; use ${FILL_MODES.map((m) => `"${m}"`).join(", ")}`);
  if (!Number.isFinite(fillValue)) throw shapeError("affineTransform", `fillValue must be a finite number, got ${fillValue}`);
  const y = output(x.shape, "affineTransform");
  const per = h * w * c;
  for (const [first, count] of imageChunks(n, per, per)) {
    const pixels = count * h * w;
    run(
      "augment_affine",
      [x.binding(first * per, count * per), transforms, y.binding(first * per, count * per)],
      params([pixels, h, w, c, first, FILL_MODES.indexOf(fillMode), interpolation === "nearest" ? 1 : 0], [fillValue]),
      grid1d(pixels),
    );
  }
  return record(y, "affineTransform", [x], noGradient("affineTransform (RandomFlip, RandomTranslation, RandomRotation, RandomZoom)"));
}

const SUM_BLOCK = 64;

/** Per-image, per-channel sums of x [N, H, W, C], as [N, C] (blocks of rows summed in parallel passes). */
export function imageChannelSums(x: Tensor): Tensor {
  const [n, h, w, c] = checkImages("imageChannelSums", x);
  let rows = h * w;
  let current: Tensor = x;
  for (;;) {
    const blocks = Math.ceil(rows / SUM_BLOCK);
    const out = output(blocks === 1 ? [n, c] : [n, blocks, c], "imageChannelSums");
    for (const [first, count] of chunks(n, rows * c)) {
      run(
        "channel_sums",
        [current.binding(first * rows * c, count * rows * c), out],
        params([count, rows, c, SUM_BLOCK, blocks, first]),
        grid1d(count * blocks * c),
      );
    }
    if (current !== x) current.dispose();
    current = out;
    rows = blocks;
    if (blocks === 1) break;
  }
  return record(current, "imageChannelSums", [x], noGradient("imageChannelSums"));
}

function checkRange(op: string, range: readonly [number, number]): void {
  if (!Array.isArray(range) || range.length !== 2 || !range.every(Number.isFinite) || !(range[0] < range[1])) {
    throw shapeError(op, `valueRange must be two finite numbers [low, high] with low < high, got ${JSON.stringify(range)}`);
  }
}

/**
 * Keras' RandomContrast on x [N, H, W, C]: y = clip((x - mean) * factors[n] + mean, low, high),
 * mean the image's channel mean. factors is [N].
 */
export function adjustContrast(x: Tensor, factors: Tensor, valueRange: readonly [number, number] = [0, 255]): Tensor {
  const [n, h, w, c] = checkImages("adjustContrast", x);
  checkPerImage("adjustContrast", "factors", factors, x, 1);
  checkRange("adjustContrast", valueRange);
  const sums = imageChannelSums(x);
  const y = output(x.shape, "adjustContrast");
  const per = h * w * c;
  for (const [first, count] of chunks(n, per)) {
    const length = count * per;
    run(
      "augment_contrast",
      [x.binding(first * per, length), factors, sums, y.binding(first * per, length)],
      params([count * h * w, h * w, c, first], [h * w, valueRange[0], valueRange[1]]),
      grid1d(count * h * w),
    );
  }
  sums.dispose();
  return record(y, "adjustContrast", [x], noGradient("adjustContrast (RandomContrast)"));
}

/** Keras' RandomBrightness on x [N, H, W, C]: y = clip(x + deltas[n], low, high). deltas is [N]. */
export function adjustBrightness(x: Tensor, deltas: Tensor, valueRange: readonly [number, number] = [0, 255]): Tensor {
  const [n, h, w, c] = checkImages("adjustBrightness", x);
  checkPerImage("adjustBrightness", "deltas", deltas, x, 1);
  checkRange("adjustBrightness", valueRange);
  const y = output(x.shape, "adjustBrightness");
  const per = h * w * c;
  for (const [first, count] of chunks(n, per)) {
    const length = count * per;
    run("augment_brightness", [x.binding(first * per, length), deltas, y.binding(first * per, length)], params([count * h * w, h * w, c, first], [valueRange[0], valueRange[1]]), grid1d(count * h * w));
  }
  return record(y, "adjustBrightness", [x], noGradient("adjustBrightness (RandomBrightness)"));
}
