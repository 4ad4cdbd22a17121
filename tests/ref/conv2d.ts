// float64 reference for conv2d: direct loops over NHWC images and [kh, kw, inC, outC] filters.

export interface ConvCase {
  batch: number;
  inH: number;
  inW: number;
  inC: number;
  kh: number;
  kw: number;
  outC: number;
  strides: [number, number];
  padding: "valid" | "same";
  relu?: boolean;
}

export interface ConvSizes {
  outH: number;
  outW: number;
  padTop: number;
  padLeft: number;
}

/** Output size and leading padding, written out from TensorFlow's documented rule. */
export function convSizes(c: ConvCase): ConvSizes {
  const axis = (size: number, k: number, s: number): [number, number] => {
    if (c.padding === "valid") return [Math.floor((size - k) / s) + 1, 0];
    const out = Math.ceil(size / s);
    const total = Math.max((out - 1) * s + k - size, 0);
    return [out, Math.floor(total / 2)];
  };
  const [outH, padTop] = axis(c.inH, c.kh, c.strides[0]);
  const [outW, padLeft] = axis(c.inW, c.kw, c.strides[1]);
  return { outH, outW, padTop, padLeft };
}

/**
 * Calls visit(yIndex, xIndex, wIndex) for every product x * w that contributes to y, skipping
 * the zero padding: forward and both gradients are written from this one loop nest.
 */
function forEachTap(c: ConvCase, visit: (yi: number, xi: number, wi: number) => void): void {
  const { outH, outW, padTop, padLeft } = convSizes(c);
  for (let n = 0; n < c.batch; n++)
    for (let oy = 0; oy < outH; oy++)
      for (let ox = 0; ox < outW; ox++)
        for (let ky = 0; ky < c.kh; ky++) {
          const iy = oy * c.strides[0] + ky - padTop;
          if (iy < 0 || iy >= c.inH) continue;
          for (let kx = 0; kx < c.kw; kx++) {
            const ix = ox * c.strides[1] + kx - padLeft;
            if (ix < 0 || ix >= c.inW) continue;
            for (let ci = 0; ci < c.inC; ci++) {
              const xi = ((n * c.inH + iy) * c.inW + ix) * c.inC + ci;
              const wBase = ((ky * c.kw + kx) * c.inC + ci) * c.outC;
              const yBase = ((n * outH + oy) * outW + ox) * c.outC;
              for (let co = 0; co < c.outC; co++) visit(yBase + co, xi, wBase + co);
            }
          }
        }
}

function outputSize(c: ConvCase): number {
  const { outH, outW } = convSizes(c);
  return c.batch * outH * outW * c.outC;
}

export function conv2dRef(c: ConvCase, x: Float64Array, w: Float64Array, b: Float64Array | null): Float64Array {
  const y = new Float64Array(outputSize(c));
  forEachTap(c, (yi, xi, wi) => (y[yi] += x[xi] * w[wi]));
  if (b) for (let i = 0; i < y.length; i++) y[i] += b[i % c.outC];
  return c.relu ? y.map((v) => Math.max(v, 0)) : y;
}

/** Gradients of sum(conv2d(x, w, b) * dy) with respect to x, w and b. */
export function conv2dBackwardRef(
  c: ConvCase,
  x: Float64Array,
  w: Float64Array,
  b: Float64Array | null,
  dy: Float64Array,
): { dx: Float64Array; dw: Float64Array; db: Float64Array } {
  let g = dy;
  if (c.relu) {
    const y = conv2dRef(c, x, w, b);
    g = dy.map((v, i) => (y[i] > 0 ? v : 0));
  }
  const dx = new Float64Array(x.length);
  const dw = new Float64Array(w.length);
  const db = new Float64Array(c.outC);
  forEachTap(c, (yi, xi, wi) => {
    dx[xi] += g[yi] * w[wi];
    dw[wi] += g[yi] * x[xi];
  });
  for (let i = 0; i < g.length; i++) db[i % c.outC] += g[i];
  return { dx, dw, db };
}
