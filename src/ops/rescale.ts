import { record } from "../autograd.js";
import { shapeString, type Tensor } from "../tensor.js";
import { chunks, grid1d, output, params, run, shapeError } from "./run.js";

/**
 * y = (x - sub[k]) * mul[k] + add[k] for every element, k its index along `axis` of x
 * (`axis` null: one k for all). `coefficients` is [3, K] (rows sub, mul, add), K = x.shape[axis]
 * (or 1). Rescaling (sub 0, mul scale, add offset) and Normalization (sub mean, mul
 * 1 / max(sqrt(variance), epsilon), add 0) are both this. The gradient is dy * mul[k];
 * the coefficients are constants (no gradient).
 */
export function rescaleChannels(x: Tensor, coefficients: Tensor, axis: number | null = -1): Tensor {
  const rank = x.shape.length;
  let channels = 1;
  let inner = 1;
  if (axis !== null) {
    const a = axis < 0 ? rank + axis : axis;
    if (!Number.isInteger(axis) || a < 0 || a >= rank) {
      throw shapeError("rescaleChannels", `axis ${axis} is not an axis of input ${shapeString(x.shape)}`);
    }
    channels = x.shape[a];
    inner = x.shape.slice(a + 1).reduce((p, d) => p * d, 1);
  }
  if (coefficients.shape.length !== 2 || coefficients.shape[0] !== 3 || coefficients.shape[1] !== channels) {
    throw shapeError("rescaleChannels", `coefficients ${shapeString(coefficients.shape)} must be [3, ${channels}] (subtract, multiply, add per channel) for input ${shapeString(x.shape)} along axis ${axis}`);
  }
  const k = Math.max(channels, 1);
  const apply = (src: Tensor, grad: boolean): Tensor => {
    const y = output(src.shape, grad ? "rescaleChannels backward" : "rescaleChannels");
    if (inner === 1) {
      // along the last axis: whole rows of channels per invocation, chunks on row boundaries
      for (const [row, rows] of chunks(src.size / k, k)) {
        const [offset, length] = [row * k, rows * k];
        run("rescale_last", [src.binding(offset, length), coefficients, y.binding(offset, length)], params([length, 0, 1, k, grad ? 1 : 0]), grid1d(rows));
      }
    } else {
      for (const [offset, length] of chunks(src.size, 1)) {
        run("rescale_channels", [src.binding(offset, length), coefficients, y.binding(offset, length)], params([length, offset, Math.max(inner, 1), k, grad ? 1 : 0]), grid1d(length));
      }
    }
    return y;
  };
  const y = apply(x, false);
  return record(y, "rescaleChannels", [x], (dy) => [apply(dy, true)]);
}
