import { blockGroups, chunks, output, params, run, vec4Binding } from "./run.js";
import type { Shape, Tensor } from "../tensor.js";

/** A tensor of `shape` with every element `value` (zeros, ones, optimizer state). */
export function fill(shape: Shape, value: number): Tensor {
  const out = output(shape, "fill");
  for (const [offset, length] of chunks(out.size, 1)) {
    run("fill", [vec4Binding(out, offset, length)], params([length], [value]), blockGroups(length));
  }
  return out;
}

export const zeros = (shape: Shape): Tensor => fill(shape, 0);
export const ones = (shape: Shape): Tensor => fill(shape, 1);
