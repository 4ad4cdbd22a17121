import { gpu } from "../device.js";
import { record } from "../autograd.js";
import { shapeString, type Tensor } from "../tensor.js";
import { biasAdd } from "./bias.js";
import { fill } from "./fill.js";
import { scale as scaleBy } from "./scale.js";
import { chunks, output, params, run, shapeError } from "./run.js";

const BLOCK = 256;
const WG = 64;

/**
 * Sums x [rows, cols] over its rows into [cols], times `scale`: bias gradients and, with one
 * column, totals and means. Reduces in passes of BLOCK rows, so every pass is parallel.
 */
export function sumRows(x: Tensor, scale = 1): Tensor {
  if (x.shape.length !== 2) throw shapeError("sumRows", `expects [rows, cols], got ${shapeString(x.shape)}`);
  const [rows, cols] = x.shape;
  const maxWg = gpu().maxWorkgroupsPerDimension;
  let current = x;
  let remaining = rows;
  do {
    const block = Math.max(BLOCK, Math.ceil(remaining / maxWg));
    const last = remaining <= block;
    const blocks = Math.max(1, Math.ceil(remaining / block));
    const out = output(last ? [cols] : [blocks, cols], "sumRows");
    for (const [first, count] of chunks(remaining, cols, block)) {
      // chunks hold whole blocks, so each chunk's partials land at its own output rows
      const n = Math.max(1, Math.ceil(count / block));
      run(
        "sum_rows",
        [current.binding(first * cols, count * cols), out],
        params([count, cols, block, Math.floor(first / block)], [last ? scale : 1]),
        [Math.ceil(cols / WG), n],
      );
    }
    if (current !== x) current.dispose();
    current = out;
    remaining = blocks;
  } while (current.shape.length === 2);
  return record(current, "sumRows", [x], (dy) => [biasAdd(fill([rows, cols], 0), scale === 1 ? dy : scaleBy(dy, scale))]);
}

/** The sum of every element, as a one-element tensor. */
export function sum(x: Tensor): Tensor {
  return sumRows(x.reshape([x.size, 1])).reshape([1]);
}

/** The mean of every element, as a one-element tensor. */
export function mean(x: Tensor): Tensor {
  return sumRows(x.reshape([x.size, 1]), 1 / x.size).reshape([1]);
}
