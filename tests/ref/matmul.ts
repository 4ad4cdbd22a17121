// float64 references for matmul and dense (forward and backward), row-major.

/** C [m, n] = A [m, k] · B [k, n] */
export function matmulRef(a: Float64Array, b: Float64Array, m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const v = a[i * k + p];
      for (let j = 0; j < n; j++) c[i * n + j] += v * b[p * n + j];
    }
  }
  return c;
}

/** Aᵀ of A [rows, cols] */
export function transposeRef(a: Float64Array, rows: number, cols: number): Float64Array {
  const t = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
  return t;
}

/** [dA, dB] for C = A·B given dC: dA = dC·Bᵀ, dB = Aᵀ·dC */
export function matmulBackwardRef(a: Float64Array, b: Float64Array, dc: Float64Array, m: number, k: number, n: number): [Float64Array, Float64Array] {
  return [matmulRef(dc, transposeRef(b, k, n), m, n, k), matmulRef(transposeRef(a, m, k), dc, k, m, n)];
}

/** act(x [batch, in] · w [in, out] + b) */
export function denseRef(x: Float64Array, w: Float64Array, b: Float64Array | null, batch: number, inputs: number, units: number, relu: boolean): Float64Array {
  const y = matmulRef(x, w, batch, inputs, units);
  for (let i = 0; i < y.length; i++) {
    const v = y[i] + (b ? b[i % units] : 0);
    y[i] = relu ? Math.max(v, 0) : v;
  }
  return y;
}

/** [dx, dw, db] of dense given dy */
export function denseBackwardRef(
  x: Float64Array,
  w: Float64Array,
  b: Float64Array | null,
  dy: Float64Array,
  batch: number,
  inputs: number,
  units: number,
  relu: boolean,
): [Float64Array, Float64Array, Float64Array] {
  const y = denseRef(x, w, b, batch, inputs, units, relu);
  const g = dy.map((v, i) => (relu && y[i] <= 0 ? 0 : v));
  const [dx, dw] = matmulBackwardRef(x, w, g, batch, inputs, units);
  const db = new Float64Array(units);
  for (let i = 0; i < g.length; i++) db[i % units] += g[i];
  return [dx, dw, db];
}
