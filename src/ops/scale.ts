import { record } from "../autograd.js";
import type { Tensor } from "../tensor.js";
import { blockGroups, chunks, output, params, run, vec4Binding } from "./run.js";

/** x * s for a number s. */
export function scale(x: Tensor, s: number): Tensor {
  const y = output(x.shape, "scale");
  for (const [offset, length] of chunks(x.size, 1)) {
    run("scale", [vec4Binding(x, offset, length), vec4Binding(y, offset, length)], params([length], [s]), blockGroups(length));
  }
  return record(y, "scale", [x], (dy) => [scale(dy, s)]);
}
