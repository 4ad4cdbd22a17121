// Optimizers as Keras: Adam and SGD, their state (m and v, velocity) kept as tensors on the GPU
// beside each weight. Updates run in place and do nothing once the step's status says the loss
// was not finite (see ops/guard.ts), so a bad step never touches the weights.
import { adamUpdate } from "./ops/adam.js";
import { zeros } from "./ops/fill.js";
import { output } from "./ops/run.js";
import { sgdUpdate } from "./ops/sgd.js";
import { checkOptions, type OptionKeys } from "./options.js";
import { keep, type Tensor } from "./tensor.js";

export abstract class Optimizer {
  /** Keras' class name ("Adam"), for getConfig() and saving. */
  abstract readonly className: string;
  /** Updates applied so far (Keras' `iterations`). */
  iterations = 0;

  /** Applies one update to each parameter from its gradient, in place, unless status[0] != 0. */
  abstract applyGradients(pairs: [param: Tensor, grad: Tensor][], status: Tensor): void;

  abstract getConfig(): Record<string, unknown>;

  /** The state tensors in a fixed order, per parameter (for saving the optimizer). */
  abstract getWeights(params: Tensor[]): Tensor[];

  /** Frees the state of these parameters (all of it when none are given). */
  abstract dispose(params?: Tensor[]): void;
}

/** The options object, or a bare number as the learning rate (tf.train.adam(0.01)'s habit). */
function optimizerArgs<T extends { learningRate?: number }>(name: string, args: T | number | undefined, known: OptionKeys<T>): T {
  if (typeof args === "number") return { learningRate: args } as T;
  checkOptions(`new ${name}()`, args, known);
  return args ?? ({} as T);
}

function checkRate(what: string, value: number, lo: number, hi: number, loOpen = false): void {
  const ok = typeof value === "number" && Number.isFinite(value) && (loOpen ? value > lo : value >= lo) && value < hi;
  if (!ok) throw new Error(`gpu-cnn: ${what} must be a finite number in ${loOpen ? "(" : "["}${lo}, ${hi}), got ${value}`);
}

export interface AdamArgs {
  learningRate?: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

/** Adam with Keras' defaults: learningRate 0.001, beta1 0.9, beta2 0.999, epsilon 1e-7. */
export class Adam extends Optimizer {
  readonly className = "Adam";
  readonly learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  private slots = new Map<Tensor, { m: Tensor; v: Tensor }>();

  /** `options` may be just the learning rate: `new Adam(0.01)`. */
  constructor(options?: AdamArgs | number) {
    super();
    const args = optimizerArgs<AdamArgs>("Adam", options, { learningRate: true, beta1: true, beta2: true, epsilon: true });
    this.learningRate = args.learningRate ?? 0.001;
    this.beta1 = args.beta1 ?? 0.9;
    this.beta2 = args.beta2 ?? 0.999;
    this.epsilon = args.epsilon ?? 1e-7;
    checkRate("Adam learningRate", this.learningRate, 0, Infinity);
    checkRate("Adam beta1", this.beta1, 0, 1);
    checkRate("Adam beta2", this.beta2, 0, 1);
    checkRate("Adam epsilon", this.epsilon, 0, Infinity);
  }

  /**
   * The state of `param`, created where it has none: zeros, or for an update about to run,
   * new tensors left unwritten (`fresh`: adamUpdate takes them as zeros and writes them).
   */
  private slot(param: Tensor, forUpdate = false): { m: Tensor; v: Tensor; fresh: boolean } {
    const existing = this.slots.get(param);
    if (existing) return { ...existing, fresh: false };
    const make = (what: string) => {
      const t = keep(forUpdate ? output(param.shape, "Adam state") : zeros(param.shape));
      t.name = `${param.name}/${what}`;
      return t;
    };
    const s = { m: make("m"), v: make("v") };
    this.slots.set(param, s);
    return { ...s, fresh: forUpdate };
  }

  applyGradients(pairs: [Tensor, Tensor][], status: Tensor): void {
    const step = ++this.iterations;
    for (const [param, grad] of pairs) {
      const { m, v, fresh } = this.slot(param, true);
      adamUpdate(param, grad, m, v, status, { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, step, fresh });
    }
  }

  getConfig(): Record<string, unknown> {
    return { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }

  /** [m, v] per parameter, created (zero) where no step has run yet. */
  getWeights(params: Tensor[]): Tensor[] {
    return params.flatMap((p) => {
      const { m, v } = this.slot(p);
      return [m, v];
    });
  }

  dispose(params: Tensor[] = [...this.slots.keys()]): void {
    for (const p of params) {
      const s = this.slots.get(p);
      s?.m.dispose();
      s?.v.dispose();
      this.slots.delete(p);
    }
  }
}

export interface SGDArgs {
  learningRate?: number;
  momentum?: number;
}

/** SGD with Keras' defaults: learningRate 0.01, momentum 0 (then no velocity is kept). */
export class SGD extends Optimizer {
  readonly className = "SGD";
  readonly learningRate: number;
  readonly momentum: number;
  private velocities = new Map<Tensor, Tensor>();

  /** `options` may be just the learning rate: `new SGD(0.1)`. */
  constructor(options?: SGDArgs | number) {
    super();
    const args = optimizerArgs<SGDArgs>("SGD", options, { learningRate: true, momentum: true });
    this.learningRate = args.learningRate ?? 0.01;
    this.momentum = args.momentum ?? 0;
    checkRate("SGD learningRate", this.learningRate, 0, Infinity);
    checkRate("SGD momentum", this.momentum, 0, 1);
  }

  private velocity(param: Tensor): Tensor {
    let v = this.velocities.get(param);
    if (!v) {
      v = keep(zeros(param.shape));
      v.name = `${param.name}/momentum`;
      this.velocities.set(param, v);
    }
    return v;
  }

  applyGradients(pairs: [Tensor, Tensor][], status: Tensor): void {
    this.iterations++;
    for (const [param, grad] of pairs) {
      const velocity = this.momentum === 0 ? null : this.velocity(param);
      sgdUpdate(param, grad, velocity, status, { learningRate: this.learningRate, momentum: this.momentum });
    }
  }

  getConfig(): Record<string, unknown> {
    return { learningRate: this.learningRate, momentum: this.momentum, nesterov: false };
  }

  getWeights(params: Tensor[]): Tensor[] {
    return this.momentum === 0 ? [] : params.map((p) => this.velocity(p));
  }

  dispose(params: Tensor[] = [...this.velocities.keys()]): void {
    for (const p of params) {
      this.velocities.get(p)?.dispose();
      this.velocities.delete(p);
    }
  }
}

/** "adam" / "sgd" (any case) or an optimizer instance. */
export function getOptimizer(optimizer: string | Optimizer): Optimizer {
  if (optimizer instanceof Optimizer) return optimizer;
  const name = String(optimizer).toLowerCase();
  if (name === "adam") return new Adam();
  if (name === "sgd") return new SGD();
  throw new Error(`gpu-cnn: compile(): unknown optimizer ${JSON.stringify(optimizer)}; use "adam", "sgd", new Adam({...}) or new SGD({...})`);
}
