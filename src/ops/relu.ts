import { record } from "../autograd.js";
import type { Tensor } from "../tensor.js";
import { blockGroups, chunks, output, params, run, vec4Binding } from "./run.js";

/** max(x, 0). The backward pass reads the output: dx = dy where y > 0. */
export function relu(x: Tensor): Tensor {
  const y = output(x.shape, "relu");
  for (const [offset, length] of chunks(x.size, 1)) {
    run("relu_fwd", [vec4Binding(x, offset, length), vec4Binding(y, offset, length)], params([length]), blockGroups(length));
  }
  return record(y, "relu", [x], (dy) => [reluBackward(y, dy)]);
}

export function reluBackward(y: Tensor, dy: Tensor): Tensor {
  const dx = output(y.shape, "relu backward");
  for (const [offset, length] of chunks(y.size, 1)) {
    run("relu_bwd", [vec4Binding(y, offset, length), vec4Binding(dy, offset, length), vec4Binding(dx, offset, length)], params([length]), blockGroups(length));
  }
  return dx;
}
