// The models `gpu-cnn train` builds: the seed program's architecture by default (conv, pool,
// dense) behind Rescaling(1/255), or the layers of an architecture file. Augmentation layers go
// first when asked for; they are active in training only and saved with the model.
import { readFile } from "node:fs/promises";
import { deserializeLayer } from "../io/keras.js";
import { RandomFlip, RandomRotation, RandomZoom } from "../layers/augmentation.js";
import { Conv2D, Dense, Flatten, MaxPooling2D, type Layer } from "../layers/index.js";
import { Rescaling } from "../layers/preprocessing.js";
import { Sequential } from "../model.js";

export interface ArchitectureArgs {
  /** [height, width, channels] of the images. */
  inputShape: [number, number, number];
  classes: number;
  seed: number;
  augment: boolean;
}

/** Keras' image-classification tutorial's augmentation: flips, small rotations and zooms (filled from the nearest edge pixel). */
export function augmentationLayers(inputShape: number[], seed: number): Layer[] {
  return [
    new RandomFlip("horizontal", { inputShape, seed }),
    new RandomRotation(0.1, { fillMode: "nearest", seed: seed + 1 }),
    new RandomZoom(0.1, { fillMode: "nearest", seed: seed + 2 }),
  ];
}

/**
 * The seed program's classifier: Conv2D(32, 3x3, relu), MaxPooling2D(2x2), Flatten,
 * Dense(128, relu), Dense(classes, softmax), after Rescaling(1/255) so it takes 0..255 pixels.
 */
export function seedModel(args: ArchitectureArgs): Sequential {
  const model = new Sequential({ seed: args.seed, name: "gpu_cnn_classifier" });
  if (args.augment) for (const layer of augmentationLayers(args.inputShape, args.seed)) model.add(layer);
  model.add(new Rescaling(1 / 255, args.augment ? {} : { inputShape: args.inputShape }));
  model.add(new Conv2D(32, [3, 3], { activation: "relu" }));
  model.add(new MaxPooling2D({ poolSize: [2, 2] }));
  model.add(new Flatten());
  model.add(new Dense(128, { activation: "relu" }));
  model.add(new Dense(args.classes, { activation: "softmax" }));
  return model;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** The layer list of an architecture file: model.json, a Keras Sequential topology, or { layers: [...] }. */
function layerEntries(json: unknown, file: string): unknown[] {
  let node: unknown = json;
  if (isObject(node) && isObject(node.modelTopology)) node = node.modelTopology;
  if (isObject(node) && isObject(node.model_config)) node = node.model_config;
  if (isObject(node) && (node.class_name === "Sequential" || node.className === "Sequential") && isObject(node.config)) node = node.config;
  if (Array.isArray(node)) return node;
  if (isObject(node) && Array.isArray(node.layers)) return node.layers;
  throw new Error(`gpu-cnn: ${file}: expected a Sequential architecture: { "layers": [{ "class_name": "Conv2D", "config": {...} }, ...] } or a model.json`);
}

const INPUT_KEYS = ["batch_input_shape", "batchInputShape", "input_shape", "inputShape", "batch_shape", "batchShape"];

/**
 * A model from an architecture file (Keras' layer list, snake_case or camelCase configs, as in a
 * model.json). The first layer's input shape is the images' unless the file gives one (then they
 * must agree); a last Dense layer without "units" gets one unit per class.
 */
export async function modelFromFile(file: string, args: ArchitectureArgs): Promise<Sequential> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, "utf8"));
  } catch (e) {
    const error = e as NodeJS.ErrnoException;
    throw new Error(`gpu-cnn: cannot read the architecture file ${file}: ${error.code === "ENOENT" ? "no such file" : error.message}`);
  }
  const entries = layerEntries(json, file).map((entry, i) => {
    if (!isObject(entry)) throw new Error(`gpu-cnn: ${file}: layer ${i + 1} must be { "class_name": ..., "config": {...} }`);
    // gpu-cnn's own getConfig() form says className; Keras says class_name
    const className = entry.class_name ?? entry.className;
    return { class_name: className, config: isObject(entry.config) ? { ...entry.config } : {} };
  });
  const real = entries.filter((e) => e.class_name !== "InputLayer");
  if (real.length === 0) throw new Error(`gpu-cnn: ${file}: the architecture has no layers`);
  const last = real[real.length - 1];
  if (last.class_name === "Dense" && last.config.units === undefined) last.config.units = args.classes;
  const model = new Sequential({ seed: args.seed, name: "gpu_cnn_classifier" });
  try {
    if (args.augment) for (const layer of augmentationLayers(args.inputShape, args.seed)) model.add(layer);
    let inputShape: number[] | undefined = args.augment ? undefined : [...args.inputShape];
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i];
      const declared = INPUT_KEYS.map((k) => entry.config[k]).find((v) => Array.isArray(v)) as (number | null)[] | undefined;
      if (declared) {
        const shape = declared[0] === null ? declared.slice(1) : declared;
        if (shape.length !== 3 || shape.some((d, j) => d !== args.inputShape[j])) {
          throw new Error(
            `gpu-cnn: ${file}: layer ${i + 1} (${String(entry.class_name)}) declares input shape ${JSON.stringify(shape)}, but the images are [${args.inputShape.join(", ")}] (--image-size and --color-mode); remove the input shape from the file or change the options`,
          );
        }
      }
      let built;
      try {
        // fresh: a new model draws its first weights from the initializers the file names
        built = deserializeLayer(entry, inputShape, { fresh: true });
      } catch (e) {
        throw new Error(`gpu-cnn: ${file}: layer ${i + 1} (${String(entry.class_name)}): ${String((e as Error).message).replace(/^gpu-cnn: /, "")}`);
      }
      if ("inputShape" in built) continue; // an InputLayer: the images' shape applies anyway
      inputShape = undefined;
      try {
        model.add(built.layer);
      } catch (e) {
        throw new Error(`gpu-cnn: ${file}: ${String((e as Error).message).replace(/^gpu-cnn: (Sequential\.add\(\): )?/, "")}`);
      }
    }
    const out = model.outputShape!;
    const lastLayer = model.layers[model.layers.length - 1];
    if (out.length !== 1 || out[0] !== args.classes || lastLayer.activation !== "softmax") {
      throw new Error(
        `gpu-cnn: ${file}: the last layer must be Dense(${args.classes}, softmax), one unit per class folder; ${lastLayer.name} (${lastLayer.className}) outputs [${out.join(", ")}] with activation "${lastLayer.activation ?? "none"}"`,
      );
    }
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}
