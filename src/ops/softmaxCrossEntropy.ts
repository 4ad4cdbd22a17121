import { record } from "../autograd.js";
import { shapeString, type Tensor } from "../tensor.js";
import { chunks, grid1d, output, params, run, shapeError } from "./run.js";
import { meanOfRows, rowChunks, rowPair, rowWorkgroups } from "./softmax.js";

/** Keras' backend.epsilon(): probabilities are clipped to [EPSILON, 1 - EPSILON] before the log. */
const EPSILON = 1e-7;

/**
 * Mean categorical cross-entropy of softmax(logits) against labels (one-hot or soft, rows
 * summing to 1), both [N, C], as a [1] tensor. Each row's loss is sum(y * (lse - x)) with
 * lse = log-sum-exp of the row, so large logits never overflow and no log(0) happens.
 * Backward (logits only): (softmax(logits) - labels) * dL / N, from the forward's probabilities,
 * as TensorFlow's softmax_cross_entropy_with_logits.
 */
export function softmaxCrossEntropy(logits: Tensor, labels: Tensor): Tensor {
  const [rows, cols] = rowPair("softmaxCrossEntropy", logits, labels, "logits");
  const probs = output(logits.shape, "softmaxCrossEntropy");
  const rowLoss = output([rows], "softmaxCrossEntropy");
  for (const [first, count] of rowChunks(rows, cols)) {
    const [offset, length] = [first * cols, count * cols];
    run(
      "softmax_xent_fwd",
      [logits.binding(offset, length), labels.binding(offset, length), probs.binding(offset, length), rowLoss.binding(first, count)],
      params([count, cols]),
      rowWorkgroups(count),
    );
  }
  const loss = record(meanOfRows(rowLoss), "softmaxCrossEntropy", [logits, labels], (dLoss) => [softmaxCrossEntropyBackward(probs, labels, dLoss), null]);
  if (!loss.node) probs.dispose(); // no backward will read them
  return loss;
}

/** (probs - labels) * dLoss[0] / N; dLoss stays on the GPU. */
function softmaxCrossEntropyBackward(probs: Tensor, labels: Tensor, dLoss: Tensor): Tensor {
  if (dLoss.size !== 1) throw shapeError("softmaxCrossEntropy backward", `the loss gradient ${shapeString(dLoss.shape)} must have one element`);
  const rows = probs.shape[0];
  const dx = output(probs.shape, "softmaxCrossEntropy backward");
  for (const [offset, length] of chunks(probs.size, 1)) {
    run(
      "softmax_xent_bwd",
      [probs.binding(offset, length), labels.binding(offset, length), dLoss, dx.binding(offset, length)],
      params([length], [1 / rows]),
      grid1d(length),
    );
  }
  return dx;
}

/**
 * Mean categorical cross-entropy of probabilities (e.g. a softmax layer's output) as Keras
 * computes it: each row is divided by its sum, clipped to [1e-7, 1 - 1e-7], then
 * -sum(y * log(p)); the mean over the N rows, as a [1] tensor. Forward only (evaluation): train
 * with softmaxCrossEntropy on the logits.
 */
export function categoricalCrossentropyFromProbs(probs: Tensor, labels: Tensor): Tensor {
  const [rows, cols] = rowPair("categoricalCrossentropyFromProbs", probs, labels, "probabilities");
  const rowLoss = output([rows], "categoricalCrossentropyFromProbs");
  for (const [first, count] of rowChunks(rows, cols)) {
    const [offset, length] = [first * cols, count * cols];
    run(
      "xent_probs",
      [probs.binding(offset, length), labels.binding(offset, length), rowLoss.binding(first, count)],
      params([count, cols], [EPSILON, 1 - EPSILON]),
      rowWorkgroups(count),
    );
  }
  return record(meanOfRows(rowLoss), "categoricalCrossentropyFromProbs", [probs, labels], () => {
    throw new Error("gpu-cnn: categoricalCrossentropyFromProbs has no gradient; train with softmaxCrossEntropy on the logits");
  });
}
