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
    const parts = chunks(remaining, cols);
    // each chunk reduces to its own partial rows, placed one after another in the output
    const blocks = parts.map(([, count]) => Math.max(1, Math.ceil(count / block)));
    const total = blocks.reduce((a, b) => a + b, 0);
    const last = total === 1;
    const out = output(last ? [cols] : [total, cols], "sumRows");
    let outRow = 0;
    const colsPerDispatch = maxWg * WG;
    parts.forEach(([first, count], i) => {
      for (let col0 = 0; col0 < Math.max(cols, 1); col0 += colsPerDispatch) {
        run(
          "sum_rows",
          [current.binding(first * cols, count * cols), out],
          params([count, cols, block, outRow, col0], [last ? scale : 1]),
          [Math.ceil(Math.min(cols - col0, colsPerDispatch) / WG), blocks[i]],
        );
      }
      outRow += blocks[i];
    });
    if (current !== x) current.dispose();
    current = out;
    remaining = total;
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
