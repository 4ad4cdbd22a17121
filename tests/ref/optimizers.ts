// float64 references of Keras' Adam and SGD updates (keras/src/optimizers/adam.py, sgd.py).

export interface AdamState {
  param: Float64Array;
  m: Float64Array;
  v: Float64Array;
}

export interface AdamHyper {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

/** One Adam step at 1-based `step`; returns the new state. */
export function adamRef(s: AdamState, grad: Float64Array, h: AdamHyper, step: number): AdamState {
  const alpha = (h.learningRate * Math.sqrt(1 - h.beta2 ** step)) / (1 - h.beta1 ** step);
  const m = s.m.map((mi, i) => mi + (grad[i] - mi) * (1 - h.beta1));
  const v = s.v.map((vi, i) => vi + (grad[i] * grad[i] - vi) * (1 - h.beta2));
  const param = s.param.map((p, i) => p - (m[i] * alpha) / (Math.sqrt(v[i]) + h.epsilon));
  return { param, m, v };
}

/** One SGD step; with momentum 0 the velocity is returned unchanged. */
export function sgdRef(param: Float64Array, velocity: Float64Array, grad: Float64Array, learningRate: number, momentum: number): { param: Float64Array; velocity: Float64Array } {
  if (momentum === 0) return { param: param.map((p, i) => p - learningRate * grad[i]), velocity };
  const v = velocity.map((vi, i) => momentum * vi - learningRate * grad[i]);
  return { param: param.map((p, i) => p + v[i]), velocity: v };
}
