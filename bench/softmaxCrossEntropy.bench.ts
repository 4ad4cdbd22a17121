// Softmax + categorical cross-entropy on logits (the loss of every training step): the seed
// model's [32×10], where the cost is dispatch latency, and a wide [4096×1000] for throughput.
import type { Row } from "./harness.js";
import { lib, oneHotValues, op, oursRunner, randomValues, upload } from "./ours.js";
import { tfjsRunner, type Tf } from "./tfjs.js";

type SoftmaxCrossEntropy = (logits: lib.Tensor, labels: lib.Tensor) => lib.Tensor;

const CASES = [
  [32, 10],
  [4096, 1000],
] as const;

export const rows: Row[] = [];
for (const [batch, classes] of CASES) {
  for (const pass of ["fwd", "fwd+bwd"] as const) {
    const logitValues = () => randomValues(batch * classes, batch + classes, 4);
    const labelValues = () => oneHotValues(batch, classes, batch + classes + 1);
    rows.push({
      id: `softmaxCrossEntropy_${batch}x${classes}_${pass === "fwd" ? "fwd" : "fwdbwd"}`,
      op: "softmaxCrossEntropy",
      title: `softmaxCrossEntropy [${batch}×${classes}] ${pass === "fwd" ? "forward" : "forward+backward"}`,
      // forward reads logits and labels; backward reads them again and writes the gradient
      bytes: 4 * batch * classes * (pass === "fwd" ? 2 : 5),
      async ours() {
        const softmaxCrossEntropy = op<SoftmaxCrossEntropy>("softmaxCrossEntropy");
        const logits = upload(logitValues(), [batch, classes], pass !== "fwd");
        const labels = upload(labelValues(), [batch, classes]);
        if (pass === "fwd") return oursRunner(() => softmaxCrossEntropy(logits, labels), [logits, labels]);
        return oursRunner(() => {
          const loss = softmaxCrossEntropy(logits, labels);
          const grads = lib.backward(loss);
          loss.dispose();
          return [grads.get(logits)!];
        }, [logits, labels]);
      },
      async tfjs(peer) {
        const { tf } = peer;
        const logits = tf.tensor2d(logitValues(), [batch, classes]);
        const labels = tf.tensor2d(labelValues(), [batch, classes]);
        const loss = (l: Tf.Tensor) => tf.losses.softmaxCrossEntropy(labels, l) as Tf.Scalar;
        if (pass === "fwd") return tfjsRunner(peer, () => loss(logits), [logits, labels]);
        const gradient = tf.grad(loss);
        return tfjsRunner(peer, () => gradient(logits), [logits, labels]);
      },
    });
  }
}
