// The Keras layer contract: configuration in the constructor, weights created in
// build(inputShape) through addWeight(), the computation in call() from ops only, and
// computeOutputShape() so a model can check shapes as layers are added. Shapes here are per
// sample (no batch axis); call() sees tensors with the batch axis first.
import { deserializeInitializer, getInitializer, serializeInitializer, type Initializer, type InitializerSpec } from "../initializers.js";
import { checkOptions, type OptionKeys } from "../options.js";
import { Random } from "../random.js";
import { keep, shapeString, tensor, type Shape, type Tensor } from "../tensor.js";

export type Activation = "linear" | "relu" | "softmax";
const ACTIVATIONS: readonly Activation[] = ["linear", "relu", "softmax"];

export interface LayerArgs {
  /** Per-sample input shape, e.g. [28, 28, 1]; the first layer of a Sequential needs it. */
  inputShape?: number[];
  name?: string;
  /** false freezes the layer's weights (fit leaves them as they are). */
  trainable?: boolean;
}

export const LAYER_OPTIONS: OptionKeys<LayerArgs> = { inputShape: true, name: true, trainable: true };

export interface CallArgs {
  training?: boolean;
  /**
   * Return the values before a final softmax: training fuses softmax into the cross-entropy
   * (one stable kernel) instead of differentiating softmax then log.
   */
  logits?: boolean;
}

export interface LayerWeight {
  /** "dense_1/kernel": layer name, then the weight's name, as Keras. */
  name: string;
  tensor: Tensor;
  trainable: boolean;
}

/** Thrown when a layer cannot take an input shape; `reason` is the message without context. */
export class LayerShapeError extends Error {
  constructor(
    readonly layer: Layer,
    readonly reason: string,
  ) {
    super(`gpu-cnn: ${layer.name} (${layer.className}): ${reason}`);
  }
}

const nameCounts = new Map<string, number>();

/** Keras-style unique names: dense_1, dense_2, max_pooling2d_1 ... */
export function uniqueName(prefix: string): string {
  const n = (nameCounts.get(prefix) ?? 0) + 1;
  nameCounts.set(prefix, n);
  return `${prefix}_${n}`;
}

function snakeCase(className: string): string {
  // Keras' to_snake_case: MaxPooling2D -> max_pooling2d
  return className
    .replace(/(.)([A-Z][a-z]+)/g, "$1_$2")
    .replace(/([a-z])([A-Z])/g, "$1_$2")
    .toLowerCase();
}

export function checkActivation(layer: string, activation: string | undefined): Activation {
  const a = (activation ?? "linear") as Activation;
  if (!ACTIVATIONS.includes(a)) {
    throw new Error(`gpu-cnn: ${layer}: activation "${activation}" is not supported; use one of ${ACTIVATIONS.join(", ")}`);
  }
  return a;
}

/** Keras' `(None, 26, 26, 32)` for a per-sample shape. */
export function batchShapeString(shape: Shape): string {
  return `(None, ${shape.join(", ")})`;
}

export function positiveInts(what: string, value: number | number[] | undefined, fallback: [number, number]): [number, number] {
  const pair: number[] = value === undefined ? fallback : typeof value === "number" ? [value, value] : value;
  if (pair.length !== 2 || !pair.every((v) => Number.isInteger(v) && v > 0)) {
    throw new Error(`gpu-cnn: ${what} must be a positive integer or a pair of them, got ${JSON.stringify(value)}`);
  }
  return [pair[0], pair[1]];
}

export abstract class Layer {
  /** Keras' class name ("Dense"); subclasses set it, saving uses it. */
  static readonly className: string;
  /** Every key the constructor's options take: a key outside them throws (a typo, not a silent default). */
  static readonly options: OptionKeys<LayerArgs> = LAYER_OPTIONS;
  readonly name: string;
  /** Per-sample input shape given to the constructor, if any. */
  readonly inputShape: number[] | null;
  /** The per-sample input shape the layer was built for. */
  builtInputShape: number[] | null = null;
  /** Draws the initial weights; Sequential sets one from its seed before build(). */
  initRandom: Random | null = null;
  private ownWeights: LayerWeight[] = [];
  private isTrainable: boolean;

  constructor(args: LayerArgs = {}) {
    this.name = args.name ?? uniqueName(snakeCase(this.className));
    checkOptions(`${this.name} (${this.className})`, args, (this.constructor as typeof Layer).options);
    this.isTrainable = args.trainable ?? true;
    if (args.inputShape !== undefined) {
      const ok = Array.isArray(args.inputShape) && args.inputShape.length > 0 && args.inputShape.every((d) => Number.isInteger(d) && d > 0);
      if (!ok) throw new Error(`gpu-cnn: ${this.name}: inputShape must list positive integers (no batch axis), got ${JSON.stringify(args.inputShape)}`);
      this.inputShape = [...args.inputShape];
    } else {
      this.inputShape = null;
    }
  }

  get className(): string {
    return (this.constructor as typeof Layer).className;
  }

  get built(): boolean {
    return this.builtInputShape !== null;
  }

  get trainable(): boolean {
    return this.isTrainable;
  }

  set trainable(on: boolean) {
    this.isTrainable = on;
    for (const w of this.ownWeights) w.tensor.requiresGrad = on && w.trainable;
  }

  /** The activation applied last, when the layer has one (the model fuses softmax into the loss). */
  get activation(): Activation | null {
    return null;
  }

  /** The per-sample output shape for a per-sample input shape; throws LayerShapeError if it cannot take it. */
  abstract computeOutputShape(inputShape: Shape): number[];

  /** Creates the weights for this input shape (after computeOutputShape accepted it). */
  build(_inputShape: Shape): void {}

  /** The layer's computation on a batch, from ops only. */
  abstract call(x: Tensor, args?: CallArgs): Tensor;

  /** Checks the shape, builds on first use, then calls. */
  apply(x: Tensor, args: CallArgs = {}): Tensor {
    const sample = x.shape.slice(1);
    if (!this.built) {
      this.computeOutputShape(sample);
      this.build(sample);
      this.builtInputShape = sample;
    } else if (sample.length !== this.builtInputShape!.length || sample.some((d, i) => d !== this.builtInputShape![i])) {
      throw new LayerShapeError(this, `was built for inputs ${batchShapeString(this.builtInputShape!)}, got ${shapeString(x.shape)}`);
    }
    return this.call(x, args);
  }

  /** Builds the layer for `inputShape` once: the output shape, then the weights. */
  ensureBuilt(inputShape: Shape): number[] {
    const out = this.computeOutputShape(inputShape);
    if (!this.built) {
      this.build(inputShape);
      this.builtInputShape = [...inputShape];
    }
    return out;
  }

  /** Creates a weight from `initializer`, kept across tidy() scopes, needing gradients when trainable. */
  protected addWeight(name: string, shape: number[], initializer: Initializer | string, trainable = true): Tensor {
    const init = getInitializer(initializer);
    this.initRandom ??= new Random();
    const values = init.generate(shape, this.initRandom);
    const t = keep(tensor(values, shape));
    t.name = `${this.name}/${name}`;
    t.requiresGrad = trainable && this.isTrainable;
    this.ownWeights.push({ name: t.name, tensor: t, trainable });
    return t;
  }

  /** Weights in Keras order (kernel, then bias). */
  get weights(): readonly LayerWeight[] {
    return this.ownWeights;
  }

  /** The weights that fit updates. */
  get trainableWeights(): Tensor[] {
    return this.isTrainable ? this.ownWeights.filter((w) => w.trainable).map((w) => w.tensor) : [];
  }

  countParams(): number {
    return this.ownWeights.reduce((n, w) => n + w.tensor.size, 0);
  }

  /** The constructor arguments, in tfjs-layers' camelCase form (what saving serialises). */
  getConfig(): Record<string, unknown> {
    const config: Record<string, unknown> = { name: this.name, trainable: this.isTrainable, dtype: "float32" };
    if (this.inputShape) config.batchInputShape = [null, ...this.inputShape];
    return config;
  }

  /** Frees the weights. */
  dispose(): void {
    for (const w of this.ownWeights) w.tensor.dispose();
  }

  protected reject(reason: string): never {
    throw new LayerShapeError(this, reason);
  }
}

/** LayerArgs back from a getConfig() (name, trainable, batchInputShape). */
export function baseArgs(config: Record<string, unknown>): LayerArgs {
  const batchInputShape = config.batchInputShape as (number | null)[] | undefined;
  return {
    name: config.name as string | undefined,
    trainable: config.trainable as boolean | undefined,
    inputShape: batchInputShape ? (batchInputShape.slice(1) as number[]) : undefined,
  };
}

/** What Conv2D and Dense take besides their sizes: Keras' activation, bias and initializer arguments. */
export interface KernelLayerArgs extends LayerArgs {
  activation?: Activation;
  useBias?: boolean;
  kernelInitializer?: Initializer | string;
  biasInitializer?: Initializer | string;
}

export const KERNEL_LAYER_OPTIONS: OptionKeys<KernelLayerArgs> = { ...LAYER_OPTIONS, activation: true, useBias: true, kernelInitializer: true, biasInitializer: true };

/**
 * A layer with a kernel, an optional bias and an activation (Conv2D, Dense): Keras' defaults
 * (glorotUniform kernel, zero bias), the weights, and the config fields they share.
 */
export abstract class KernelLayer extends Layer {
  readonly useBias: boolean;
  readonly kernelInitializer: Initializer | string;
  readonly biasInitializer: Initializer | string;
  protected readonly act: Activation;
  kernel: Tensor | null = null;
  bias: Tensor | null = null;

  constructor(args: KernelLayerArgs) {
    super(args);
    this.act = checkActivation(this.name, args.activation);
    this.useBias = args.useBias ?? true;
    this.kernelInitializer = args.kernelInitializer ?? "glorotUniform";
    this.biasInitializer = args.biasInitializer ?? "zeros";
  }

  override get activation(): Activation {
    return this.act;
  }

  /** Creates the kernel, then (useBias) a bias of `units`, in Keras' order. */
  protected buildKernel(kernelShape: number[], units: number): void {
    this.kernel = this.addWeight("kernel", kernelShape, this.kernelInitializer);
    if (this.useBias) this.bias = this.addWeight("bias", [units], this.biasInitializer);
  }

  /** The config fields after the layer's own: activation, bias, initializers, and the regularizers gpu-cnn lacks (null). */
  protected kernelConfig(): Record<string, unknown> {
    return {
      activation: this.act,
      useBias: this.useBias,
      kernelInitializer: serializeInitializer(this.kernelInitializer),
      biasInitializer: serializeInitializer(this.biasInitializer),
      kernelRegularizer: null,
      biasRegularizer: null,
      activityRegularizer: null,
      kernelConstraint: null,
      biasConstraint: null,
    };
  }
}

/** KernelLayerArgs (with name, trainable and input shape) back from a getConfig(). */
export function kernelArgs(config: Record<string, unknown>): KernelLayerArgs {
  const initializer = (key: string): Initializer | undefined => (config[key] ? deserializeInitializer(config[key] as InitializerSpec) : undefined);
  return {
    ...baseArgs(config),
    activation: config.activation as Activation,
    useBias: config.useBias as boolean,
    kernelInitializer: initializer("kernelInitializer"),
    biasInitializer: initializer("biasInitializer"),
  };
}
