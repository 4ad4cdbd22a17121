import { record } from "../autograd.js";
import { gpu } from "../device.js";
import { shapeString, type Tensor } from "../tensor.js";
import { chunks, grid1d, output, params, run, sameShape, shapeError } from "./run.js";
import { sumRows } from "./sum.js";

/** Invocations per workgroup of the row kernels (shaders/softmax.wgsl's WG), one row each. */
const ROWS_PER_WORKGROUP = 64;

/** Workgroups for a row kernel over `rows` rows. */
export function rowWorkgroups(rows: number): [number, number] {
  return grid1d(rows, ROWS_PER_WORKGROUP);
}

/** Checks that x is [..., C] with no zero-sized axis; returns [rows, C]. */
function rowsOf(op: string, x: Tensor): [number, number] {
  if (x.shape.length === 0 || x.size === 0) {
    throw shapeError(op, `input ${shapeString(x.shape)} must have at least one axis and no zero-sized axis`);
  }
  const cols = x.shape[x.shape.length - 1];
  return [x.size / cols, cols];
}

/** Checks that scores and labels are both [N, C] with N, C >= 1; returns [N, C]. */
export function rowPair(op: string, scores: Tensor, labels: Tensor, scoresName: string): [number, number] {
  if (scores.shape.length !== 2 || scores.size === 0) {
    throw shapeError(op, `${scoresName} ${shapeString(scores.shape)} must be [rows, classes] with both sizes at least 1`);
  }
  if (!sameShape(scores.shape, labels.shape)) {
    throw shapeError(op, `labels ${shapeString(labels.shape)} do not match ${scoresName} ${shapeString(scores.shape)}; expected ${shapeString(scores.shape)}`);
  }
  return [scores.shape[0], scores.shape[1]];
}

/**
 * Chunks of the rows of [rows, cols] whose per-row outputs ([rows]) also start at aligned
 * offsets: every chunk but the last holds a multiple of (alignment / 4) rows.
 */
export function rowChunks(rows: number, cols: number): [number, number][] {
  return chunks(rows, cols, gpu().bindingAlignment / 4);
}

/** The mean of a [rows] tensor of per-row values, as [1]; frees the per-row tensor. */
export function meanOfRows(perRow: Tensor): Tensor {
  const column = perRow.reshape([perRow.size, 1]);
  const mean = sumRows(column, 1 / perRow.size);
  column.dispose();
  perRow.dispose();
  return mean;
}

/**
 * Softmax over the last axis, stable (the row max is subtracted before exp). The backward pass
 * reads the output: dx = y * (dy - sum(dy * y)) per row.
 */
export function softmax(x: Tensor): Tensor {
  const [rows, cols] = rowsOf("softmax", x);
  const y = output(x.shape, "softmax");
  for (const [first, count] of chunks(rows, cols)) {
    const [offset, length] = [first * cols, count * cols];
    run("softmax_fwd", [x.binding(offset, length), y.binding(offset, length)], params([count, cols]), rowWorkgroups(count));
  }
  return record(y, "softmax", [x], (dy) => [softmaxBackward(y, dy)]);
}

/** The gradient of softmax's input given its output y and the output's gradient dy. */
export function softmaxBackward(y: Tensor, dy: Tensor): Tensor {
  const [rows, cols] = rowsOf("softmax backward", y);
  if (dy.size !== y.size) throw shapeError("softmax backward", `gradient ${shapeString(dy.shape)} does not match output ${shapeString(y.shape)}`);
  const dx = output(y.shape, "softmax backward");
  for (const [first, count] of chunks(rows, cols)) {
    const [offset, length] = [first * cols, count * cols];
    run("softmax_bwd", [y.binding(offset, length), dy.binding(offset, length), dx.binding(offset, length)], params([count, cols]), rowWorkgroups(count));
  }
  return dx;
}
