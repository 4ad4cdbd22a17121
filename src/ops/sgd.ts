import type { Tensor } from "../tensor.js";
import { checkFinite, checkState } from "./adam.js";
import { checkStatus } from "./guard.js";
import { blockGroups, chunks, params, run, vec4Binding } from "./run.js";

export interface SgdOptions {
  learningRate?: number;
  momentum?: number;
}

/**
 * One SGD step in place, as Keras: velocity = momentum * velocity - lr * g; param += velocity.
 * With momentum 0, param -= lr * g and velocity is neither needed nor touched. Does nothing
 * while status[0] != 0 (see guard). One dispatch per binding-sized chunk, no autograd.
 */
export function sgdUpdate(param: Tensor, grad: Tensor, velocity: Tensor | null, status: Tensor, options: SgdOptions = {}): void {
  const { learningRate = 0.01, momentum = 0 } = options;
  checkFinite("sgdUpdate", { learningRate, momentum });
  checkState("sgdUpdate", param, velocity && momentum !== 0 ? { grad, velocity } : { grad });
  checkStatus("sgdUpdate", status);
  if (momentum !== 0 && !velocity) throw new Error(`gpu-cnn: sgdUpdate: momentum ${momentum} needs a velocity tensor for ${param.name}`);
  for (const [offset, length] of chunks(param.size, 1)) {
    const p = params([length], [learningRate, momentum]);
    const [g, x] = [vec4Binding(grad, offset, length), vec4Binding(param, offset, length)];
    if (momentum === 0) run("sgd_plain", [g, status, x], p, blockGroups(length));
    else run("sgd", [g, status, x, vec4Binding(velocity!, offset, length)], p, blockGroups(length));
  }
}
