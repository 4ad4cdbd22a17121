import { gpu } from "../device.js";
import { record } from "../autograd.js";
import { shapeString, type Tensor } from "../tensor.js";
import { biasAdd } from "./bias.js";
import { fill } from "./fill.js";
import { scale as scaleBy } from "./scale.js";
import { chunks, output, params, run, shapeError, vec4Binding } from "./run.js";

const BLOCK = 256; // rows per workgroup of the scalar pass
const WG = 64;
/** Inputs of at most this many rows take one scalar pass: one dispatch, little to read. */
const SCALAR_ROWS = 256;
/** Vector passes: workgroups per pass at most, and vec4s a workgroup should have at least. */
const MAX_GROUPS = 16;
const MIN_VEC4_PER_GROUP = 2048;

/**
 * Sums x [rows, cols] over its rows into [cols], times `scale`: bias gradients and, with one
 * column, totals and means. Reduces in passes: big inputs go through vec4 passes to a few
 * partial rows, which one lane per column adds up.
 */
export function sumRows(x: Tensor, scale = 1): Tensor {
  if (x.shape.length !== 2) throw shapeError("sumRows", `expects [rows, cols], got ${shapeString(x.shape)}`);
  const [rows, cols] = x.shape;
  let current = x;
  do {
    const remaining = current.shape[0];
    const out = remaining > SCALAR_ROWS && cols > 0 ? vectorPass(current, scale) : scalarPass(current, scale);
    if (current !== x) current.dispose();
    current = out;
  } while (current.shape.length === 2);
  return record(current, "sumRows", [x], (dy) => [biasAdd(fill([rows, cols], 0), scale === 1 ? dy : scaleBy(dy, scale))]);
}

/** One lane per column, BLOCK rows per workgroup: [blocks, cols], or [cols] times scale if one block. */
function scalarPass(x: Tensor, scale: number): Tensor {
  const [remaining, cols] = x.shape;
  const maxWg = gpu().maxWorkgroupsPerDimension;
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
        [x.binding(first * cols, count * cols), out],
        params([count, cols, block, outRow, col0], [last ? scale : 1]),
        [Math.ceil(Math.min(cols - col0, colsPerDispatch) / WG), blocks[i]],
      );
    }
    outRow += blocks[i];
  });
  return out;
}

/**
 * vec4 loads over super-rows of lcm(cols, 4) floats, a few big blocks: [cols] times scale when
 * cols divides by 4 and one block is left, else the partial sums as [rows', cols] for another pass.
 */
function vectorPass(x: Tensor, scale: number): Tensor {
  const [remaining, cols] = x.shape;
  const maxWg = gpu().maxWorkgroupsPerDimension;
  const superFloats = cols % 4 === 0 ? cols : cols % 2 === 0 ? cols * 2 : cols * 4; // lcm(cols, 4)
  const q = superFloats / 4;
  const width = Math.min(q, WG);
  const colGroups = Math.ceil(q / WG);
  const maxBlocks = Math.max(1, Math.min(Math.floor(MAX_GROUPS / colGroups), maxWg));
  // chunk starts are 256-byte aligned and on row bounds, so on super-row bounds too
  const plan = chunks(remaining, cols).map(([first, count]) => {
    const n = count * cols;
    const superRows = Math.ceil(n / superFloats);
    const wanted = Math.min(Math.max(Math.ceil((superRows * width) / MIN_VEC4_PER_GROUP), 1), maxBlocks);
    const block = Math.ceil(superRows / wanted);
    return { offset: first * cols, n, block, blocks: Math.ceil(superRows / block) };
  });
  const total = plan.reduce((s, p) => s + p.blocks, 0);
  const last = total === 1 && superFloats === cols;
  const out = output(last ? [cols] : [(total * superFloats) / cols, cols], "sumRows");
  const colsPerDispatch = maxWg * WG;
  let outRow = 0;
  for (const p of plan) {
    for (let col0 = 0; col0 < q; col0 += colsPerDispatch) {
      run(
        "sum_rows_vec4",
        [vec4Binding(x, p.offset, p.n), vec4Binding(out)],
        params([p.n, q, p.block, outRow, col0], [last ? scale : 1]),
        [Math.ceil(Math.min(q - col0, colsPerDispatch) / WG), p.blocks],
      );
    }
    outRow += p.blocks;
  }
  return out;
}

/** The sum of every element, as a one-element tensor. */
export function sum(x: Tensor): Tensor {
  return sumRows(x.reshape([x.size, 1])).reshape([1]);
}

/** The mean of every element, as a one-element tensor. */
export function mean(x: Tensor): Tensor {
  return sumRows(x.reshape([x.size, 1]), 1 / x.size).reshape([1]);
}
