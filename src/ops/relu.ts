import { record } from "../autograd.js";
import type { Tensor } from "../tensor.js";
import { chunks, grid1d, output, params, run } from "./run.js";

/** max(x, 0). The backward pass reads the output: dx = dy where y > 0. */
export function relu(x: Tensor): Tensor {
  const y = output(x.shape, "relu");
  for (const [offset, length] of chunks(x.size, 1)) {
    run("relu_fwd", [x.binding(offset, length), y.binding(offset, length)], params([length]), grid1d(length));
  }
  return record(y, "relu", [x], (dy) => [reluBackward(y, dy)]);
}

export function reluBackward(y: Tensor, dy: Tensor): Tensor {
  const dx = output(y.shape, "relu backward");
  for (const [offset, length] of chunks(y.size, 1)) {
    run("relu_bwd", [y.binding(offset, length), dy.binding(offset, length), dx.binding(offset, length)], params([length]), grid1d(length));
  }
  return dx;
}
