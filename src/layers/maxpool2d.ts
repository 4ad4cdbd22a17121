// MaxPooling2D as Keras: pool strides default to the pool size, padding "valid".
import { maxPool2d } from "../ops/maxpool2d.js";
import type { Shape, Tensor } from "../tensor.js";
import { convOutputLength } from "./conv2d.js";
import type { OptionKeys } from "../options.js";
import { baseArgs, batchShapeString, Layer, LAYER_OPTIONS, positiveInts, type LayerArgs } from "./layer.js";

export interface MaxPooling2DArgs extends LayerArgs {
  poolSize?: number | [number, number];
  strides?: number | [number, number];
  padding?: "valid" | "same";
}

export class MaxPooling2D extends Layer {
  static override readonly className = "MaxPooling2D";
  static override readonly options: OptionKeys<MaxPooling2DArgs> = { ...LAYER_OPTIONS, poolSize: true, strides: true, padding: true };
  readonly poolSize: [number, number];
  readonly strides: [number, number];
  readonly padding: "valid" | "same";

  constructor(args: MaxPooling2DArgs = {}) {
    super(args);
    this.poolSize = positiveInts(`${this.name}: poolSize`, args.poolSize, [2, 2]);
    this.strides = positiveInts(`${this.name}: strides`, args.strides, this.poolSize);
    this.padding = args.padding ?? "valid";
    if (this.padding !== "valid" && this.padding !== "same") throw new Error(`gpu-cnn: ${this.name}: padding must be "valid" or "same", got ${JSON.stringify(args.padding)}`);
  }

  computeOutputShape(inputShape: Shape): number[] {
    if (inputShape.length !== 3) {
      this.reject(`expects images [height, width, channels] per sample (NHWC), got inputs ${batchShapeString(inputShape)}`);
    }
    const [h, w, c] = inputShape;
    const [ph, pw] = this.poolSize;
    if (this.padding === "valid" && (ph > h || pw > w)) {
      this.reject(`its ${ph}×${pw} pool is larger than its ${h}×${w} input ${batchShapeString(inputShape)} (padding "valid")`);
    }
    const [sh, sw] = this.strides;
    return [convOutputLength(h, ph, sh, this.padding), convOutputLength(w, pw, sw, this.padding), c];
  }

  call(x: Tensor): Tensor {
    return maxPool2d(x, { poolSize: this.poolSize, strides: this.strides, padding: this.padding });
  }

  /** A layer from its getConfig() (loading a saved model). */
  static fromConfig(config: Record<string, unknown>): MaxPooling2D {
    return new MaxPooling2D({
      ...baseArgs(config),
      poolSize: config.poolSize as [number, number],
      strides: (config.strides ?? undefined) as [number, number] | undefined,
      padding: config.padding as "valid" | "same",
    });
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), poolSize: this.poolSize, strides: this.strides, padding: this.padding, dataFormat: "channelsLast" };
  }
}
