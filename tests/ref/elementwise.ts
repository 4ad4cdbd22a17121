// float64 references for the elementwise ops and sums.
export const reluRef = (x: Float64Array): Float64Array => x.map((v) => Math.max(v, 0));

export const addRef = (a: Float64Array, b: Float64Array): Float64Array => a.map((v, i) => v + b[i]);

export function biasAddRef(x: Float64Array, b: Float64Array, relu = false): Float64Array {
  return x.map((v, i) => {
    const y = v + b[i % b.length];
    return relu ? Math.max(y, 0) : y;
  });
}

export function sumRowsRef(x: Float64Array, rows: number, cols: number, scale = 1): Float64Array {
  const out = new Float64Array(cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c] += x[r * cols + c];
  return out.map((v) => v * scale);
}
