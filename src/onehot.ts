// oneHot: class indices -> the [N, numClasses] one-hot labels that categorical cross-entropy takes.
import { tensor, type Tensor } from "./tensor.js";

/** `oneHot([2, 0], 3)` is `[[0, 0, 1], [1, 0, 0]]`. Labels must be integers in [0, numClasses). */
export function oneHot(labels: ArrayLike<number>, numClasses: number): Tensor {
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new Error(`gpu-cnn: oneHot(): numClasses must be a positive integer, got ${numClasses}`);
  const n = labels.length;
  const out = new Float32Array(n * numClasses);
  for (let i = 0; i < n; i++) {
    const label = labels[i];
    if (!Number.isInteger(label) || label < 0 || label >= numClasses) {
      throw new Error(`gpu-cnn: oneHot(): label ${i} is ${label}; labels must be integers in [0, ${numClasses - 1}]`);
    }
    out[i * numClasses + label] = 1;
  }
  return tensor(out, [n, numClasses]);
}
