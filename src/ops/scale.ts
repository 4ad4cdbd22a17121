import { record } from "../autograd.js";
import type { Tensor } from "../tensor.js";
import { chunks, grid1d, output, params, run } from "./run.js";

/** x * s for a number s. */
export function scale(x: Tensor, s: number): Tensor {
  const y = output(x.shape, "scale");
  for (const [offset, length] of chunks(x.size, 1)) {
    run("scale", [x.binding(offset, length), y.binding(offset, length)], params([length], [s]), grid1d(length));
  }
  return record(y, "scale", [x], (dy) => [scale(dy, s)]);
}
