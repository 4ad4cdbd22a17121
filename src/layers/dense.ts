// Dense as Keras: kernel [in, out], bias [out]; inputs [batch, features] (Flatten first).
// relu is fused into the bias pass; a final softmax is left to the loss while training.
import { dense } from "../ops/dense.js";
import { softmax } from "../ops/softmax.js";
import type { Shape, Tensor } from "../tensor.js";
import { batchShapeString, KERNEL_LAYER_OPTIONS, kernelArgs, KernelLayer, type CallArgs, type KernelLayerArgs } from "./layer.js";

export interface DenseArgs extends KernelLayerArgs {}

export class Dense extends KernelLayer {
  static override readonly className = "Dense";
  static override readonly options = KERNEL_LAYER_OPTIONS;

  constructor(
    readonly units: number,
    args: DenseArgs = {},
  ) {
    super(args);
    if (!Number.isInteger(units) || units <= 0) throw new Error(`gpu-cnn: ${this.name}: units must be a positive integer, got ${units}`);
  }

  computeOutputShape(inputShape: Shape): number[] {
    if (inputShape.length !== 1) {
      this.reject(`expects flat inputs [batch, features], got inputs ${batchShapeString(inputShape)}; add a Flatten() layer before it`);
    }
    return [this.units];
  }

  override build(inputShape: Shape): void {
    this.buildKernel([inputShape[0], this.units], this.units);
  }

  call(x: Tensor, args: CallArgs = {}): Tensor {
    const y = dense(x, this.kernel!, this.bias, this.act === "relu" ? "relu" : "linear");
    return this.act === "softmax" && !args.logits ? softmax(y) : y;
  }

  /** A layer from its getConfig() (loading a saved model). */
  static fromConfig(config: Record<string, unknown>): Dense {
    return new Dense(config.units as number, kernelArgs(config));
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      units: this.units,
      ...this.kernelConfig(),
    };
  }
}
