// Max pooling 2×2 (stride 2, valid) on both conv2d outputs of the seed model, forward and
// backward. Memory-bound: the rate is input plus output bytes per second.
import type { Row } from "./harness.js";
import { distinctValues, lib, op, oursRunner, randomValues, size, upload } from "./ours.js";
import { tfjsRunner, type Tf } from "./tfjs.js";

type MaxPool2d = (x: lib.Tensor, opts?: { poolSize?: number; padding?: "valid" | "same" }) => lib.Tensor;

// the valid 3×3 conv2d outputs of 32×28×28×1 and 8×224×224×3 with 32 filters
const INPUTS = [
  [32, 26, 26, 32],
  [8, 222, 222, 32],
] as const;

export const rows: Row[] = [];
for (const input of INPUTS) {
  const outShape = [input[0], Math.floor(input[1] / 2), Math.floor(input[2] / 2), input[3]];
  for (const pass of ["fwd", "bwd"] as const) {
    const seed = size(input) + 7;
    // no ties: tfjs and gpu-cnn may pick different winners of a tied window
    const xs = () => distinctValues(size(input), seed);
    const dys = () => randomValues(size(outShape), seed + 1);
    rows.push({
      id: `maxpool2d_${input.join("x")}_p2x2_${pass}`,
      op: "maxpool2d",
      title: `maxPool2d 2×2 on ${input.join("×")} ${pass === "fwd" ? "forward" : "backward"}`,
      bytes: 4 * (size(input) + size(outShape)),
      async ours() {
        const maxPool2d = op<MaxPool2d>("maxPool2d");
        const x = upload(xs(), input, pass === "bwd");
        if (pass === "fwd") return oursRunner(() => maxPool2d(x, { poolSize: 2 }), [x]);
        const y = maxPool2d(x, { poolSize: 2 });
        const dy = upload(dys(), outShape);
        return oursRunner(() => lib.backward(y, dy).get(x)!, [x, y, dy]);
      },
      async tfjs(peer) {
        const { tf } = peer;
        const x = tf.tensor4d(xs(), [...input] as [number, number, number, number]);
        if (pass === "fwd") return tfjsRunner(peer, () => tf.maxPool(x, 2, 2, "valid"), [x]);
        const y = tf.maxPool(x, 2, 2, "valid");
        const dy = tf.tensor(dys(), outShape);
        // the kernel tf.grad runs for maxPool, called directly
        const attrs = { filterSize: [2, 2], strides: [2, 2], pad: "valid" };
        return tfjsRunner(peer, () => tf.engine().runKernel<Tf.Tensor>("MaxPoolGrad", { dy, input: x, output: y }, attrs), [x, y, dy]);
      },
    });
  }
}
