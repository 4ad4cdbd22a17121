// Image resizing on the GPU, as TensorFlow's tf.image.resize without antialiasing (what Keras'
// Resizing layer and src/data/resize.ts compute): half-pixel centres for bilinear and nearest,
// with sample positions and weights rounded to float32 on the CPU exactly as TensorFlow does,
// so the GPU reads the same source pixels.
import { record } from "../autograd.js";
import { gpu } from "../device.js";
import { shapeString, tensor, type Tensor } from "../tensor.js";
import { chunks, grid1d, output, params, run, shapeError } from "./run.js";

export type ResizeInterpolation = "bilinear" | "nearest";
export const RESIZE_INTERPOLATIONS: readonly ResizeInterpolation[] = ["bilinear", "nearest"];

export interface ResizeOptions {
  /** "bilinear" (default) or "nearest". */
  interpolation?: ResizeInterpolation;
  /** Resize the largest centred window with the target's aspect ratio (Keras' crop_to_aspect_ratio). */
  cropToAspectRatio?: boolean;
}

const f32 = Math.fround;
/** Output pixels of one row each invocation computes (RUN in shaders/preprocess.wgsl). */
const PIXELS_PER_INVOCATION = 4;

/** The centred crop window [top, left, height, width] with the aspect ratio of height x width (Keras' smart_resize). */
export function aspectRatioCrop(inHeight: number, inWidth: number, height: number, width: number): [number, number, number, number] {
  const cropHeight = Math.max(Math.min(inHeight, Math.floor((inWidth * height) / width)), 1);
  const cropWidth = Math.max(Math.min(inWidth, Math.floor((inHeight * width) / height)), 1);
  return [Math.floor((inHeight - cropHeight) / 2), Math.floor((inWidth - cropWidth) / 2), cropHeight, cropWidth];
}

/** Per output index: lower source index, upper source index, weight of the upper one. */
function taps(outSize: number, inSize: number, interpolation: ResizeInterpolation, into: Float32Array, at: number): void {
  const scale = f32(inSize / outSize);
  for (let i = 0; i < outSize; i++) {
    const o = at + 3 * i;
    if (interpolation === "nearest") {
      // TensorFlow's ResizeNearestNeighbor with half-pixel centres
      const source = Math.max(0, Math.min(Math.floor(f32(f32(i + 0.5) * scale)), inSize - 1));
      into[o] = source;
      into[o + 1] = source;
      into[o + 2] = 0;
    } else {
      // TensorFlow's compute_interpolation_weights with the half-pixel scaler
      const position = f32(f32(f32(i + 0.5) * scale) - 0.5);
      const floor = Math.floor(position);
      into[o] = Math.max(floor, 0);
      into[o + 1] = Math.min(Math.ceil(position), inSize - 1);
      into[o + 2] = position - floor;
    }
  }
}

/**
 * Runs of whole images [first, count] whose input (inElems floats each) and output (outElems
 * each) both fit one storage binding and start at aligned offsets.
 */
export function imageChunks(images: number, inElems: number, outElems: number): [number, number][] {
  const align = gpu().bindingAlignment;
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  // chunks() aligns the larger of the two; a count that is a multiple of this aligns the other
  const [larger, smaller] = inElems >= outElems ? [inElems, outElems] : [outElems, inElems];
  return chunks(images, Math.max(larger, 1), align / gcd(Math.max(smaller, 1) * 4, align));
}

/**
 * Resizes NHWC images x [N, H, W, C] to [N, height, width, C]. Resizing has no gradient here:
 * it belongs before any layer with weights, where none is needed.
 */
export function resize(x: Tensor, height: number, width: number, options: ResizeOptions = {}): Tensor {
  const interpolation = options.interpolation ?? "bilinear";
  if (x.shape.length !== 4 || x.shape.some((d) => d <= 0)) {
    throw shapeError("resize", `expects images [batch, height, width, channels] with positive sizes, got ${shapeString(x.shape)}`);
  }
  if (!Number.isInteger(height) || !Number.isInteger(width) || height <= 0 || width <= 0) {
    throw shapeError("resize", `the target size must be two positive integers, got [${height}, ${width}]`);
  }
  if (!RESIZE_INTERPOLATIONS.includes(interpolation)) {
    throw shapeError("resize", `interpolation ${JSON.stringify(interpolation)} is not supported; use "bilinear" or "nearest"`);
  }
  const [n, inH, inW, c] = x.shape;
  const [top, left, cropH, cropW] = options.cropToAspectRatio ? aspectRatioCrop(inH, inW, height, width) : [0, 0, inH, inW];
  const table = new Float32Array(3 * (height + width));
  taps(height, cropH, interpolation, table, 0);
  taps(width, cropW, interpolation, table, 3 * height);
  const tapTensor = tensor(table, [table.length]);
  const y = output([n, height, width, c], "resize");
  for (const [first, count] of imageChunks(n, inH * inW * c, height * width * c)) {
    const rows = count * height;
    run(
      "resize_image",
      [x.binding(first * inH * inW * c, count * inH * inW * c), tapTensor, y.binding(first * height * width * c, rows * width * c)],
      params([rows, inH, inW, height, width, c, top, left]),
      grid1d(rows * Math.ceil(width / PIXELS_PER_INVOCATION)),
    );
  }
  tapTensor.dispose();
  return record(y, "resize", [x], () => {
    throw new Error("gpu-cnn: resize (the Resizing layer) has no gradient; put Resizing before any layer with weights (first in the model)");
  });
}
