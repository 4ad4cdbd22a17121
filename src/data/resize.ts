// Resizing as Keras' image_dataset_from_directory does it: tf.image.resize without antialiasing,
// so bilinear and nearest use half-pixel centres, and "area" is TensorFlow's ResizeArea (a box
// filter with fractional edge weights). Output is float32, 0..255 when the input was 8-bit.
// Scales and weights are rounded to float32 as TensorFlow computes them, so sample positions
// (floor of a float32 product) land on the same source pixels.
import type { RawImage } from "./decode.js";

export type Interpolation = "bilinear" | "nearest" | "area";

export const INTERPOLATIONS: readonly Interpolation[] = ["bilinear", "nearest", "area"];

export interface FloatImage extends RawImage {
  data: Float32Array;
}

const f32 = Math.fround;

/** `image` resized to `height` x `width` (any channel count; the same size just converts to float). */
export function resizeImage(image: RawImage, height: number, width: number, interpolation: Interpolation = "bilinear"): FloatImage {
  checkSize(height, width);
  if (!INTERPOLATIONS.includes(interpolation)) {
    throw new Error(
      `gpu-cnn: interpolation ${JSON.stringify(interpolation)} is not supported; use "bilinear", "nearest" or "area".`,
    );
  }
  if (image.width === width && image.height === height) return toFloat(image);
  if (interpolation === "nearest") return resizeNearest(image, height, width);
  if (interpolation === "area") return resizeArea(image, height, width);
  return resizeBilinear(image, height, width);
}

/** A float32 copy (values unchanged). */
export function toFloat(image: RawImage): FloatImage {
  return { width: image.width, height: image.height, channels: image.channels, data: Float32Array.from(image.data) };
}

/**
 * The largest centred window with the aspect ratio of height x width (Keras' smart_resize crop),
 * so that resizing it to that size does not distort the image.
 */
export function cropToAspectRatio(image: RawImage, height: number, width: number): RawImage {
  checkSize(height, width);
  const cropHeight = Math.max(Math.min(image.height, Math.floor((image.width * height) / width)), 1);
  const cropWidth = Math.max(Math.min(image.width, Math.floor((image.height * width) / height)), 1);
  if (cropHeight === image.height && cropWidth === image.width) return image;
  const top = Math.floor((image.height - cropHeight) / 2);
  const left = Math.floor((image.width - cropWidth) / 2);
  const c = image.channels;
  const out = new (image.data.constructor as { new (n: number): RawImage["data"] })(cropHeight * cropWidth * c);
  for (let y = 0; y < cropHeight; y++) {
    const from = ((top + y) * image.width + left) * c;
    out.set(image.data.subarray(from, from + cropWidth * c), y * cropWidth * c);
  }
  return { width: cropWidth, height: cropHeight, channels: c, data: out };
}

function checkSize(height: number, width: number): void {
  if (!Number.isInteger(height) || !Number.isInteger(width) || height <= 0 || width <= 0) {
    throw new Error(`gpu-cnn: image size must be two positive integers [height, width], got [${height}, ${width}]`);
  }
}

interface Taps {
  lower: Int32Array;
  upper: Int32Array;
  lerp: Float32Array;
}

// TensorFlow's compute_interpolation_weights with the half-pixel scaler.
function bilinearTaps(outSize: number, inSize: number): Taps {
  const scale = f32(inSize / outSize);
  const taps: Taps = { lower: new Int32Array(outSize), upper: new Int32Array(outSize), lerp: new Float32Array(outSize) };
  for (let i = 0; i < outSize; i++) {
    const at = f32(f32(f32(i + 0.5) * scale) - 0.5);
    const floor = Math.floor(at);
    taps.lower[i] = Math.max(floor, 0);
    taps.upper[i] = Math.min(Math.ceil(at), inSize - 1);
    taps.lerp[i] = at - floor;
  }
  return taps;
}

function resizeBilinear(image: RawImage, height: number, width: number): FloatImage {
  const { channels: c, data: src } = image;
  const ys = bilinearTaps(height, image.height);
  const xs = bilinearTaps(width, image.width);
  const out = new Float32Array(height * width * c);
  const rowStride = image.width * c;
  for (let y = 0; y < height; y++) {
    const top = ys.lower[y] * rowStride;
    const bottom = ys.upper[y] * rowStride;
    const dy = ys.lerp[y];
    for (let x = 0; x < width; x++) {
      const left = xs.lower[x] * c;
      const right = xs.upper[x] * c;
      const dx = xs.lerp[x];
      const o = (y * width + x) * c;
      for (let k = 0; k < c; k++) {
        const topLeft = src[top + left + k];
        const bottomLeft = src[bottom + left + k];
        const upper = topLeft + (src[top + right + k] - topLeft) * dx;
        const lower = bottomLeft + (src[bottom + right + k] - bottomLeft) * dx;
        out[o + k] = upper + (lower - upper) * dy;
      }
    }
  }
  return { width, height, channels: c, data: out };
}

// TensorFlow's ResizeNearestNeighbor with half_pixel_centers: floor((i + 0.5) * scale).
function nearestTaps(outSize: number, inSize: number): Int32Array {
  const scale = f32(inSize / outSize);
  const taps = new Int32Array(outSize);
  for (let i = 0; i < outSize; i++) taps[i] = Math.max(0, Math.min(Math.floor(f32(f32(i + 0.5) * scale)), inSize - 1));
  return taps;
}

function resizeNearest(image: RawImage, height: number, width: number): FloatImage {
  const { channels: c, data: src } = image;
  const ys = nearestTaps(height, image.height);
  const xs = nearestTaps(width, image.width);
  const out = new Float32Array(height * width * c);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const from = (ys[y] * image.width + xs[x]) * c;
      const o = (y * width + x) * c;
      for (let k = 0; k < c; k++) out[o + k] = src[from + k];
    }
  }
  return { width, height, channels: c, data: out };
}

interface Box {
  start: number;
  weights: Float32Array;
}

// TensorFlow's ResizeArea: output pixel i covers [i * scale, (i + 1) * scale) of the input; each
// source pixel counts by the length of its overlap. Indices past the edge clamp to the last pixel.
function areaBoxes(outSize: number, inSize: number): Box[] {
  const scale = f32(inSize / outSize);
  const boxes: Box[] = [];
  for (let i = 0; i < outSize; i++) {
    const from = f32(i * scale);
    const to = f32((i + 1) * scale);
    const start = Math.floor(from);
    const end = Math.ceil(to);
    const weights = new Float32Array(end - start);
    for (let j = start; j < end; j++) {
      weights[j - start] = j < from ? (j + 1 > to ? scale : j + 1 - from) : j + 1 > to ? to - j : 1;
    }
    boxes.push({ start, weights });
  }
  return boxes;
}

function resizeArea(image: RawImage, height: number, width: number): FloatImage {
  const { channels: c, data: src } = image;
  const ys = areaBoxes(height, image.height);
  const xs = areaBoxes(width, image.width);
  const norm = 1 / (f32(image.height / height) * f32(image.width / width));
  const out = new Float32Array(height * width * c);
  const sum = new Float64Array(c);
  for (let y = 0; y < height; y++) {
    const ybox = ys[y];
    for (let x = 0; x < width; x++) {
      const xbox = xs[x];
      sum.fill(0);
      for (let j = 0; j < ybox.weights.length; j++) {
        const row = Math.min(ybox.start + j, image.height - 1) * image.width;
        const wy = ybox.weights[j];
        for (let i = 0; i < xbox.weights.length; i++) {
          const from = (row + Math.min(xbox.start + i, image.width - 1)) * c;
          const w = wy * xbox.weights[i];
          for (let k = 0; k < c; k++) sum[k] += src[from + k] * w;
        }
      }
      const o = (y * width + x) * c;
      for (let k = 0; k < c; k++) out[o + k] = sum[k] * norm;
    }
  }
  return { width, height, channels: c, data: out };
}
