// Dense as Keras: kernel [in, out], bias [out]; inputs [batch, features] (Flatten first).
// relu is fused into the bias pass; a final softmax is left to the loss while training.
import { deserializeInitializer, type Initializer } from "../initializers.js";
import { dense } from "../ops/dense.js";
import { softmax } from "../ops/softmax.js";
import type { Shape, Tensor } from "../tensor.js";
import { baseArgs, batchShapeString, checkActivation, Layer, serializeInitializer, type Activation, type CallArgs, type LayerArgs } from "./layer.js";

export interface DenseArgs extends LayerArgs {
  activation?: Activation;
  useBias?: boolean;
  kernelInitializer?: Initializer | string;
  biasInitializer?: Initializer | string;
}

export class Dense extends Layer {
  static override readonly className = "Dense";
  readonly useBias: boolean;
  readonly kernelInitializer: Initializer | string;
  readonly biasInitializer: Initializer | string;
  private readonly act: Activation;
  kernel: Tensor | null = null;
  bias: Tensor | null = null;

  constructor(
    readonly units: number,
    args: DenseArgs = {},
  ) {
    super(args);
    if (!Number.isInteger(units) || units <= 0) throw new Error(`gpu-cnn: ${this.name}: units must be a positive integer, got ${units}`);
    this.act = checkActivation(this.name, args.activation);
    this.useBias = args.useBias ?? true;
    this.kernelInitializer = args.kernelInitializer ?? "glorotUniform";
    this.biasInitializer = args.biasInitializer ?? "zeros";
  }

  override get activation(): Activation {
    return this.act;
  }

  computeOutputShape(inputShape: Shape): number[] {
    if (inputShape.length !== 1) {
      this.reject(`expects flat inputs [batch, features], got inputs ${batchShapeString(inputShape)}; add a Flatten() layer before it`);
    }
    return [this.units];
  }

  override build(inputShape: Shape): void {
    this.kernel = this.addWeight("kernel", [inputShape[0], this.units], this.kernelInitializer);
    if (this.useBias) this.bias = this.addWeight("bias", [this.units], this.biasInitializer);
  }

  call(x: Tensor, args: CallArgs = {}): Tensor {
    const y = dense(x, this.kernel!, this.bias, this.act === "relu" ? "relu" : "linear");
    return this.act === "softmax" && !args.logits ? softmax(y) : y;
  }

  /** A layer from its getConfig() (loading a saved model). */
  static fromConfig(config: Record<string, unknown>): Dense {
    return new Dense(config.units as number, {
      ...baseArgs(config),
      activation: config.activation as Activation,
      useBias: config.useBias as boolean,
      kernelInitializer: config.kernelInitializer ? deserializeInitializer(config.kernelInitializer as { className: string }) : undefined,
      biasInitializer: config.biasInitializer ? deserializeInitializer(config.biasInitializer as { className: string }) : undefined,
    });
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      units: this.units,
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
