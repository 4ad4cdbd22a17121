// Predictions on new images: any input image-input.ts reads (a path or URL, PNG/JPEG bytes, a
// Blob or File, decoded pixels or ImageData, an <img>, ImageBitmap or canvas) is decoded,
// converted to the model's channels and resized to its input size exactly as
// imageDatasetFromDirectory prepares training images (preprocess.ts), then the model's top-k
// classes come back with their probabilities and the class names saved with the model.
// This module imports nothing Node-only: the browser entry exports it too.
import { decodeInput, describeInput, type ImageInput } from "./data/image-input.js";
import { COLOR_MODE_CHANNELS, type ColorMode, type DecodedImage } from "./data/pixels.js";
import { imagesToTensor, preprocessImage, resolvePreprocess } from "./data/preprocess.js";
import { INTERPOLATIONS, type FloatImage, type Interpolation } from "./data/resize.js";
import { modelClassNames } from "./metrics.js";
import type { Sequential } from "./model.js";
import { batchShapeString } from "./layers/layer.js";
import { checkOptions, type OptionKeys } from "./options.js";

export type { ImageInput } from "./data/image-input.js";

export interface ClassProbability {
  className: string;
  classIndex: number;
  probability: number;
}

export interface PredictImageOptions {
  /** How many classes to return, most probable first. Default 3 (or the class count, if fewer). */
  topK?: number;
  /** Class names in output order; default the names saved with the model, else "0", "1", ... */
  classNames?: readonly string[];
  /**
   * Convert images to this colour mode; it must give the model's channel count. By default the
   * model's channels choose it, and a colour image given to a grayscale model is an error
   * (pass colorMode "grayscale" to convert it anyway).
   */
  colorMode?: ColorMode;
  /** Resize filter; default "bilinear" (imageDatasetFromDirectory's default). */
  interpolation?: Interpolation;
  /** Crop the largest centred window of the model's aspect ratio first (as the dataset option). */
  cropToAspectRatio?: boolean;
  /** Images per forward pass. Default 32. */
  batchSize?: number;
  /**
   * Multiplies pixel values (0-255, as imageDatasetFromDirectory gives them) before the model:
   * 1 / 255 for a model trained on values in [0, 1] without a Rescaling layer of its own (the
   * MNIST example's). Default 1: models from the gpu-cnn command rescale inside, with a layer.
   */
  scale?: number;
}

const COLOR_MODES: Record<number, ColorMode> = { 1: "grayscale", 3: "rgb", 4: "rgba" };

/** The model's per-image [height, width, channels], checked to be an image input. */
export function modelImageShape(op: string, model: Sequential): { height: number; width: number; channels: number; colorMode: ColorMode } {
  const input = model?.inputShape;
  if (!input) throw new Error(`gpu-cnn: ${op}(): the model has no layers`);
  if (input.length !== 3 || !COLOR_MODES[input[2]]) {
    throw new Error(`gpu-cnn: ${op}(): ${model.name} takes ${batchShapeString(input)}, not images; it needs an input of [height, width, channels] with 1, 3 or 4 channels`);
  }
  return { height: input[0], width: input[1], channels: input[2], colorMode: COLOR_MODES[input[2]] };
}

/** A colour image holds pixels whose channels differ (gray saved as RGB, e.g. most JPEGs of gray scans, does not). */
function hasColour(image: DecodedImage): boolean {
  const d = image.data;
  const pixels = image.width * image.height;
  let coloured = 0;
  for (let p = 0; p < pixels; p++) {
    const r = d[p * 4];
    const g = d[p * 4 + 1];
    const b = d[p * 4 + 2];
    if (Math.max(r, g, b) - Math.min(r, g, b) > 24) coloured++;
  }
  return coloured > pixels * 0.01;
}

function channelName(channels: number): string {
  return channels === 1 ? "grayscale (1 channel)" : channels === 2 ? "grayscale + alpha (2 channels)" : channels === 3 ? "RGB (3 channels)" : `RGBA (${channels} channels)`;
}

/**
 * One image prepared for the model: decoded, converted to its channels and resized to its input
 * size as imageDatasetFromDirectory does (pixels 0..255). Throws, naming the image, when it
 * cannot be read or its colours do not fit the model.
 */
export async function imageForModel(model: Sequential, source: ImageInput, options: PredictImageOptions = {}, index = 0): Promise<FloatImage> {
  const op = "predictImage";
  const target = modelImageShape(op, model);
  const name = describeInput(source, index);
  if (options.colorMode !== undefined && (COLOR_MODE_CHANNELS[options.colorMode] as number | undefined) !== target.channels) {
    const given = COLOR_MODE_CHANNELS[options.colorMode] as number | undefined;
    if (given === undefined) throw new Error(`gpu-cnn: ${op}(): colorMode must be "rgb", "grayscale" or "rgba", got ${JSON.stringify(options.colorMode)}`);
    throw new Error(`gpu-cnn: ${op}(): colorMode "${options.colorMode}" gives ${given} channel${given === 1 ? "" : "s"}, but ${model.name} takes ${channelName(target.channels)} images`);
  }
  const interpolation = options.interpolation ?? "bilinear";
  if (!INTERPOLATIONS.includes(interpolation)) throw new Error(`gpu-cnn: ${op}(): interpolation must be ${INTERPOLATIONS.join(", ")}, got ${JSON.stringify(interpolation)}`);
  const decoded = await decodeInput(source, name);
  if (target.channels === 1 && options.colorMode === undefined && decoded.sourceChannels >= 3 && hasColour(decoded)) {
    throw new Error(
      `gpu-cnn: ${name} is a colour image (${channelName(decoded.sourceChannels)}), but ${model.name} takes grayscale (1 channel) images; ` +
        `pass a grayscale image, or convert it with colorMode "grayscale" (--color-mode grayscale)`,
    );
  }
  const p = resolvePreprocess({ imageSize: [target.height, target.width], colorMode: options.colorMode ?? target.colorMode, interpolation, cropToAspectRatio: options.cropToAspectRatio });
  return preprocessImage(decoded, p);
}

/** The k most probable classes of one row of probabilities, most probable first (ties: lower index first). */
export function topClasses(probabilities: ArrayLike<number>, k: number, classNames: readonly string[]): ClassProbability[] {
  const order = Array.from({ length: probabilities.length }, (_, i) => i);
  order.sort((a, b) => probabilities[b] - probabilities[a] || a - b);
  return order.slice(0, k).map((i) => ({ className: classNames[i], classIndex: i, probability: probabilities[i] }));
}

const PREDICT_IMAGE_OPTIONS: OptionKeys<PredictImageOptions> = {
  topK: true, classNames: true, colorMode: true, interpolation: true, cropToAspectRatio: true, batchSize: true, scale: true,
};

function resolveOptions(op: string, model: Sequential, options: PredictImageOptions): { k: number; names: string[]; batchSize: number; scale: number } {
  checkOptions(`${op}()`, options, PREDICT_IMAGE_OPTIONS);
  const out = model?.outputShape;
  if (!out || out.length !== 1) throw new Error(`gpu-cnn: ${op}(): the model must output class probabilities; ${model?.name} outputs ${out ? batchShapeString(out) : "nothing"}`);
  const classes = out[0];
  const names = options.classNames ? [...options.classNames] : (modelClassNames(model) ?? Array.from({ length: classes }, (_, i) => String(i)));
  if (names.length !== classes) throw new Error(`gpu-cnn: ${op}(): classNames lists ${names.length} classes (${names.join(", ")}) but ${model.name} outputs ${classes}`);
  const k = options.topK ?? Math.min(3, classes);
  if (!Number.isInteger(k) || k < 1) throw new Error(`gpu-cnn: ${op}(): topK must be a positive integer, got ${options.topK}`);
  const batchSize = options.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`gpu-cnn: ${op}(): batchSize must be a positive integer, got ${batchSize}`);
  const scale = options.scale ?? 1;
  if (!(Number.isFinite(scale) && scale > 0)) throw new Error(`gpu-cnn: ${op}(): scale must be a positive number (e.g. 1 / 255), got ${options.scale}`);
  return { k: Math.min(k, classes), names, batchSize, scale };
}

/** Top-k classes for images already prepared with imageForModel. */
export async function predictPrepared(model: Sequential, images: readonly FloatImage[], options: PredictImageOptions = {}): Promise<ClassProbability[][]> {
  const { k, names, batchSize, scale } = resolveOptions("predictImages", model, options);
  modelImageShape("predictImages", model); // an image model, checked before any GPU work
  const results: ClassProbability[][] = [];
  for (let start = 0; start < images.length; start += batchSize) {
    const batch = images.slice(start, start + batchSize);
    const input = imagesToTensor(scale === 1 ? batch : batch.map((image) => ({ ...image, data: image.data.map((v) => v * scale) })));
    let probs: Float32Array;
    try {
      const out = await model.predict(input, { batchSize });
      try {
        probs = await out.data();
      } finally {
        out.dispose();
      }
    } finally {
      input.dispose();
    }
    for (let i = 0; i < input.shape[0]; i++) results.push(topClasses(probs.subarray(i * names.length, (i + 1) * names.length), k, names));
  }
  return results;
}

/** The top-k { className, probability } of each image, most probable first. */
export async function predictImages(model: Sequential, inputs: readonly ImageInput[], options: PredictImageOptions = {}): Promise<ClassProbability[][]> {
  if (!Array.isArray(inputs)) throw new Error("gpu-cnn: predictImages(): pass a list of images (a path, bytes, ...); for one image use predictImage()");
  resolveOptions("predictImages", model, options);
  if (inputs.length === 0) return [];
  const images: FloatImage[] = [];
  for (let i = 0; i < inputs.length; i++) images.push(await imageForModel(model, inputs[i], options, i));
  return predictPrepared(model, images, options);
}

/** The top-k { className, probability } of one image, most probable first. */
export async function predictImage(model: Sequential, input: ImageInput, options: PredictImageOptions = {}): Promise<ClassProbability[]> {
  checkOptions("predictImage()", options, PREDICT_IMAGE_OPTIONS);
  return (await predictImages(model, [input], options))[0];
}

/** predictImage for one image, predictImages for a list. */
export function classify(model: Sequential, input: readonly ImageInput[], options?: PredictImageOptions): Promise<ClassProbability[][]>;
export function classify(model: Sequential, input: ImageInput, options?: PredictImageOptions): Promise<ClassProbability[]>;
export function classify(model: Sequential, input: ImageInput | readonly ImageInput[], options: PredictImageOptions = {}): Promise<ClassProbability[] | ClassProbability[][]> {
  return Array.isArray(input) ? predictImages(model, input, options) : predictImage(model, input as ImageInput, options);
}
