import type { Tensor } from "../tensor.js";
import { output, params, run } from "./run.js";
import { meanOfRows, rowWorkgroups, rowChunks, rowPair } from "./softmax.js";

/**
 * The fraction of rows whose argmax of scores equals the argmax of labels (ties go to the first
 * index on both sides), both [N, C], as a [1] tensor. No gradient.
 */
export function accuracy(scores: Tensor, labels: Tensor): Tensor {
  const [rows, cols] = rowPair("accuracy", scores, labels, "scores");
  const hits = output([rows], "accuracy");
  for (const [first, count] of rowChunks(rows, cols)) {
    const [offset, length] = [first * cols, count * cols];
    run("accuracy", [scores.binding(offset, length), labels.binding(offset, length), hits.binding(first, count)], params([count, cols]), rowWorkgroups(count));
  }
  return meanOfRows(hits);
}
