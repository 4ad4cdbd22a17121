// Augmentation as layers, as Keras: RandomFlip, RandomTranslation, RandomRotation, RandomZoom,
// RandomContrast, RandomBrightness. Active only when called with { training: true } (fit,
// trainOnBatch); otherwise they return their input as it is. Each image's random parameters are
// drawn on the CPU from the layer's own seeded generator (its `seed`, else a stream forked from
// the model's seed) and sent as one small tensor; one GPU kernel per layer applies them.
import { affineTransform, adjustBrightness, adjustContrast, FILL_MODES, SAMPLE_INTERPOLATIONS, TRANSFORM_SIZE, type FillMode, type SampleInterpolation } from "../ops/augment.js";
import { Random } from "../random.js";
import { shapeString, tensor, type Shape, type Tensor } from "../tensor.js";
import { checkOptions, type OptionKeys } from "../options.js";
import { baseArgs, batchShapeString, Layer, LAYER_OPTIONS, type CallArgs, type LayerArgs } from "./layer.js";

/** A factor as Keras takes it: one number f (the range [-|f|, |f|]) or a pair [lower, upper]. */
export type Factor = number | [number, number];

export interface RandomLayerArgs extends LayerArgs {
  /** Seeds this layer's random parameters; left out, they follow the model's seed. */
  seed?: number;
}

export interface FillArgs extends RandomLayerArgs {
  /** How points outside the image are filled: "reflect" (default), "wrap", "constant" or "nearest". */
  fillMode?: FillMode;
  /** "bilinear" (default) or "nearest". */
  interpolation?: SampleInterpolation;
  /** The value outside the image with fillMode "constant" (default 0). */
  fillValue?: number;
}

export interface ColorArgs extends RandomLayerArgs {
  /** The range of the input values [low, high]; the output is clipped to it. Default [0, 255]. */
  valueRange?: [number, number];
}

function describeValue(v: unknown): string {
  return JSON.stringify(v) ?? String(v);
}

/**
 * [lower, upper] from a Keras factor, each bound within [min, max]: one number f gives
 * [-|f|, |f|] (or [f, f] with `single: "same"`), a pair is sorted.
 */
export function factorRange(what: string, factor: unknown, min: number, max: number, single: "symmetric" | "same" = "symmetric"): [number, number] {
  const bad = (): never => {
    throw new Error(`gpu-cnn: ${what} must be a number or a pair [lower, upper] of numbers in [${min}, ${max}], got ${describeValue(factor)}`);
  };
  if (typeof factor === "number") {
    if (!Number.isFinite(factor) || factor < min || factor > max) bad();
    return single === "same" ? [factor, factor] : [-Math.abs(factor), Math.abs(factor)];
  }
  if (!Array.isArray(factor) || factor.length !== 2 || !factor.every((v) => typeof v === "number" && Number.isFinite(v) && v >= min && v <= max)) bad();
  const [a, b] = factor as [number, number];
  return a <= b ? [a, b] : [b, a];
}

function checkValueRange(what: string, range: unknown): [number, number] {
  if (!Array.isArray(range) || range.length !== 2 || !range.every((v) => typeof v === "number" && Number.isFinite(v)) || range[0] === range[1]) {
    throw new Error(`gpu-cnn: ${what}: valueRange must be two different finite numbers [low, high], got ${describeValue(range)}`);
  }
  return range[0] < range[1] ? [range[0], range[1]] : [range[1], range[0]];
}

function checkSeed(what: string, seed: unknown): number | undefined {
  if (seed === undefined || seed === null) return undefined;
  if (typeof seed !== "number" || !Number.isInteger(seed) || seed < 0) throw new Error(`gpu-cnn: ${what}: seed must be a non-negative integer, got ${describeValue(seed)}`);
  return seed;
}

const RANDOM_OPTIONS: OptionKeys<RandomLayerArgs> = { ...LAYER_OPTIONS, seed: true };

/** The base of every augmentation layer: images in, images of the same shape out. */
export abstract class RandomImageLayer extends Layer {
  static override readonly options = RANDOM_OPTIONS;
  readonly seed: number | undefined;
  private generator: Random | null = null;

  constructor(args: RandomLayerArgs) {
    super(args);
    this.seed = checkSeed(this.name, args.seed);
  }

  /** The layer's generator: its seed, else a stream forked from the model's (set at build). */
  protected get random(): Random {
    this.generator ??= this.seed !== undefined ? new Random(this.seed) : (this.initRandom ??= new Random()).fork();
    return this.generator;
  }

  computeOutputShape(inputShape: Shape): number[] {
    if (inputShape.length !== 3 || inputShape.some((d) => !(d > 0))) {
      this.reject(`expects images [height, width, channels] per sample (NHWC), got inputs ${batchShapeString(inputShape)}`);
    }
    return [...inputShape];
  }

  override build(_inputShape: Shape): void {
    void this.random; // fix the stream now, from the seed the model gave
  }

  call(x: Tensor, args: CallArgs = {}): Tensor {
    if (x.shape.length !== 4) throw new Error(`gpu-cnn: ${this.name} (${this.className}): expects images [batch, height, width, channels], got ${shapeString(x.shape)}`);
    if (!args.training || x.shape[0] === 0) return x;
    return this.augment(x);
  }

  /** Applies this batch's random parameters. */
  protected abstract augment(x: Tensor): Tensor;

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), seed: this.seed ?? null };
  }
}

/** Flip, translation, rotation and zoom: one affine map per image, sampled by one kernel. */
abstract class RandomAffineLayer extends RandomImageLayer {
  static override readonly options: OptionKeys<FillArgs> = { ...RANDOM_OPTIONS, fillMode: true, interpolation: true, fillValue: true };
  readonly fillMode: FillMode;
  readonly interpolation: SampleInterpolation;
  readonly fillValue: number;

  constructor(args: FillArgs) {
    super(args);
    this.fillMode = args.fillMode ?? "reflect";
    this.interpolation = args.interpolation ?? "bilinear";
    this.fillValue = args.fillValue ?? 0;
    if (!FILL_MODES.includes(this.fillMode)) throw new Error(`gpu-cnn: ${this.name}: fillMode ${describeValue(args.fillMode)} is not supported; use ${FILL_MODES.map((m) => `"${m}"`).join(", ")}`);
    if (!SAMPLE_INTERPOLATIONS.includes(this.interpolation)) throw new Error(`gpu-cnn: ${this.name}: interpolation ${describeValue(args.interpolation)} is not supported; use "bilinear" or "nearest"`);
    if (typeof this.fillValue !== "number" || !Number.isFinite(this.fillValue)) throw new Error(`gpu-cnn: ${this.name}: fillValue must be a finite number, got ${describeValue(args.fillValue)}`);
  }

  /**
   * Draws the next `batch` transforms, [batch * 8] in TensorFlow's layout [a0, a1, a2, b0, b1,
   * b2, c0, c1] (output pixel -> input point), from the layer's generator: what the next
   * training call applies.
   */
  abstract drawTransforms(batch: number, height: number, width: number): Float32Array;

  protected augment(x: Tensor): Tensor {
    const [n, h, w] = x.shape;
    const transforms = tensor(this.drawTransforms(n, h, w), [n, TRANSFORM_SIZE]);
    const y = affineTransform(x, transforms, this.samplingOptions());
    transforms.dispose();
    return y;
  }

  protected samplingOptions(): { interpolation: SampleInterpolation; fillMode: FillMode; fillValue: number } {
    return { interpolation: this.interpolation, fillMode: this.fillMode, fillValue: this.fillValue };
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), fillMode: this.fillMode, interpolation: this.interpolation, fillValue: this.fillValue, dataFormat: "channelsLast" };
  }
}

function fillArgs(config: Record<string, unknown>): FillArgs {
  return {
    ...baseArgs(config),
    seed: (config.seed as number | null | undefined) ?? undefined,
    fillMode: config.fillMode as FillMode | undefined,
    interpolation: config.interpolation as SampleInterpolation | undefined,
    fillValue: (config.fillValue as number | null | undefined) ?? undefined,
  };
}

function put(out: Float32Array, i: number, values: number[]): void {
  out.set(values, i * TRANSFORM_SIZE);
}

export type FlipMode = "horizontal" | "vertical" | "horizontal_and_vertical";
const FLIP_MODES: readonly FlipMode[] = ["horizontal", "vertical", "horizontal_and_vertical"];

/** Keras' RandomFlip: each image flipped left-right and/or top-bottom, each with probability 1/2. */
export class RandomFlip extends RandomAffineLayer {
  static override readonly className = "RandomFlip";
  readonly mode: FlipMode;

  constructor(mode: FlipMode = "horizontal_and_vertical", args: RandomLayerArgs = {}) {
    // a flip takes no fill or interpolation options (the ones it passes on are fixed)
    checkOptions("new RandomFlip()", args, RANDOM_OPTIONS);
    // flips land on pixel centres: nearest sampling copies them exactly
    super({ ...args, interpolation: "nearest", fillMode: "nearest" });
    const normalized = (mode as string) === "horizontalAndVertical" ? "horizontal_and_vertical" : mode;
    if (!FLIP_MODES.includes(normalized)) throw new Error(`gpu-cnn: ${this.name}: mode must be "horizontal", "vertical" or "horizontal_and_vertical", got ${describeValue(mode)}`);
    this.mode = normalized;
  }

  drawTransforms(batch: number, height: number, width: number): Float32Array {
    const out = new Float32Array(batch * TRANSFORM_SIZE);
    const horizontal = this.mode !== "vertical";
    const vertical = this.mode !== "horizontal";
    for (let i = 0; i < batch; i++) {
      const flipX = horizontal && this.random.next() < 0.5;
      const flipY = vertical && this.random.next() < 0.5;
      put(out, i, [flipX ? -1 : 1, 0, flipX ? width - 1 : 0, 0, flipY ? -1 : 1, flipY ? height - 1 : 0, 0, 0]);
    }
    return out;
  }

  static fromConfig(config: Record<string, unknown>): RandomFlip {
    return new RandomFlip((config.mode as FlipMode | undefined) ?? "horizontal_and_vertical", { ...baseArgs(config), seed: (config.seed as number | null | undefined) ?? undefined });
  }

  override getConfig(): Record<string, unknown> {
    const config: Record<string, unknown> = { ...super.getConfig(), mode: this.mode };
    for (const key of ["fillMode", "interpolation", "fillValue"]) delete config[key];
    return config;
  }
}

/**
 * Keras' RandomTranslation: each image shifted by a random fraction of its height (positive:
 * down) and width (positive: right), each factor a number f (within ±|f|) or [lower, upper],
 * in [-1, 1].
 */
export class RandomTranslation extends RandomAffineLayer {
  static override readonly className = "RandomTranslation";
  readonly heightRange: [number, number];
  readonly widthRange: [number, number];

  constructor(
    readonly heightFactor: Factor,
    readonly widthFactor: Factor,
    args: FillArgs = {},
  ) {
    super(args);
    this.heightRange = factorRange(`${this.name}: heightFactor`, heightFactor, -1, 1);
    this.widthRange = factorRange(`${this.name}: widthFactor`, widthFactor, -1, 1);
  }

  drawTransforms(batch: number, height: number, width: number): Float32Array {
    const out = new Float32Array(batch * TRANSFORM_SIZE);
    for (let i = 0; i < batch; i++) {
      const dy = this.random.uniform(...this.heightRange) * height;
      const dx = this.random.uniform(...this.widthRange) * width;
      put(out, i, [1, 0, -dx, 0, 1, -dy, 0, 0]);
    }
    return out;
  }

  static fromConfig(config: Record<string, unknown>): RandomTranslation {
    return new RandomTranslation(config.heightFactor as Factor, config.widthFactor as Factor, fillArgs(config));
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), heightFactor: this.heightFactor, widthFactor: this.widthFactor };
  }
}

/**
 * Keras' RandomRotation: each image rotated about its centre by a random angle, factor a
 * fraction of a full turn: f rotates within ±|f|·2π, [lower, upper] within [lower·2π, upper·2π]
 * (positive: counter-clockwise), bounds in [-1, 1].
 */
export class RandomRotation extends RandomAffineLayer {
  static override readonly className = "RandomRotation";
  readonly range: [number, number];

  constructor(
    readonly factor: Factor,
    args: FillArgs = {},
  ) {
    super(args);
    this.range = factorRange(`${this.name}: factor`, factor, -1, 1);
  }

  /** The next `batch` angles in radians (what drawTransforms uses). */
  drawAngles(batch: number): Float64Array {
    const out = new Float64Array(batch);
    for (let i = 0; i < batch; i++) out[i] = this.random.uniform(this.range[0] * 2 * Math.PI, this.range[1] * 2 * Math.PI);
    return out;
  }

  drawTransforms(batch: number, height: number, width: number): Float32Array {
    const out = new Float32Array(batch * TRANSFORM_SIZE);
    this.drawAngles(batch).forEach((angle, i) => put(out, i, rotationTransform(angle, height, width)));
    return out;
  }

  static fromConfig(config: Record<string, unknown>): RandomRotation {
    return new RandomRotation(config.factor as Factor, fillArgs(config));
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), factor: this.factor };
  }
}

/** Keras' rotation matrix: output -> input, about the image centre ((w - 1) / 2, (h - 1) / 2). */
export function rotationTransform(angle: number, height: number, width: number): number[] {
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const xOffset = (width - 1 - (cos * (width - 1) - sin * (height - 1))) / 2;
  const yOffset = (height - 1 - (sin * (width - 1) + cos * (height - 1))) / 2;
  return [cos, -sin, xOffset, sin, cos, yOffset, 0, 0];
}

/** Keras' zoom matrix: output -> input, about the image centre; zoom > 1 shows more (zooms out). */
export function zoomTransform(zoomY: number, zoomX: number, height: number, width: number): number[] {
  return [zoomX, 0, ((width - 1) / 2) * (1 - zoomX), 0, zoomY, ((height - 1) / 2) * (1 - zoomY), 0, 0];
}

/**
 * Keras' RandomZoom: each image zoomed about its centre by 1 + a random draw from the factor
 * range: positive zooms out, negative zooms in (heightFactor [-0.3, -0.2] zooms in by 20-30%).
 * Without widthFactor the width zooms as the height (aspect ratio kept). Bounds in [-1, 1].
 */
export class RandomZoom extends RandomAffineLayer {
  static override readonly className = "RandomZoom";
  readonly heightRange: [number, number];
  readonly widthRange: [number, number] | null;
  readonly heightFactor: Factor;
  readonly widthFactor: Factor | null;

  constructor(heightFactor: Factor, widthFactor?: Factor | null | FillArgs, args: FillArgs = {}) {
    // RandomZoom(0.2, { fillMode }) reads as Keras' RandomZoom(0.2, fill_mode=...)
    const widthIsArgs = widthFactor !== null && typeof widthFactor === "object" && !Array.isArray(widthFactor);
    const options = widthIsArgs ? (widthFactor as FillArgs) : args;
    super(options);
    this.heightFactor = heightFactor;
    this.widthFactor = widthIsArgs || widthFactor === undefined ? null : (widthFactor as Factor | null);
    this.heightRange = factorRange(`${this.name}: heightFactor`, heightFactor, -1, 1);
    this.widthRange = this.widthFactor === null ? null : factorRange(`${this.name}: widthFactor`, this.widthFactor, -1, 1);
  }

  /** The next `batch` [zoomY, zoomX] pairs (what drawTransforms uses). */
  drawZooms(batch: number): [number, number][] {
    const out: [number, number][] = [];
    for (let i = 0; i < batch; i++) {
      const zy = 1 + this.random.uniform(...this.heightRange);
      const zx = this.widthRange ? 1 + this.random.uniform(...this.widthRange) : zy;
      out.push([zy, zx]);
    }
    return out;
  }

  drawTransforms(batch: number, height: number, width: number): Float32Array {
    const out = new Float32Array(batch * TRANSFORM_SIZE);
    this.drawZooms(batch).forEach(([zy, zx], i) => put(out, i, zoomTransform(zy, zx, height, width)));
    return out;
  }

  static fromConfig(config: Record<string, unknown>): RandomZoom {
    return new RandomZoom(config.heightFactor as Factor, (config.widthFactor as Factor | null | undefined) ?? null, fillArgs(config));
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), heightFactor: this.heightFactor, widthFactor: this.widthFactor };
  }
}

/** What RandomContrast and RandomBrightness share: one factor drawn per image, values clipped to valueRange. */
abstract class RandomColorLayer extends RandomImageLayer {
  static override readonly options: OptionKeys<ColorArgs> = { ...RANDOM_OPTIONS, valueRange: true };
  readonly range: [number, number];
  readonly valueRange: [number, number];

  constructor(
    readonly factor: Factor,
    args: ColorArgs,
    bounds: [number, number],
    single: "symmetric" | "same",
  ) {
    super(args);
    this.range = factorRange(`${this.name}: factor`, factor, bounds[0], bounds[1], single);
    this.valueRange = checkValueRange(this.name, args.valueRange ?? [0, 255]);
  }

  /** The constructor arguments a saved config holds. */
  protected static colorArgs(config: Record<string, unknown>): ColorArgs {
    return { ...baseArgs(config), seed: (config.seed as number | null | undefined) ?? undefined, valueRange: (config.valueRange as [number, number] | undefined) ?? undefined };
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), factor: this.factor, valueRange: this.valueRange };
  }
}

/**
 * Keras' RandomContrast: each image's channels pushed away from (or towards) their mean,
 * y = (x - mean) * c + mean, c drawn from [1 - lower, 1 + upper]; factor f gives [1 - f, 1 + f]
 * (f in [0, 1]). The output is clipped to valueRange (default [0, 255]).
 */
export class RandomContrast extends RandomColorLayer {
  static override readonly className = "RandomContrast";

  constructor(factor: Factor, args: ColorArgs = {}) {
    super(factor, args, [0, 1], "same");
  }

  /** The next `batch` contrast factors (what a training call applies). */
  drawFactors(batch: number): Float32Array {
    const out = new Float32Array(batch);
    for (let i = 0; i < batch; i++) out[i] = this.random.uniform(1 - this.range[0], 1 + this.range[1]);
    return out;
  }

  protected augment(x: Tensor): Tensor {
    const factors = tensor(this.drawFactors(x.shape[0]), [x.shape[0]]);
    const y = adjustContrast(x, factors, this.valueRange);
    factors.dispose();
    return y;
  }

  static fromConfig(config: Record<string, unknown>): RandomContrast {
    return new RandomContrast(config.factor as Factor, RandomColorLayer.colorArgs(config));
  }
}

/**
 * Keras' RandomBrightness: adds delta · (high - low) to every value of an image, delta drawn
 * from the factor range (f: [-|f|, |f|]; bounds in [-1, 1]), then clips to valueRange
 * (default [0, 255]; use [0, 1] after Rescaling(1 / 255)).
 */
export class RandomBrightness extends RandomColorLayer {
  static override readonly className = "RandomBrightness";

  constructor(factor: Factor, args: ColorArgs = {}) {
    super(factor, args, [-1, 1], "symmetric");
  }

  /** The next `batch` deltas, already scaled to the value range (what a training call adds). */
  drawDeltas(batch: number): Float32Array {
    const out = new Float32Array(batch);
    const span = this.valueRange[1] - this.valueRange[0];
    for (let i = 0; i < batch; i++) out[i] = this.random.uniform(this.range[0], this.range[1]) * span;
    return out;
  }

  protected augment(x: Tensor): Tensor {
    const deltas = tensor(this.drawDeltas(x.shape[0]), [x.shape[0]]);
    const y = adjustBrightness(x, deltas, this.valueRange);
    deltas.dispose();
    return y;
  }

  static fromConfig(config: Record<string, unknown>): RandomBrightness {
    return new RandomBrightness(config.factor as Factor, RandomColorLayer.colorArgs(config));
  }
}
