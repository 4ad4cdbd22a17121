import { record } from "../autograd.js";
import { shapeString, type Tensor } from "../tensor.js";
import { reluBackward } from "./relu.js";
import { blockGroups, chunks, output, params, run, shapeError, vec4Binding } from "./run.js";
import { sumRows } from "./sum.js";

/**
 * x + b over the last axis (x [..., C], b [C]); with `relu`, max(x + b, 0) in the same pass.
 * The bias gradient is dy summed over every axis but the last.
 */
export function biasAdd(x: Tensor, b: Tensor, activation: "linear" | "relu" = "linear"): Tensor {
  const channels = x.shape[x.shape.length - 1];
  if (b.shape.length !== 1 || b.shape[0] !== channels) {
    throw shapeError("biasAdd", `bias ${shapeString(b.shape)} does not match the last axis of input ${shapeString(x.shape)}; expected [${channels}]`);
  }
  const y = output(x.shape, activation === "relu" ? "biasAdd+relu" : "biasAdd");
  const rows = x.size / Math.max(channels, 1);
  for (const [first, count] of chunks(rows, channels)) {
    const [offset, length] = [first * channels, count * channels];
    run(activation === "relu" ? "bias_relu" : "bias_add", [vec4Binding(x, offset, length), b, vec4Binding(y, offset, length)], params([length, channels]), blockGroups(length));
  }
  return record(y, "biasAdd", [x, b], (dy) => {
    const g = activation === "relu" ? reluBackward(y, dy) : dy;
    return [g, sumRows(g.reshape([rows, channels]))];
  });
}
