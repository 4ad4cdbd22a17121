// Dense (matmul + bias + relu, as the seed model's hidden layer) at the seed model's shapes:
// forward, and forward + backward (gradients of input, kernel and bias).
import type { Row } from "./harness.js";
import { lib, op, oursRunner, randomValues, upload } from "./ours.js";
import { tfjsRunner, type Tf } from "./tfjs.js";

type Dense = (x: lib.Tensor, w: lib.Tensor, b: lib.Tensor | null, activation?: "linear" | "relu") => lib.Tensor;

const CASES = [
  { batch: 32, inputs: 5408, units: 128, note: "" }, // 28×28×1 seed: 13·13·32 features
  { batch: 32, inputs: 21632, units: 128, note: "" }, // 26·26·32 features
  { batch: 8, inputs: 394272, units: 128, note: " (224 seed, 202 MB kernel)" }, // 111·111·32: above lavapipe's 128 MiB binding
];

export const rows: Row[] = [];
for (const { batch, inputs, units, note } of CASES) {
  for (const pass of ["fwd", "fwd+bwd"] as const) {
    const seed = inputs + batch;
    const scale = Math.sqrt(6 / (inputs + units)); // glorot-uniform range: activations stay O(1)
    const xs = () => randomValues(batch * inputs, seed);
    const ws = () => randomValues(inputs * units, seed + 1, scale);
    const bs = () => randomValues(units, seed + 2, 0.1);
    const dys = () => randomValues(batch * units, seed + 3);
    const matmuls = pass === "fwd" ? 1 : 3; // forward; then dx = dy·Wᵀ and dW = xᵀ·dy
    rows.push({
      id: `dense_${batch}x${inputs}_${inputs}x${units}_relu_${pass === "fwd" ? "fwd" : "fwdbwd"}`,
      op: "dense",
      title: `dense [${batch}×${inputs}]·[${inputs}×${units}] relu ${pass === "fwd" ? "forward" : "forward+backward"}${note}`,
      flops: matmuls * 2 * batch * inputs * units,
      async ours() {
        const dense = op<Dense>("dense");
        const grad = pass !== "fwd";
        const x = upload(xs(), [batch, inputs], grad);
        const w = upload(ws(), [inputs, units], grad);
        const b = upload(bs(), [units], grad);
        if (!grad) return oursRunner(() => dense(x, w, b, "relu"), [x, w, b]);
        const dy = upload(dys(), [batch, units]);
        return oursRunner(() => {
          const y = dense(x, w, b, "relu");
          const grads = lib.backward(y, dy);
          y.dispose();
          return [grads.get(x)!, grads.get(w)!, grads.get(b)!];
        }, [x, w, b, dy]);
      },
      async tfjs(peer) {
        const { tf } = peer;
        const x = tf.tensor2d(xs(), [batch, inputs]);
        const w = tf.tensor2d(ws(), [inputs, units]);
        const b = tf.tensor1d(bs());
        const forward = (x: Tf.Tensor2D, w: Tf.Tensor2D, b: Tf.Tensor1D) => tf.fused.matMul({ a: x, b: w, bias: b, activation: "relu" });
        if (pass === "fwd") return tfjsRunner(peer, () => forward(x, w, b), [x, w, b]);
        const dy = tf.tensor2d(dys(), [batch, units]);
        const gradients = tf.grads((x: Tf.Tensor, w: Tf.Tensor, b: Tf.Tensor) => forward(x as Tf.Tensor2D, w as Tf.Tensor2D, b as Tf.Tensor1D));
        return tfjsRunner(peer, () => gradients([x, w, b], dy), [x, w, b, dy]);
      },
    });
  }
}
