// Every layer, one per file (the Keras contract is in layer.ts).
export { Layer, LayerShapeError, type Activation, type CallArgs, type LayerArgs, type LayerWeight } from "./layer.js";
export { Conv2D, type Conv2DArgs } from "./conv2d.js";
export { MaxPooling2D, type MaxPooling2DArgs } from "./maxpool2d.js";
export { Flatten } from "./flatten.js";
export { Dense, type DenseArgs } from "./dense.js";

import { Conv2D } from "./conv2d.js";
import { Dense } from "./dense.js";
import { Flatten } from "./flatten.js";
import type { Layer } from "./layer.js";
import { MaxPooling2D } from "./maxpool2d.js";
import { Normalization, Rescaling, Resizing } from "./preprocessing.js";
import { RandomBrightness, RandomContrast, RandomFlip, RandomRotation, RandomTranslation, RandomZoom } from "./augmentation.js";

/** Layer classes by Keras class name, each with fromConfig() (what loading a saved model uses). */
export const layerClasses: Record<string, { fromConfig(config: Record<string, unknown>): Layer }> = {
  Conv2D,
  MaxPooling2D,
  Flatten,
  Dense,
  Rescaling,
  Normalization,
  Resizing,
  RandomFlip,
  RandomTranslation,
  RandomRotation,
  RandomZoom,
  RandomContrast,
  RandomBrightness,
};

/** A layer from { className, config }, as Sequential.getConfig() lists them. */
export function layerFromConfig(spec: { className: string; config: Record<string, unknown> }): Layer {
  const cls = layerClasses[spec.className];
  if (!cls) throw new Error(`gpu-cnn: unknown layer class "${spec.className}"; gpu-cnn has ${Object.keys(layerClasses).join(", ")}`);
  return cls.fromConfig(spec.config);
}
