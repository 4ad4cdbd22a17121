// Flatten: [batch, ...] -> [batch, features], a view of the same values (no copy).
import { shapeSize, type Shape, type Tensor } from "../tensor.js";
import { baseArgs, batchShapeString, Layer, type LayerArgs } from "./layer.js";

export class Flatten extends Layer {
  static override readonly className = "Flatten";

  constructor(args: LayerArgs = {}) {
    super(args);
  }

  computeOutputShape(inputShape: Shape): number[] {
    if (inputShape.length === 0) this.reject(`cannot flatten inputs ${batchShapeString(inputShape)}`);
    return [shapeSize(inputShape)];
  }

  call(x: Tensor): Tensor {
    return x.reshape([x.shape[0], x.size / Math.max(x.shape[0], 1)]);
  }

  /** A layer from its getConfig() (loading a saved model). */
  static fromConfig(config: Record<string, unknown>): Flatten {
    return new Flatten(baseArgs(config));
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), dataFormat: "channelsLast" };
  }
}
