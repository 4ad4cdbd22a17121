// imageDatasetFromDirectory: Keras' conventions (one sub-folder per class, sorted class names,
// a seeded numpy shuffle of the sorted file list, the validation split taken from its end,
// float 0..255 pixels) over a streaming pipeline: images are decoded when a batch needs them,
// kept at their final size in a bounded cache shared by the subsets, and the next batch is
// decoded while the consumer works on the current one.
import { Random, randomSeed } from "../random.js";
import { Tensor } from "../tensor.js";
import { decodeImage, type ColorMode } from "./decode.js";
import { joinPath, listDirectory, pathKind, readBytes } from "./files.node.js";
import { numpyShuffle } from "./numpy-shuffle.js";
import { preprocessImage, resolvePreprocess, type ImagePreprocessOptions, type Preprocess } from "./preprocess.js";
import type { FloatImage, Interpolation } from "./resize.js";
import { checkOptions, type OptionKeys } from "../options.js";

export type LabelMode = "categorical" | "int";
export type Subset = "training" | "validation" | "both";

/** Extensions listed as images. Keras also lists .bmp and .gif; gpu-cnn decodes PNG and JPEG only. */
export const IMAGE_EXTENSIONS: readonly string[] = [".png", ".jpg", ".jpeg"];

export interface ImageDatasetOptions extends ImagePreprocessOptions {
  /** Default 32. */
  batchSize?: number;
  /** Fraction held out for validation, in (0, 1); needs `subset`. */
  validationSplit?: number;
  subset?: Subset;
  /** Seeds the file shuffle (numpy-compatible, as Keras) and each epoch's batch order. */
  seed?: number;
  /** "int" (Keras' default): y is [b] class indices; "categorical": y is [b, classes] one-hot. */
  labelMode?: LabelMode;
  /** Shuffle files before the split and batches every epoch. Default true. */
  shuffle?: boolean;
  /** Warn about and leave out unreadable images instead of throwing. Default false. */
  skipBadImages?: boolean;
  /**
   * The classes and their order (label i = classNames[i]). Every sub-folder must be one of them;
   * a class may lack a folder (evaluating on a folder that holds some of a model's classes).
   */
  classNames?: readonly string[];
  /** Bytes of decoded images kept between epochs (shared by "both" subsets). Default 256 MiB. */
  cacheBytes?: number;
  /** Receives warnings (skipped bad images, ignored files). Default console.warn. */
  warn?: (message: string) => void;
}

export interface ImageBatch {
  /** [b, height, width, channels], values 0..255. */
  x: Tensor;
  /** [b, classes] one-hot, or [b] class indices. */
  y: Tensor;
  /** The file of each row. */
  paths: string[];
}

export interface SkippedImage {
  path: string;
  reason: string;
}

const DATASET_OPTIONS: OptionKeys<ImageDatasetOptions> = {
  imageSize: true, batchSize: true, validationSplit: true, subset: true, seed: true, labelMode: true, colorMode: true, shuffle: true,
  cropToAspectRatio: true, interpolation: true, skipBadImages: true, classNames: true, cacheBytes: true, warn: true,
};

/** A file decoded and prepared as loadImage prepares any image (preprocess.ts). */
async function preprocess(bytes: Uint8Array, name: string, p: Preprocess): Promise<FloatImage> {
  return preprocessImage(await decodeImage(bytes, name), p);
}

async function readFile(path: string): Promise<Uint8Array> {
  try {
    return await readBytes(path);
  } catch (error) {
    throw new Error(`gpu-cnn: cannot read ${path}: ${(error as Error).message}`);
  }
}

/** Decoded images at their final size, least recently used evicted first. */
class ImageCache {
  private readonly images = new Map<string, Float32Array>();
  private bytes = 0;
  constructor(readonly capacity: number) {}

  get(path: string): Float32Array | undefined {
    const image = this.images.get(path);
    if (image) {
      this.images.delete(path); // re-insert: Map order is the recency order
      this.images.set(path, image);
    }
    return image;
  }

  set(path: string, image: Float32Array): void {
    if (image.byteLength > this.capacity || this.images.has(path)) return;
    this.images.set(path, image);
    this.bytes += image.byteLength;
    for (const [oldest, old] of this.images) {
      if (this.bytes <= this.capacity) break;
      this.images.delete(oldest);
      this.bytes -= old.byteLength;
    }
  }

  get size(): number {
    return this.images.size;
  }
}

const yieldToEventLoop: () => Promise<void> =
  typeof setImmediate === "function" ? () => new Promise((r) => setImmediate(r)) : () => new Promise((r) => setTimeout(r, 0));

/** Longest stretch of decoding between yields, so GPU callbacks and the consumer keep running. */
const SLICE_MS = 4;

interface LoadedBatch {
  x: Float32Array;
  y: Float32Array;
  paths: string[];
}

/** A labelled image folder (or one subset of it), iterated as batches. Each iteration is one epoch. */
export class ImageDataset implements AsyncIterable<ImageBatch> {
  readonly imageSize: readonly [number, number];
  readonly channels: number;
  readonly colorMode: ColorMode;
  readonly interpolation: Interpolation;
  readonly cropToAspectRatio: boolean;
  /** Images left out so far because they could not be decoded (skipBadImages). */
  readonly skipped: SkippedImage[] = [];
  private readonly bad = new Set<number>();
  private readonly epochSeeds: Random;

  /** @internal made by imageDatasetFromDirectory */
  constructor(
    readonly classNames: readonly string[],
    readonly filePaths: readonly string[],
    readonly labels: Int32Array,
    readonly batchSize: number,
    readonly labelMode: LabelMode,
    readonly shuffle: boolean,
    private readonly preprocess: Preprocess,
    private readonly skipBadImages: boolean,
    private readonly cache: ImageCache,
    private readonly warn: (message: string) => void,
    seed: number,
  ) {
    this.imageSize = [preprocess.height, preprocess.width];
    this.channels = preprocess.channels;
    this.colorMode = preprocess.colorMode;
    this.interpolation = preprocess.interpolation;
    this.cropToAspectRatio = preprocess.cropToAspectRatio;
    this.epochSeeds = new Random(seed);
  }

  /** Images in the dataset (less those already found bad and skipped). */
  get size(): number {
    return this.filePaths.length - this.bad.size;
  }

  /** Batches per epoch; the last one may be smaller. */
  get numBatches(): number {
    return Math.ceil(this.size / this.batchSize);
  }

  get numClasses(): number {
    return this.classNames.length;
  }

  [Symbol.asyncIterator](): AsyncGenerator<ImageBatch> {
    return this.batches();
  }

  /**
   * One epoch of batches; shuffled (a new order each epoch, from the seed) when the dataset
   * shuffles, unless `shuffle: false` is passed. The caller owns (and disposes) each batch's tensors.
   */
  async *batches(options: { shuffle?: boolean } = {}): AsyncGenerator<ImageBatch> {
    const order = this.epochOrder(options.shuffle ?? this.shuffle);
    const cancelled = { value: false };
    const load = (b: number): Promise<LoadedBatch | null> => {
      const promise = this.loadBatch(order.slice(b * this.batchSize, (b + 1) * this.batchSize), cancelled);
      promise.catch(() => {}); // surfaced when awaited; never an unhandled rejection if the consumer stops early
      return promise;
    };
    const count = Math.ceil(order.length / this.batchSize);
    let next = count > 0 ? load(0) : null;
    try {
      for (let b = 0; b < count; b++) {
        const loaded = await next!;
        // Start decoding batch b + 1 before handing out batch b: it runs while the consumer trains.
        next = b + 1 < count ? load(b + 1) : null;
        if (loaded) yield this.toBatch(loaded);
      }
    } finally {
      cancelled.value = true;
    }
  }

  /** Every image and label in the dataset's stored order, as two tensors (for small sets). */
  async toArrays(): Promise<{ x: Tensor; y: Tensor }> {
    const pixels = this.preprocess.height * this.preprocess.width * this.channels;
    const bytes = this.size * pixels * 4;
    if (bytes > 2 ** 31) {
      throw new Error(
        `gpu-cnn: toArrays() would need ${(bytes / 2 ** 30).toFixed(1)} GiB for ${this.size} images; iterate the dataset in batches instead (for await (const batch of dataset)).`,
      );
    }
    const parts: LoadedBatch[] = [];
    const order = this.storedOrder();
    for (let b = 0; b * this.batchSize < order.length; b++) {
      const loaded = await this.loadBatch(order.slice(b * this.batchSize, (b + 1) * this.batchSize), { value: false });
      if (loaded) parts.push(loaded);
    }
    const n = parts.reduce((s, p) => s + p.paths.length, 0);
    const x = new Float32Array(n * pixels);
    const y = new Float32Array(n * (this.labelMode === "categorical" ? this.numClasses : 1));
    let xAt = 0;
    let yAt = 0;
    for (const part of parts) {
      x.set(part.x, xAt);
      y.set(part.y, yAt);
      xAt += part.x.length;
      yAt += part.y.length;
    }
    return { x: new Tensor(this.xShape(n), x, "images"), y: new Tensor(this.yShape(n), y, "labels") };
  }

  /** Indices of the images not known to be bad, in the stored order. */
  private storedOrder(): number[] {
    const order: number[] = [];
    for (let i = 0; i < this.filePaths.length; i++) if (!this.bad.has(i)) order.push(i);
    return order;
  }

  private epochOrder(shuffle: boolean): number[] {
    // A new stream per epoch, drawn even when unused, so epoch k's order does not depend on
    // whether earlier epochs were shuffled.
    const random = this.epochSeeds.fork();
    return shuffle ? random.shuffle(this.storedOrder()) : this.storedOrder();
  }

  private xShape(n: number): number[] {
    return [n, this.preprocess.height, this.preprocess.width, this.channels];
  }

  private yShape(n: number): number[] {
    return this.labelMode === "categorical" ? [n, this.numClasses] : [n];
  }

  // Tensors are made here, when the consumer takes the batch, not during prefetch: a tensor made
  // mid-prefetch could be claimed by whatever scope the consumer has open at that moment.
  private toBatch(loaded: LoadedBatch): ImageBatch {
    const n = loaded.paths.length;
    return { x: new Tensor(this.xShape(n), loaded.x, "images"), y: new Tensor(this.yShape(n), loaded.y, "labels"), paths: loaded.paths };
  }

  private async loadBatch(indices: number[], cancelled: { value: boolean }): Promise<LoadedBatch | null> {
    const p = this.preprocess;
    const pixels = p.height * p.width * p.channels;
    // Start every uncached read now: the file system works while we decode.
    const reads = indices.map((i) => {
      if (this.cache.get(this.filePaths[i])) return null;
      const read = readFile(this.filePaths[i]);
      read.catch(() => {});
      return read;
    });
    const x = new Float32Array(indices.length * pixels);
    const kept: number[] = [];
    let sliceStart = performance.now();
    for (let k = 0; k < indices.length; k++) {
      if (cancelled.value) return null;
      const index = indices[k];
      const path = this.filePaths[index];
      let image = this.cache.get(path);
      if (!image) {
        try {
          // (reads[k] is null if the image was cached when the batch began but evicted since)
          image = (await preprocess(await (reads[k] ?? readFile(path)), path, p)).data;
        } catch (error) {
          if (!this.skipBadImages) throw error;
          this.markBad(index, error as Error);
          continue;
        }
        this.cache.set(path, image);
      }
      x.set(image, kept.length * pixels);
      kept.push(index);
      if (performance.now() - sliceStart > SLICE_MS) {
        await yieldToEventLoop();
        sliceStart = performance.now();
      }
    }
    if (kept.length === 0) return null;
    const classes = this.numClasses;
    const y = new Float32Array(this.labelMode === "categorical" ? kept.length * classes : kept.length);
    kept.forEach((index, row) => {
      if (this.labelMode === "categorical") y[row * classes + this.labels[index]] = 1;
      else y[row] = this.labels[index];
    });
    return {
      x: kept.length === indices.length ? x : x.slice(0, kept.length * pixels),
      y,
      paths: kept.map((i) => this.filePaths[i]),
    };
  }

  private markBad(index: number, error: Error): void {
    if (this.bad.has(index)) return;
    this.bad.add(index);
    const reason = error.message.replace(/^gpu-cnn: /, "");
    this.skipped.push({ path: this.filePaths[index], reason });
    this.warn(`gpu-cnn: skipping bad image (skipBadImages): ${reason}`);
  }
}

/**
 * A labelled image dataset from a folder with one sub-folder of images per class, as Keras'
 * `image_dataset_from_directory`. With `subset: "both"` resolves to [training, validation].
 */
export function imageDatasetFromDirectory(dir: string, options: ImageDatasetOptions & { subset: "both" }): Promise<[ImageDataset, ImageDataset]>;
export function imageDatasetFromDirectory(dir: string, options?: ImageDatasetOptions & { subset?: "training" | "validation" }): Promise<ImageDataset>;
export function imageDatasetFromDirectory(dir: string, options?: ImageDatasetOptions): Promise<ImageDataset | [ImageDataset, ImageDataset]>;
export async function imageDatasetFromDirectory(dir: string, options: ImageDatasetOptions = {}): Promise<ImageDataset | [ImageDataset, ImageDataset]> {
  checkOptions("imageDatasetFromDirectory()", options, DATASET_OPTIONS);
  const p = resolvePreprocess(options);
  const batchSize = options.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize <= 0) {
    throw new Error(`gpu-cnn: batchSize must be a positive integer, got ${batchSize}`);
  }
  const labelMode = options.labelMode ?? "int";
  if (labelMode !== "int" && labelMode !== "categorical") {
    throw new Error(`gpu-cnn: labelMode must be "int" or "categorical", got ${JSON.stringify(labelMode)}`);
  }
  const shuffle = options.shuffle ?? true;
  const { validationSplit, subset } = options;
  if (validationSplit !== undefined && !(validationSplit > 0 && validationSplit < 1)) {
    throw new Error(`gpu-cnn: validationSplit must be between 0 and 1 (exclusive), got ${validationSplit}. Fix: e.g. validationSplit: 0.2.`);
  }
  if (subset !== undefined && subset !== "training" && subset !== "validation" && subset !== "both") {
    throw new Error(`gpu-cnn: subset must be "training", "validation" or "both", got ${JSON.stringify(subset)}`);
  }
  if (subset !== undefined && validationSplit === undefined) {
    throw new Error(`gpu-cnn: subset "${subset}" needs validationSplit. Fix: pass validationSplit too, e.g. 0.2.`);
  }
  if (validationSplit !== undefined && subset === undefined) {
    throw new Error(`gpu-cnn: validationSplit needs subset ("training", "validation" or "both") to say which part to return.`);
  }
  // Separate "training" and "validation" calls only split the same files apart if both shuffle
  // alike; "both" shuffles once, so any seed will do.
  if (validationSplit !== undefined && shuffle && options.seed === undefined && subset !== "both") {
    throw new Error(
      `gpu-cnn: validationSplit with shuffle needs a seed, or the training and validation subsets (separate calls) could overlap. Fix: pass seed (any integer), or use subset "both".`,
    );
  }
  if (options.seed !== undefined && !(Number.isInteger(options.seed) && options.seed >= 0 && options.seed <= 0xffffffff)) {
    throw new Error(`gpu-cnn: seed must be an integer from 0 to 4294967295, got ${options.seed}`);
  }
  const warn = options.warn ?? ((message: string) => console.warn(message));

  const { classNames, paths, labels } = await indexDirectory(dir, options.classNames, warn);
  if (labelMode === "categorical" && classNames.length < 2) {
    throw new Error(
      `gpu-cnn: ${dir} has ${classNames.length} class folder (${classNames.join(", ")}); labelMode "categorical" needs at least 2 classes. Fix: add one sub-folder of images per class.`,
    );
  }

  let order = paths.map((_, i) => i);
  // Keras: np.random.randint(1e6) when no seed is given
  const seed = options.seed ?? Math.floor(Math.random() * 1e6);
  if (shuffle) order = numpyShuffle(order, seed);

  const cache = new ImageCache(options.cacheBytes ?? 256 * 2 ** 20);
  const make = (indices: number[], streamSeed: number) =>
    new ImageDataset(
      classNames,
      indices.map((i) => paths[i]),
      Int32Array.from(indices, (i) => labels[i]),
      batchSize,
      labelMode,
      shuffle,
      p,
      options.skipBadImages ?? false,
      cache,
      warn,
      streamSeed,
    );
  if (validationSplit === undefined) return make(order, seed);

  const validationCount = Math.floor(validationSplit * order.length);
  const trainingCount = order.length - validationCount;
  if (validationCount === 0 || trainingCount === 0) {
    throw new Error(
      `gpu-cnn: validationSplit ${validationSplit} of ${order.length} images leaves ${validationCount === 0 ? "no validation" : "no training"} images. Fix: add images or change validationSplit.`,
    );
  }
  const training = () => make(order.slice(0, trainingCount), seed);
  // The validation stream gets its own seed so its batch order is not the training order's.
  const validation = () => make(order.slice(trainingCount), (seed ^ 0x5bd1e995) >>> 0);
  if (subset === "training") return training();
  if (subset === "validation") return validation();
  return [training(), validation()];
}

interface DirectoryIndex {
  classNames: string[];
  paths: string[];
  labels: number[];
}

async function indexDirectory(dir: string, explicitClasses: readonly string[] | undefined, warn: (message: string) => void): Promise<DirectoryIndex> {
  const kind = await pathKind(dir);
  if (kind === "missing") {
    throw new Error(`gpu-cnn: image folder ${dir} does not exist. Fix: pass a folder that holds one sub-folder of images per class.`);
  }
  if (kind !== "directory") throw new Error(`gpu-cnn: ${dir} is not a folder. Fix: pass a folder that holds one sub-folder of images per class.`);
  // Hidden folders (.git, .ipynb_checkpoints) are never classes, as in Keras.
  const folders = (await listDirectory(dir)).filter((e) => e.kind === "directory" && !e.name.startsWith(".")).map((e) => e.name);
  if (folders.length === 0) {
    throw new Error(`gpu-cnn: ${dir} has no class sub-folders. Fix: put each class's images in its own sub-folder, e.g. ${joinPath(dir, "cats", "1.png")}.`);
  }
  let classNames = folders;
  if (explicitClasses) {
    if (explicitClasses.length === 0 || new Set(explicitClasses).size !== explicitClasses.length) {
      throw new Error(`gpu-cnn: classNames must list each class once, got ${JSON.stringify(explicitClasses)}`);
    }
    const unknown = folders.filter((f) => !explicitClasses.includes(f));
    if (unknown.length > 0) {
      throw new Error(
        `gpu-cnn: ${dir} has folders that are not in classNames: ${unknown.join(", ")} (classNames: ${explicitClasses.join(", ")}). Fix: remove those folders or add them to classNames.`,
      );
    }
    classNames = [...explicitClasses];
  }
  const paths: string[] = [];
  const labels: number[] = [];
  const ignored: string[] = [];
  for (const folder of folders) {
    const label = classNames.indexOf(folder);
    const files = await listImages(joinPath(dir, folder), ignored);
    if (files.length === 0) {
      throw new Error(
        `gpu-cnn: class folder ${joinPath(dir, folder)} has no ${IMAGE_EXTENSIONS.join("/")} images. Fix: add images to it or remove the folder.`,
      );
    }
    for (const file of files) {
      paths.push(file);
      labels.push(label);
    }
  }
  if (ignored.length > 0) {
    warn(
      `gpu-cnn: ignored ${ignored.length} file${ignored.length === 1 ? "" : "s"} in ${dir} that ${ignored.length === 1 ? "is" : "are"} not ${IMAGE_EXTENSIONS.join(", ")} ` +
        `(e.g. ${ignored[0]}); gpu-cnn lists only these, as Keras lists only its image extensions. Fix: convert them to PNG to include them.`,
    );
  }
  return { classNames, paths, labels };
}

/**
 * Image files under a class folder, sub-folders included, in Keras' order: folders sorted by
 * path, files sorted within each. Hidden files (macOS "._x.jpg" resource forks) are skipped.
 */
async function listImages(root: string, ignored: string[]): Promise<string[]> {
  const folders: { path: string; files: string[] }[] = [];
  const walk = async (path: string): Promise<void> => {
    const files: string[] = [];
    for (const entry of await listDirectory(path)) {
      if (entry.name.startsWith(".")) continue;
      const full = joinPath(path, entry.name);
      // Linked folders are not followed (Keras' follow_links=False), which also rules out cycles.
      if (entry.kind === "directory") {
        if (!entry.symlink) await walk(full);
      }
      else if (entry.kind === "file") {
        const lower = entry.name.toLowerCase();
        if (IMAGE_EXTENSIONS.some((ext) => lower.endsWith(ext))) files.push(full);
        else ignored.push(full);
      }
    }
    folders.push({ path, files });
  };
  await walk(root);
  folders.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return folders.flatMap((f) => f.files);
}
