// float64 reference for 2-D max pooling (NHWC), written from TensorFlow's definition: the padded
// window is scanned cell by cell with padding as -Infinity, and the first maximum wins.

export interface PoolRefSpec {
  shape: [number, number, number, number]; // [N, H, W, C]
  pool: [number, number];
  strides: [number, number];
  padding: "valid" | "same";
}

function sizes(inSize: number, pool: number, stride: number, padding: "valid" | "same"): [out: number, padBefore: number] {
  if (padding === "valid") return [Math.floor((inSize - pool) / stride) + 1, 0];
  const out = Math.ceil(inSize / stride);
  return [out, Math.floor(Math.max((out - 1) * stride + pool - inSize, 0) / 2)];
}

export function maxPoolRefShape(s: PoolRefSpec): [number, number, number, number] {
  const [n, h, w, c] = s.shape;
  return [n, sizes(h, s.pool[0], s.strides[0], s.padding)[0], sizes(w, s.pool[1], s.strides[1], s.padding)[0], c];
}

/** The pooled values and, for each, the flat index in x of the element that won. */
export function maxPoolRef(x: Float64Array, s: PoolRefSpec): { y: Float64Array; argmax: Int32Array } {
  const [n, h, w, c] = s.shape;
  const [oh, padTop] = sizes(h, s.pool[0], s.strides[0], s.padding);
  const [ow, padLeft] = sizes(w, s.pool[1], s.strides[1], s.padding);
  const y = new Float64Array(n * oh * ow * c);
  const argmax = new Int32Array(y.length);
  let o = 0;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        for (let ch = 0; ch < c; ch++, o++) {
          let best = -Infinity;
          let bestAt = -1;
          for (let dy = 0; dy < s.pool[0]; dy++) {
            for (let dx = 0; dx < s.pool[1]; dx++) {
              const iy = oy * s.strides[0] - padTop + dy;
              const ix = ox * s.strides[1] - padLeft + dx;
              const inside = iy >= 0 && iy < h && ix >= 0 && ix < w;
              const at = ((b * h + iy) * w + ix) * c + ch;
              const v = inside ? x[at] : -Infinity;
              if (v > best) {
                best = v;
                bestAt = at;
              }
            }
          }
          y[o] = best;
          argmax[o] = bestAt;
        }
      }
    }
  }
  return { y, argmax };
}

/** dx: each output's dy added to the element that won its window. */
export function maxPoolBackwardRef(x: Float64Array, dy: Float64Array, s: PoolRefSpec): Float64Array {
  const { argmax } = maxPoolRef(x, s);
  const dx = new Float64Array(x.length);
  argmax.forEach((at, o) => (dx[at] += dy[o]));
  return dx;
}
