// Keras configs <-> gpu-cnn layers. Layers describe themselves in tfjs-layers' camelCase
// (getConfig()); model.json holds Python Keras' snake_case, keys AND string values
// ("channelsLast" <-> "channels_last"), with layer and class names left alone. The conversion
// follows tfjs-layers' own (convertTsToPythonic / convertPythonicToTs), so both read each other.
import { findInitializer, getInitializer, type Initializer } from "../initializers.js";
import { Conv2D } from "../layers/conv2d.js";
import { Dense } from "../layers/dense.js";
import { Flatten } from "../layers/flatten.js";
import { layerClasses } from "../layers/index.js";
import type { Layer } from "../layers/layer.js";
import { MaxPooling2D } from "../layers/maxpool2d.js";
import type { Random } from "../random.js";
import { shapeSize, type Shape } from "../tensor.js";
import type { KerasObject } from "./types.js";

/** Keras' to_snake_case, as tfjs-layers: "kernelSize" -> "kernel_size", "MaxPooling2D" -> "max_pooling2d". */
export function toSnakeCase(name: string): string {
  const snake = name
    .replace(/(.)([A-Z][a-z0-9]+)/g, "$1_$2")
    .replace(/([a-z])([A-Z])/g, "$1_$2")
    .toLowerCase();
  return snake.startsWith("_") ? `private${snake}` : snake;
}

/** "kernel_size" -> "kernelSize"; strings without an underscore stay as they are. */
export function toCamelCase(name: string): string {
  if (name.length <= 1 || !name.includes("_")) return name;
  return name.replace(/_+(\w|$)/g, (_m, c: string) => c.toUpperCase());
}

/** A camelCase config as Keras writes it: keys and string values in snake_case, names untouched. */
export function toPythonic(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return toSnakeCase(value);
  if (typeof value === "number" || typeof value === "boolean") return value;
  if (Array.isArray(value)) return value.map((v) => toPythonic(v));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    out[toSnakeCase(key)] = (key === "name" || key === "className") && typeof v === "string" ? v : toPythonic(v);
  }
  return out;
}

/** The reverse of toPythonic (what tfjs does when it loads model.json). */
export function fromPythonic(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return toCamelCase(value);
  if (typeof value === "number" || typeof value === "boolean") return value;
  if (Array.isArray(value)) return value.map((v) => fromPythonic(v));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (key === "name" && typeof v === "string") out.name = v;
    else out[toCamelCase(key)] = fromPythonic(v);
  }
  return out;
}

/** A layer as Keras' `{ class_name, config }`. */
export function serializeLayer(layer: Layer): KerasObject {
  return { class_name: layer.className, config: toPythonic(layer.getConfig()) as Record<string, unknown> };
}

/** Thrown for a layer gpu-cnn cannot rebuild; the loader adds where the layer is. */
export class LayerConfigError extends Error {}

type Config = Record<string, unknown>;

function fail(message: string): never {
  throw new LayerConfigError(message);
}

function isObject(v: unknown): v is Config {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function positiveInt(config: Config, key: string): number {
  const v = config[key];
  if (!Number.isInteger(v) || (v as number) <= 0) fail(`${toSnakeCase(key)} must be a positive integer, got ${JSON.stringify(v)}`);
  return v as number;
}

/** A number or a pair of them (kernel_size, strides, pool_size); undefined when absent or null. */
function pairOf(config: Config, key: string): number | [number, number] | undefined {
  const v = config[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === "number") return v;
  if (Array.isArray(v) && v.length === 2 && v.every((d) => typeof d === "number")) return [v[0], v[1]];
  return fail(`${toSnakeCase(key)} must be a number or two of them, got ${JSON.stringify(v)}`);
}

function optionalString<T extends string>(config: Config, key: string): T | undefined {
  const v = config[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") fail(`${toSnakeCase(key)} must be a string, got ${JSON.stringify(v)}`);
  return v as T;
}

function optionalBoolean(config: Config, key: string): boolean | undefined {
  const v = config[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "boolean") fail(`${toSnakeCase(key)} must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

/** Settings gpu-cnn does not implement must be at their neutral value, or the layer would compute something else. */
function requireDefaults(config: Config, keys: Record<string, (v: unknown) => boolean>): void {
  for (const [key, ok] of Object.entries(keys)) {
    const v = config[key];
    if (v !== undefined && v !== null && !ok(v)) fail(`${toSnakeCase(key)} ${JSON.stringify(toPythonic(v))} is not supported by gpu-cnn`);
  }
}

const channelsLast = (v: unknown): boolean => v === "channelsLast";
const allOnes = (v: unknown): boolean => v === 1 || (Array.isArray(v) && v.every((d) => d === 1));
const never = (): boolean => false;
const NO_REGULARIZERS = { kernelRegularizer: never, biasRegularizer: never, activityRegularizer: never, kernelConstraint: never, biasConstraint: never };

/** The per-sample input shape a layer declares: Keras' batch_input_shape (or Keras 3's batch_shape) without the batch axis. */
function declaredInputShape(config: Config): number[] | undefined {
  const batchShape = config.batchInputShape ?? config.batchShape;
  const shape = Array.isArray(batchShape) ? batchShape.slice(1) : config.inputShape;
  if (shape === undefined || shape === null) return undefined;
  if (!Array.isArray(shape) || shape.length === 0 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    fail(`the input shape ${JSON.stringify(batchShape ?? shape)} must list positive sizes after the batch axis`);
  }
  return shape as number[];
}

/**
 * An initialiser read from model.json for a model being loaded. Its first draw is zeros, because
 * the weights it makes are overwritten by the file's values at once (no random draws); later
 * draws use the initialiser the file names. It writes back the file's own config.
 */
class LoadedInitializer implements Initializer {
  private loading = true;
  constructor(
    readonly className: string,
    private readonly config: Config,
    private readonly initializer: Initializer | null,
  ) {}
  generate(shape: Shape, random: Random): Float32Array {
    if (this.loading) {
      this.loading = false;
      return new Float32Array(shapeSize(shape));
    }
    if (!this.initializer) throw new Error(`gpu-cnn: the initializer ${this.className} (read from model.json) cannot draw values in gpu-cnn`);
    return this.initializer.generate(shape, random);
  }
  getConfig(): Record<string, unknown> {
    return { ...this.config };
  }
}

/** How deserializeLayer builds layers. */
export interface DeserializeOptions {
  /**
   * A new model (an architecture file): the initializers the config names draw the first
   * weights, and one gpu-cnn lacks is an error. Default false: the layer is being loaded, its
   * weights are about to be overwritten, so the first draw is skipped (zeros).
   */
  fresh?: boolean;
}

function readInitializer(config: Config, key: string, fresh: boolean): Initializer | undefined {
  const v = config[key];
  if (v === undefined || v === null) return undefined;
  let className: string;
  let initConfig: Config;
  let init: Initializer | null;
  if (typeof v === "string") {
    // old Keras files, and architecture files, name the initializer only
    init = getInitializer(v);
    className = init.className;
    initConfig = init.getConfig();
  } else {
    if (!isObject(v) || typeof v.className !== "string") return fail(`${toSnakeCase(key)} must be an initializer { class_name, config }, got ${JSON.stringify(v)}`);
    className = v.className;
    initConfig = isObject(v.config) ? v.config : {};
    init = findInitializer({ className, config: initConfig });
  }
  if (!fresh) return new LoadedInitializer(className, initConfig, init);
  if (!init) fail(`${toSnakeCase(key)} ${JSON.stringify(toPythonic(v))} is not supported by gpu-cnn`);
  return init;
}

function activationOf(config: Config): "linear" | "relu" | "softmax" | undefined {
  // checked by the layer's constructor, which names the ones it supports
  return optionalString(config, "activation");
}

/** Name, trainable and input shape; `inputShape` (from an InputLayer before it) when the layer declares none. */
function commonArgs(config: Config, inputShape: number[] | undefined): { name?: string; trainable?: boolean; inputShape?: number[] } {
  return { name: optionalString(config, "name"), trainable: optionalBoolean(config, "trainable"), inputShape: declaredInputShape(config) ?? inputShape };
}

type Builder = (config: Config, inputShape: number[] | undefined, fresh: boolean) => Layer;

const BUILDERS: Record<string, Builder> = {
  Conv2D: (c, shape, fresh) => {
    requireDefaults(c, { dataFormat: channelsLast, dilationRate: allOnes, groups: (v) => v === 1, ...NO_REGULARIZERS });
    const kernelSize = pairOf(c, "kernelSize");
    if (kernelSize === undefined) fail("kernel_size is missing");
    return new Conv2D(positiveInt(c, "filters"), kernelSize, {
      ...commonArgs(c, shape),
      strides: pairOf(c, "strides"),
      padding: optionalString(c, "padding"),
      activation: activationOf(c),
      useBias: optionalBoolean(c, "useBias"),
      kernelInitializer: readInitializer(c, "kernelInitializer", fresh),
      biasInitializer: readInitializer(c, "biasInitializer", fresh),
    });
  },
  MaxPooling2D: (c, shape) => {
    requireDefaults(c, { dataFormat: channelsLast });
    return new MaxPooling2D({ ...commonArgs(c, shape), poolSize: pairOf(c, "poolSize"), strides: pairOf(c, "strides"), padding: optionalString(c, "padding") });
  },
  Flatten: (c, shape) => {
    requireDefaults(c, { dataFormat: channelsLast });
    return new Flatten(commonArgs(c, shape));
  },
  Dense: (c, shape, fresh) => {
    requireDefaults(c, NO_REGULARIZERS);
    return new Dense(positiveInt(c, "units"), {
      ...commonArgs(c, shape),
      activation: activationOf(c),
      useBias: optionalBoolean(c, "useBias"),
      kernelInitializer: readInitializer(c, "kernelInitializer", fresh),
      biasInitializer: readInitializer(c, "biasInitializer", fresh),
    });
  },
};

// The other layers (preprocessing and augmentation) rebuild from their own (camelCase) config.
for (const [name, cls] of Object.entries(layerClasses)) {
  if (BUILDERS[name]) continue;
  BUILDERS[name] = (c, shape) => {
    if (name === "Normalization" && (c.mean === null || c.mean === undefined)) {
      fail("Normalization keeps its adapted mean and variance as weights in this file; gpu-cnn reads them from the layer config (mean, variance)");
    }
    const { inputShape, ...common } = commonArgs(c, shape);
    return cls.fromConfig({ ...c, ...common, batchInputShape: inputShape ? [null, ...inputShape] : undefined });
  };
}

export const SUPPORTED_LAYERS = [...Object.keys(BUILDERS), "InputLayer"];

/** What one layer entry of model.json becomes: a layer, or (InputLayer) only an input shape. */
export type LayerEntry = { layer: Layer } | { inputShape: number[] };

/**
 * Rebuilds one layer from its Keras `{ class_name, config }`; `inputShape` (from an InputLayer
 * before it) applies when the layer declares none. Built for loading saved weights unless
 * `fresh` (see DeserializeOptions). Throws LayerConfigError, without context, for a class
 * gpu-cnn lacks or a setting it does not support.
 */
export function deserializeLayer(entry: unknown, inputShape?: number[], options: DeserializeOptions = {}): LayerEntry {
  if (!isObject(entry) || typeof entry.class_name !== "string") fail(`expected { "class_name": ..., "config": {...} }, got ${JSON.stringify(entry)?.slice(0, 80)}`);
  const config = isObject(entry.config) ? (fromPythonic(entry.config) as Config) : {};
  if (entry.class_name === "InputLayer") {
    const shape = declaredInputShape(config);
    if (!shape) fail("InputLayer has no batch_input_shape");
    return { inputShape: shape };
  }
  const build = BUILDERS[entry.class_name];
  if (!build) fail(`gpu-cnn has no ${entry.class_name} layer; it loads ${SUPPORTED_LAYERS.join(", ")}`);
  try {
    return { layer: build(config, inputShape, options.fresh ?? false) };
  } catch (e) {
    if (e instanceof LayerConfigError) throw e;
    // the constructor's own check (bad activation, padding, ...): keep its reason, drop its prefix
    const reason = String((e as Error).message).replace(/^gpu-cnn: /, "");
    const name = typeof config.name === "string" ? `${config.name}: ` : "";
    throw new LayerConfigError(name && reason.startsWith(name) ? reason.slice(name.length) : reason);
  }
}
