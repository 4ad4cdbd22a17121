import { record } from "../autograd.js";
import { shapeString, type Tensor } from "../tensor.js";
import { blockGroups, chunks, output, params, run, sameShape, shapeError, vec4Binding } from "./run.js";

/** a + b, elementwise, same shapes (sums gradients where a tensor is used twice). */
export function add(a: Tensor, b: Tensor): Tensor {
  if (!sameShape(a.shape, b.shape)) {
    throw shapeError("add", `shapes ${shapeString(a.shape)} and ${shapeString(b.shape)} differ; add() takes equal shapes`);
  }
  const out = output(a.shape, "add");
  for (const [offset, length] of chunks(a.size, 1)) {
    run("add", [vec4Binding(a, offset, length), vec4Binding(b, offset, length), vec4Binding(out, offset, length)], params([length]), blockGroups(length));
  }
  return record(out, "add", [a, b], (dy) => [dy, dy]);
}
