import { shapeString, type Tensor } from "../tensor.js";
import { checkStatus } from "./guard.js";
import { blockGroups, chunks, params, run, sameShape, shapeError, vec4Binding } from "./run.js";

export interface AdamOptions {
  learningRate?: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** The 1-based number of this update (Keras' iterations + 1). */
  step: number;
  /**
   * m and v are new tensors never written (the first update of this parameter's state): the
   * update takes them as zeros, and leaves zeros there if status skips it. Saves clearing them:
   * a single-threaded pass over fresh memory on lavapipe (0.4 GB for the 224x224 seed model).
   */
  fresh?: boolean;
}

/**
 * One Adam step in place, as Keras: alpha = lr * sqrt(1 - beta2^step) / (1 - beta1^step) (on the
 * CPU in float64), m += (g - m)(1 - beta1), v += (g² - v)(1 - beta2),
 * param -= alpha * m / (sqrt(v) + epsilon). While status[0] != 0 (see guard) it changes nothing,
 * except that fresh state is set to zeros.
 * One dispatch per binding-sized chunk, one pass over memory, no autograd.
 */
export function adamUpdate(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, status: Tensor, options: AdamOptions): void {
  const { learningRate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7, step, fresh = false } = options;
  checkState("adamUpdate", param, { grad, m, v });
  checkStatus("adamUpdate", status);
  if (!Number.isInteger(step) || step < 1) throw new Error(`gpu-cnn: adamUpdate: step must be an integer >= 1, got ${step}`);
  for (const [name, beta] of [["beta1", beta1], ["beta2", beta2]] as const) {
    if (!(beta >= 0 && beta < 1)) throw new Error(`gpu-cnn: adamUpdate: ${name} must be in [0, 1), got ${beta}`);
  }
  checkFinite("adamUpdate", { learningRate, epsilon });
  const alpha = (learningRate * Math.sqrt(1 - beta2 ** step)) / (1 - beta1 ** step);
  for (const [offset, length] of chunks(param.size, 1)) {
    const [g, p, mb, vb] = [grad, param, m, v].map((t) => vec4Binding(t, offset, length));
    run("adam", [g, status, p, mb, vb], params([length, fresh ? 1 : 0], [alpha, 1 - beta1, 1 - beta2, epsilon]), blockGroups(length));
  }
}

/** Throws unless every state tensor has the parameter's shape. */
export function checkState(op: string, param: Tensor, state: Record<string, Tensor>): void {
  for (const [name, t] of Object.entries(state)) {
    if (!sameShape(t.shape, param.shape)) {
      throw shapeError(op, `${name} ${shapeString(t.shape)} does not match param ${param.name} ${shapeString(param.shape)}; expected ${shapeString(param.shape)}`);
    }
  }
}

/** Throws unless every hyperparameter is a finite number. */
export function checkFinite(op: string, values: Record<string, number>): void {
  for (const [name, value] of Object.entries(values)) {
    if (typeof value !== "number" || !Number.isFinite(value)) throw new Error(`gpu-cnn: ${op}: ${name} must be a finite number, got ${value}`);
  }
}
