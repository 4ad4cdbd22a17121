// Conv2D as Keras: NHWC inputs, kernel [kh, kw, inC, outC], bias [outC], glorotUniform kernel
// and zero bias by default. relu runs inside the conv kernel.
import { conv2d } from "../ops/conv2d.js";
import type { Shape, Tensor } from "../tensor.js";
import { softmax } from "../ops/softmax.js";
import type { OptionKeys } from "../options.js";
import { batchShapeString, KERNEL_LAYER_OPTIONS, kernelArgs, KernelLayer, positiveInts, type CallArgs, type KernelLayerArgs } from "./layer.js";

export interface Conv2DArgs extends KernelLayerArgs {
  strides?: number | [number, number];
  padding?: "valid" | "same";
}

/** Output length of one spatial axis, as Keras computes it. */
export function convOutputLength(input: number, kernel: number, stride: number, padding: "valid" | "same"): number {
  return padding === "same" ? Math.ceil(input / stride) : Math.floor((input - kernel) / stride) + 1;
}

export class Conv2D extends KernelLayer {
  static override readonly className = "Conv2D";
  static override readonly options: OptionKeys<Conv2DArgs> = { ...KERNEL_LAYER_OPTIONS, strides: true, padding: true };
  readonly kernelSize: [number, number];
  readonly strides: [number, number];
  readonly padding: "valid" | "same";

  constructor(
    readonly filters: number,
    kernelSize: number | [number, number],
    args: Conv2DArgs = {},
  ) {
    super(args);
    if (!Number.isInteger(filters) || filters <= 0) throw new Error(`gpu-cnn: ${this.name}: filters must be a positive integer, got ${filters}`);
    this.kernelSize = positiveInts(`${this.name}: kernelSize`, kernelSize, [3, 3]);
    this.strides = positiveInts(`${this.name}: strides`, args.strides, [1, 1]);
    this.padding = args.padding ?? "valid";
    if (this.padding !== "valid" && this.padding !== "same") throw new Error(`gpu-cnn: ${this.name}: padding must be "valid" or "same", got ${JSON.stringify(args.padding)}`);
  }

  computeOutputShape(inputShape: Shape): number[] {
    if (inputShape.length !== 3) {
      this.reject(`expects images [height, width, channels] per sample (NHWC), got inputs ${batchShapeString(inputShape)}`);
    }
    const [h, w] = inputShape;
    const [kh, kw] = this.kernelSize;
    if (this.padding === "valid" && (kh > h || kw > w)) {
      this.reject(`its ${kh}×${kw} kernel is larger than its ${h}×${w} input ${batchShapeString(inputShape)} (padding "valid"); use a smaller kernel, padding "same", or a larger input`);
    }
    const [sh, sw] = this.strides;
    return [convOutputLength(h, kh, sh, this.padding), convOutputLength(w, kw, sw, this.padding), this.filters];
  }

  override build(inputShape: Shape): void {
    const [kh, kw] = this.kernelSize;
    this.buildKernel([kh, kw, inputShape[2], this.filters], this.filters);
  }

  call(x: Tensor, args: CallArgs = {}): Tensor {
    const y = conv2d(x, this.kernel!, this.bias, { strides: this.strides, padding: this.padding, activation: this.act === "relu" ? "relu" : "linear" });
    if (this.act !== "softmax" || args.logits) return y;
    return softmax(y.reshape([-1, this.filters])).reshape(y.shape);
  }

  /** A layer from its getConfig() (loading a saved model). */
  static fromConfig(config: Record<string, unknown>): Conv2D {
    return new Conv2D(config.filters as number, config.kernelSize as [number, number], {
      ...kernelArgs(config),
      strides: config.strides as [number, number],
      padding: config.padding as "valid" | "same",
    });
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      filters: this.filters,
      kernelSize: this.kernelSize,
      strides: this.strides,
      padding: this.padding,
      dataFormat: "channelsLast",
      dilationRate: [1, 1],
      ...this.kernelConfig(),
    };
  }
}
