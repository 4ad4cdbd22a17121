// float64 references for the augmentation ops, written from TensorFlow's
// ImageProjectiveTransformV3 (tensorflow/core/kernels/image/image_ops.h) and Keras'
// RandomContrast / RandomBrightness formulas. Images are NHWC.

export type FillModeRef = "reflect" | "wrap" | "constant" | "nearest";

/** TensorFlow's MapCoordinate for each fill mode. */
export function mapCoordinateRef(coord: number, len: number, mode: FillModeRef): number {
  let v = coord;
  if (mode === "constant") return v;
  if (mode === "reflect") {
    if (v < 0) {
      if (len <= 1) v = 0;
      else {
        const sz2 = 2 * len;
        v = sz2 * Math.trunc(-v / sz2) + v;
        v = v < -len ? v + sz2 : -v - 1;
      }
    } else if (v > len - 1) {
      if (len <= 1) v = 0;
      else {
        const sz2 = 2 * len;
        v -= sz2 * Math.trunc(v / sz2);
        if (v >= len) v = sz2 - v - 1;
      }
    }
  } else if (mode === "wrap") {
    if (v < 0) {
      if (len <= 1) v = 0;
      else v += len * (Math.trunc(-v / (len - 1)) + 1);
    } else if (v > len - 1) {
      if (len <= 1) v = 0;
      else v -= len * Math.trunc(v / (len - 1));
    }
  }
  return Math.min(Math.max(v, 0), len - 1);
}

export interface AffineRefOptions {
  interpolation: "bilinear" | "nearest";
  fillMode: FillModeRef;
  fillValue: number;
}

/** Resamples each image through its transform [a0, a1, a2, b0, b1, b2, c0, c1] (output -> input). */
export function affineRef(x: ArrayLike<number>, shape: number[], transforms: ArrayLike<number>, o: AffineRefOptions): Float64Array {
  const [n, h, w, c] = shape;
  const y = new Float64Array(n * h * w * c);
  const read = (b: number, yy: number, xx: number, k: number): number =>
    yy >= 0 && yy < h && xx >= 0 && xx < w ? x[((b * h + yy) * w + xx) * c + k] : o.fillValue;
  for (let b = 0; b < n; b++) {
    const t = Array.from({ length: 8 }, (_, i) => transforms[b * 8 + i]);
    for (let oy = 0; oy < h; oy++) {
      for (let ox = 0; ox < w; ox++) {
        const out = ((b * h + oy) * w + ox) * c;
        const projection = t[6] * ox + t[7] * oy + 1;
        if (projection === 0) {
          for (let k = 0; k < c; k++) y[out + k] = o.fillValue;
          continue;
        }
        const ix = mapCoordinateRef((t[0] * ox + t[1] * oy + t[2]) / projection, w, o.fillMode);
        const iy = mapCoordinateRef((t[3] * ox + t[4] * oy + t[5]) / projection, h, o.fillMode);
        for (let k = 0; k < c; k++) {
          if (o.interpolation === "nearest") {
            // std::round: half away from zero
            const r = (v: number) => Math.sign(v) * Math.floor(Math.abs(v) + 0.5);
            y[out + k] = read(b, r(iy), r(ix), k);
          } else {
            const x0 = Math.floor(ix);
            const y0 = Math.floor(iy);
            const upper = (x0 + 1 - ix) * read(b, y0, x0, k) + (ix - x0) * read(b, y0, x0 + 1, k);
            const lower = (x0 + 1 - ix) * read(b, y0 + 1, x0, k) + (ix - x0) * read(b, y0 + 1, x0 + 1, k);
            y[out + k] = (y0 + 1 - iy) * upper + (iy - y0) * lower;
          }
        }
      }
    }
  }
  return y;
}

/** Per image and channel: clip((x - mean) * factor + mean, low, high). */
export function contrastRef(x: ArrayLike<number>, shape: number[], factors: ArrayLike<number>, range: [number, number]): Float64Array {
  const [n, h, w, c] = shape;
  const y = new Float64Array(x.length);
  for (let b = 0; b < n; b++) {
    for (let k = 0; k < c; k++) {
      let sum = 0;
      for (let p = 0; p < h * w; p++) sum += x[(b * h * w + p) * c + k];
      const mean = sum / (h * w);
      for (let p = 0; p < h * w; p++) {
        const i = (b * h * w + p) * c + k;
        y[i] = Math.min(Math.max((x[i] - mean) * factors[b] + mean, range[0]), range[1]);
      }
    }
  }
  return y;
}

/** clip(x + delta[image], low, high). */
export function brightnessRef(x: ArrayLike<number>, shape: number[], deltas: ArrayLike<number>, range: [number, number]): Float64Array {
  const per = shape.slice(1).reduce((a, b) => a * b, 1);
  return Float64Array.from(x as ArrayLike<number>, (v, i) => Math.min(Math.max(v + deltas[Math.floor(i / per)], range[0]), range[1]));
}

/**
 * Output pixels whose sampling point lies within `eps` of a jump of the "wrap" mapping
 * (multiples of len - 1 on either axis): there float32 and float64 coordinates may land on
 * different sides, so tests leave those pixels out. The other fill modes are continuous.
 */
export function wrapJumps(shape: number[], transforms: ArrayLike<number>, eps = 1e-3): Uint8Array {
  const [n, h, w] = shape;
  const near = (v: number, len: number) => len > 1 && Math.abs(v / (len - 1) - Math.round(v / (len - 1))) * (len - 1) < eps;
  const out = new Uint8Array(n * h * w);
  for (let b = 0; b < n; b++) {
    const t = Array.from({ length: 8 }, (_, i) => transforms[b * 8 + i]);
    for (let oy = 0; oy < h; oy++) {
      for (let ox = 0; ox < w; ox++) {
        const k = t[6] * ox + t[7] * oy + 1;
        const ix = (t[0] * ox + t[1] * oy + t[2]) / k;
        const iy = (t[3] * ox + t[4] * oy + t[5]) / k;
        out[(b * h + oy) * w + ox] = near(ix, w) || near(iy, h) ? 1 : 0;
      }
    }
  }
  return out;
}
