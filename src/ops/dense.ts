import { record } from "../autograd.js";
import { shapeString, type Tensor } from "../tensor.js";
import { gemm, matmulNT, matmulTN, needsGrad } from "./matmul.js";
import { reluBackward } from "./relu.js";
import { output, shapeError } from "./run.js";
import { sumRows } from "./sum.js";

/**
 * A fully connected layer: x [batch, in] · w [in, out] (Keras kernel layout) + b [out], then
 * `activation`; bias and relu run in the matmul's epilogue (no extra pass). Gradients: relu
 * masks dy where y > 0, then dx = g·wᵀ, dw = xᵀ·g, db = the column sums of g.
 */
export function dense(x: Tensor, w: Tensor, b: Tensor | null, activation: "linear" | "relu" = "linear"): Tensor {
  if (x.shape.length !== 2) throw shapeError("dense", `input ${shapeString(x.shape)} must be 2-D [batch, in]; flatten it first`);
  if (w.shape.length !== 2) throw shapeError("dense", `kernel ${shapeString(w.shape)} must be 2-D [in, out]`);
  const [batch, inputs] = x.shape;
  const [in2, units] = w.shape;
  if (inputs !== in2) {
    throw shapeError("dense", `input ${shapeString(x.shape)} has ${inputs} features but kernel ${shapeString(w.shape)} expects ${in2}; expected input [batch, ${in2}]`);
  }
  if (batch === 0 || inputs === 0 || units === 0) {
    throw shapeError("dense", `input ${shapeString(x.shape)} and kernel ${shapeString(w.shape)} must have non-zero sizes`);
  }
  if (b && (b.shape.length !== 1 || b.shape[0] !== units)) {
    throw shapeError("dense", `bias ${shapeString(b.shape)} does not match kernel ${shapeString(w.shape)}; expected [${units}]`);
  }
  const relu = activation === "relu";
  const y = output([batch, units], relu ? "dense+relu" : "dense");
  gemm("nn", x, w, { m: batch, n: units, k: inputs }, y, { bias: b, relu });
  return record(y, "dense", [x, w, b], (dy) => {
    const g = relu ? reluBackward(y, dy) : dy;
    return [
      needsGrad(x) ? matmulNT(g, w, "dense backward (input)") : null,
      needsGrad(w) ? matmulTN(x, g, "dense backward (kernel)") : null,
      b && needsGrad(b) ? sumRows(g) : null,
    ];
  });
}
