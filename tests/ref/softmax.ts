// float64 references for softmax, softmax + cross-entropy, cross-entropy on probabilities and
// accuracy, all on [rows, cols] stored flat.

export function softmaxRef(x: Float64Array, rows: number, cols: number): Float64Array {
  const y = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    const row = x.subarray(r * cols, (r + 1) * cols);
    const max = Math.max(...row);
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += Math.exp(row[c] - max);
    for (let c = 0; c < cols; c++) y[r * cols + c] = Math.exp(row[c] - max) / sum;
  }
  return y;
}

/** dx = y * (dy - sum(dy * y)) per row. */
export function softmaxBackwardRef(x: Float64Array, dy: Float64Array, rows: number, cols: number): Float64Array {
  const y = softmaxRef(x, rows, cols);
  const dx = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    let dot = 0;
    for (let c = 0; c < cols; c++) dot += dy[r * cols + c] * y[r * cols + c];
    for (let c = 0; c < cols; c++) dx[r * cols + c] = y[r * cols + c] * (dy[r * cols + c] - dot);
  }
  return dx;
}

function logSumExp(row: Float64Array): number {
  const max = Math.max(...row);
  let sum = 0;
  for (const v of row) sum += Math.exp(v - max);
  return max + Math.log(sum);
}

/** Mean over rows of -sum(y * log_softmax(x)), as [1]. */
export function softmaxXentRef(logits: Float64Array, labels: Float64Array, rows: number, cols: number): Float64Array {
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const lse = logSumExp(logits.subarray(r * cols, (r + 1) * cols));
    for (let c = 0; c < cols; c++) total += labels[r * cols + c] * (lse - logits[r * cols + c]);
  }
  return Float64Array.of(total / rows);
}

/** (softmax(x) - y) * dLoss / rows: the exact gradient when label rows sum to 1. */
export function softmaxXentBackwardRef(logits: Float64Array, labels: Float64Array, dLoss: number, rows: number, cols: number): Float64Array {
  const p = softmaxRef(logits, rows, cols);
  return p.map((v, i) => ((v - labels[i]) * dLoss) / rows);
}

/** Keras on probabilities: rows divided by their sum, clipped to float32 [1e-7, 1 - 1e-7]. */
export function xentProbsRef(probs: Float64Array, labels: Float64Array, rows: number, cols: number): Float64Array {
  const lo = Math.fround(1e-7);
  const hi = Math.fround(1 - 1e-7);
  let total = 0;
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += probs[r * cols + c];
    for (let c = 0; c < cols; c++) {
      const p = Math.min(Math.max(probs[r * cols + c] / sum, lo), hi);
      total -= labels[r * cols + c] * Math.log(p);
    }
  }
  return Float64Array.of(total / rows);
}

function argmax(row: ArrayLike<number>, from: number, cols: number): number {
  let best = 0;
  for (let c = 1; c < cols; c++) if (row[from + c] > row[from + best]) best = c;
  return best;
}

export function accuracyRef(scores: Float64Array, labels: Float64Array, rows: number, cols: number): Float64Array {
  let hits = 0;
  for (let r = 0; r < rows; r++) if (argmax(scores, r * cols, cols) === argmax(labels, r * cols, cols)) hits++;
  return Float64Array.of(hits / rows);
}
