// Predictions on new images: a file path (Node) or URL (browser), encoded PNG/JPEG bytes (a
// Buffer, Uint8Array, ArrayBuffer, Blob or File), decoded pixels ({ width, height, channels,
// data }, or a browser ImageData), or a browser image element / ImageBitmap / canvas. Each is
// decoded, converted to the model's channels and resized to its input size exactly as
// imageDatasetFromDirectory prepares training images, then the model's top-k classes come back
// with their probabilities and the class names saved with the model.
// In Node the Node entry registers the dataset's own file reading, decoders and colour
// conversion (useNodeImageFiles), so predictions see exactly the pixels training saw; a browser
// fetches URLs and decodes with createImageBitmap. This module imports nothing Node-only.
import type { ColorMode, DecodedImage, RawImage } from "./data/decode.js";
import { cropToAspectRatio, INTERPOLATIONS, resizeImage, type FloatImage, type Interpolation } from "./data/resize.js";
import { modelClassNames } from "./metrics.js";
import type { Sequential } from "./model.js";
import { batchShapeString } from "./layers/layer.js";
import { Tensor } from "./tensor.js";

/** Something with pixels a browser can draw (HTMLImageElement, ImageBitmap, canvases, video frames). */
type Drawable = { width: number; height: number } & object;

export type ImageInput =
  | string
  | Uint8Array
  | ArrayBuffer
  | RawImage
  /** ImageData: RGBA bytes, no `channels` field. */
  | { width: number; height: number; data: Uint8ClampedArray | Uint8Array }
  | Blob
  | Drawable;

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
}

/** How images are read and decoded where there is a file system: what the datasets use. */
export interface ImageDecoding {
  readFile(path: string): Promise<Uint8Array>;
  decode(bytes: Uint8Array, name: string): Promise<DecodedImage>;
  toColorMode(image: DecodedImage, colorMode: ColorMode): RawImage;
}

let decoding: ImageDecoding | null = null;

/** The Node entry registers the datasets' reading and decoding here (see classify.node.ts). */
export function setImageDecoding(d: ImageDecoding): void {
  decoding = d;
}

const COLOR_MODES: Record<number, ColorMode> = { 1: "grayscale", 3: "rgb", 4: "rgba" };
const COLOR_MODE_CHANNELS: Record<string, number> = { grayscale: 1, rgb: 3, rgba: 4 };

/** The browser's colour conversion (Node uses the datasets' own): drop alpha, or luma rounded as JPEG's Y. */
function convertColorMode(image: DecodedImage, colorMode: ColorMode): RawImage {
  const channels = COLOR_MODE_CHANNELS[colorMode];
  if (channels === 4) return image;
  const pixels = image.width * image.height;
  const out = new Uint8Array(pixels * channels);
  const d = image.data;
  for (let p = 0; p < pixels; p++) {
    if (channels === 3) out.set([d[p * 4], d[p * 4 + 1], d[p * 4 + 2]], p * 3);
    else out[p] = Math.round(0.299 * d[p * 4] + 0.587 * d[p * 4 + 1] + 0.114 * d[p * 4 + 2]);
  }
  return { width: image.width, height: image.height, channels, data: out };
}

/** The model's per-image [height, width, channels], checked to be an image input. */
export function modelImageShape(op: string, model: Sequential): { height: number; width: number; channels: number; colorMode: ColorMode } {
  const input = model?.inputShape;
  if (!input) throw new Error(`gpu-cnn: ${op}(): the model has no layers`);
  if (input.length !== 3 || !COLOR_MODES[input[2]]) {
    throw new Error(`gpu-cnn: ${op}(): ${model.name} takes ${batchShapeString(input)}, not images; it needs an input of [height, width, channels] with 1, 3 or 4 channels`);
  }
  return { height: input[0], width: input[1], channels: input[2], colorMode: COLOR_MODES[input[2]] };
}

function describe(source: ImageInput, index: number): string {
  return typeof source === "string" ? source : `image ${index}`;
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

/** Pixels as 8-bit RGBA, so every input goes through the same colour conversion as files do. */
function asRgba(image: RawImage, name: string): DecodedImage {
  const { width, height, channels, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`gpu-cnn: ${name}: width and height must be positive integers, got ${width}x${height}`);
  }
  if (![1, 2, 3, 4].includes(channels)) throw new Error(`gpu-cnn: ${name}: images have 1 to 4 channels, got ${channels}`);
  if (data.length !== width * height * channels) {
    throw new Error(`gpu-cnn: ${name}: ${width}x${height}x${channels} needs ${width * height * channels} values, got ${data.length}`);
  }
  const rgba = new Uint8Array(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    const at = p * channels;
    const clamp = (v: number): number => Math.max(0, Math.min(255, Math.round(v)));
    if (channels <= 2) {
      const v = clamp(data[at]);
      rgba.set([v, v, v, channels === 2 ? clamp(data[at + 1]) : 255], p * 4);
    } else {
      rgba.set([clamp(data[at]), clamp(data[at + 1]), clamp(data[at + 2]), channels === 4 ? clamp(data[at + 3]) : 255], p * 4);
    }
  }
  return { width, height, channels: 4, data: rgba, format: "png", sourceChannels: channels as 1 | 2 | 3 | 4, bitDepth: 8, palette: false, progressive: false };
}

function isBlob(v: unknown): v is Blob {
  return typeof Blob !== "undefined" && v instanceof Blob;
}

/** A drawable browser image's RGBA pixels, through a canvas. */
function drawPixels(source: Drawable, name: string): DecodedImage {
  const OC = (globalThis as { OffscreenCanvas?: new (w: number, h: number) => { getContext(kind: "2d"): CanvasRenderingContext2D | null } }).OffscreenCanvas;
  const element = source as { naturalWidth?: number; naturalHeight?: number; videoWidth?: number; videoHeight?: number };
  const width = element.naturalWidth || element.videoWidth || source.width;
  const height = element.naturalHeight || element.videoHeight || source.height;
  if (!OC || !width || !height) throw new Error(`gpu-cnn: ${name}: not an image gpu-cnn can read; pass a path, PNG/JPEG bytes, a Blob, ImageData or { width, height, channels, data }`);
  const context = new OC(width, height).getContext("2d");
  if (!context) throw new Error(`gpu-cnn: ${name}: no 2D canvas to read the image's pixels`);
  context.drawImage(source as CanvasImageSource, 0, 0);
  const pixels = context.getImageData(0, 0, width, height);
  return asRgba({ width, height, channels: 4, data: pixels.data }, name);
}

/**
 * Encoded bytes to RGBA: pngjs / jpeg-js in Node (as the datasets decode), the browser's own
 * decoder in a page (where no file reader is registered and createImageBitmap exists).
 */
async function decodeBytes(bytes: Uint8Array, name: string): Promise<DecodedImage> {
  if (decoding) return decoding.decode(bytes, name);
  if (typeof createImageBitmap === "function") {
    let bitmap: ImageBitmap;
    try {
      bitmap = await createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>]));
    } catch (error) {
      throw new Error(`gpu-cnn: cannot decode ${name}: ${(error as Error).message}. The file is corrupt, truncated or not an image.`);
    }
    try {
      return drawPixels(bitmap, name);
    } finally {
      bitmap.close();
    }
  }
  throw new Error(`gpu-cnn: cannot decode ${name}: no image decoder here; in Node import gpu-cnn's Node entry, in a browser createImageBitmap is needed`);
}

/** Any accepted input, decoded to RGBA. */
async function decodeInput(source: ImageInput, name: string): Promise<DecodedImage> {
  if (typeof source === "string") {
    let bytes: Uint8Array;
    try {
      if (decoding) bytes = await decoding.readFile(source);
      else {
        const response = await fetch(source);
        if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`);
        bytes = new Uint8Array(await response.arrayBuffer());
      }
    } catch (error) {
      throw new Error(`gpu-cnn: cannot read ${source}: ${(error as Error).message}`);
    }
    return decodeBytes(bytes, source);
  }
  if (source instanceof Uint8Array) return decodeBytes(source, name);
  if (source instanceof ArrayBuffer) return decodeBytes(new Uint8Array(source), name);
  if (isBlob(source)) {
    const fileName = (source as { name?: string }).name;
    return decodeBytes(new Uint8Array(await source.arrayBuffer()), fileName || name);
  }
  if (typeof source === "object" && source !== null && "data" in source && "width" in source && "height" in source) {
    const s = source as { width: number; height: number; channels?: number; data: RawImage["data"] };
    return asRgba({ width: s.width, height: s.height, channels: s.channels ?? 4, data: s.data }, name);
  }
  if (typeof source === "object" && source !== null && "width" in source && "height" in source) return drawPixels(source, name);
  throw new Error(`gpu-cnn: ${name}: cannot read an image from ${typeof source}; pass a path, PNG/JPEG bytes, a Blob, ImageData or { width, height, channels, data }`);
}

/**
 * One image prepared for the model: decoded, converted to its channels and resized to its input
 * size as imageDatasetFromDirectory does (pixels 0..255). Throws, naming the image, when it
 * cannot be read or its colours do not fit the model.
 */
export async function imageForModel(model: Sequential, source: ImageInput, options: PredictImageOptions = {}, index = 0): Promise<FloatImage> {
  const op = "predictImage";
  const target = modelImageShape(op, model);
  const name = describe(source, index);
  if (options.colorMode !== undefined && COLOR_MODE_CHANNELS[options.colorMode] !== target.channels) {
    const given = COLOR_MODE_CHANNELS[options.colorMode];
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
  const colorMode = options.colorMode ?? target.colorMode;
  let image: RawImage = decoding ? decoding.toColorMode(decoded, colorMode) : convertColorMode(decoded, colorMode);
  if (options.cropToAspectRatio) image = cropToAspectRatio(image, target.height, target.width);
  return resizeImage(image, target.height, target.width, interpolation);
}

/** The k most probable classes of one row of probabilities, most probable first (ties: lower index first). */
export function topClasses(probabilities: ArrayLike<number>, k: number, classNames: readonly string[]): ClassProbability[] {
  const order = Array.from({ length: probabilities.length }, (_, i) => i);
  order.sort((a, b) => probabilities[b] - probabilities[a] || a - b);
  return order.slice(0, k).map((i) => ({ className: classNames[i], classIndex: i, probability: probabilities[i] }));
}

function resolveOptions(op: string, model: Sequential, options: PredictImageOptions): { k: number; names: string[]; batchSize: number } {
  const out = model?.outputShape;
  if (!out || out.length !== 1) throw new Error(`gpu-cnn: ${op}(): the model must output class probabilities; ${model?.name} outputs ${out ? batchShapeString(out) : "nothing"}`);
  const classes = out[0];
  const names = options.classNames ? [...options.classNames] : (modelClassNames(model) ?? Array.from({ length: classes }, (_, i) => String(i)));
  if (names.length !== classes) throw new Error(`gpu-cnn: ${op}(): classNames lists ${names.length} classes (${names.join(", ")}) but ${model.name} outputs ${classes}`);
  const k = options.topK ?? Math.min(3, classes);
  if (!Number.isInteger(k) || k < 1) throw new Error(`gpu-cnn: ${op}(): topK must be a positive integer, got ${options.topK}`);
  const batchSize = options.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`gpu-cnn: ${op}(): batchSize must be a positive integer, got ${batchSize}`);
  return { k: Math.min(k, classes), names, batchSize };
}

/** Top-k classes for images already prepared with imageForModel. */
export async function predictPrepared(model: Sequential, images: readonly FloatImage[], options: PredictImageOptions = {}): Promise<ClassProbability[][]> {
  const { k, names, batchSize } = resolveOptions("predictImages", model, options);
  const { height, width, channels } = modelImageShape("predictImages", model);
  const pixels = height * width * channels;
  const results: ClassProbability[][] = [];
  for (let start = 0; start < images.length; start += batchSize) {
    const part = images.slice(start, start + batchSize);
    const x = new Float32Array(part.length * pixels);
    part.forEach((image, i) => x.set(image.data, i * pixels));
    const input = new Tensor([part.length, height, width, channels], x, "images");
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
    for (let i = 0; i < part.length; i++) results.push(topClasses(probs.subarray(i * names.length, (i + 1) * names.length), k, names));
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
  return (await predictImages(model, [input], options))[0];
}

/** predictImage for one image, predictImages for a list. */
export function classify(model: Sequential, input: readonly ImageInput[], options?: PredictImageOptions): Promise<ClassProbability[][]>;
export function classify(model: Sequential, input: ImageInput, options?: PredictImageOptions): Promise<ClassProbability[]>;
export function classify(model: Sequential, input: ImageInput | readonly ImageInput[], options: PredictImageOptions = {}): Promise<ClassProbability[] | ClassProbability[][]> {
  return Array.isArray(input) ? predictImages(model, input, options) : predictImage(model, input as ImageInput, options);
}
