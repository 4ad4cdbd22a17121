// Preprocessing as layers, as Keras: Rescaling, Normalization (with adapt()) and Resizing. They
// are saved with the model (getConfig), so inference preprocesses exactly as training did.
// They have no weights; Normalization keeps its adapted mean and variance in its config.
import { rescaleChannels } from "../ops/rescale.js";
import { resize, RESIZE_INTERPOLATIONS, type ResizeInterpolation } from "../ops/resize.js";
import { keep, shapeString, Tensor, tensor, type Shape } from "../tensor.js";
import type { OptionKeys } from "../options.js";
import { baseArgs, batchShapeString, Layer, LAYER_OPTIONS, type LayerArgs } from "./layer.js";

/** Keras' backend.epsilon(): the floor of the standard deviation Normalization divides by. */
export const NORMALIZATION_EPSILON = 1e-7;

function numbers(what: string, value: number | readonly number[]): number[] {
  const list = typeof value === "number" ? [value] : Array.isArray(value) ? [...value] : null;
  if (!list || list.length === 0 || !list.every((v) => typeof v === "number" && Number.isFinite(v))) {
    throw new Error(`gpu-cnn: ${what} must be a finite number or a non-empty list of them, got ${JSON.stringify(value)}`);
  }
  return list;
}

/** Values for K channels: one value repeats, otherwise exactly K. */
function perChannel(layer: Layer, what: string, values: number[], channels: number): number[] {
  if (values.length === 1) return new Array<number>(channels).fill(values[0]);
  if (values.length !== channels) {
    throw new Error(`gpu-cnn: ${layer.name} (${layer.className}): ${what} has ${values.length} values, but the input has ${channels} channels along the normalized axis`);
  }
  return values;
}

/** A [3, K] coefficient tensor for rescaleChannels (rows: subtract, multiply, add), kept across tidy(). */
function coefficients(sub: number[], mul: number[], add: number[]): Tensor {
  return keep(tensor(Float32Array.from([...sub, ...mul, ...add]), [3, sub.length]));
}

/** Config values back as numbers: one number stays one number. */
function configNumbers(values: number[]): number | number[] {
  return values.length === 1 ? values[0] : values;
}

/**
 * y = x * scale + offset (Keras' Rescaling), e.g. new Rescaling(1 / 255) maps 0..255 pixels to
 * 0..1 and new Rescaling(1 / 127.5, -1) to -1..1. scale and offset may also be one value per
 * channel (last axis).
 */
export class Rescaling extends Layer {
  static override readonly className = "Rescaling";
  readonly scale: number[];
  readonly offset: number[];
  private coef: Tensor | null = null;

  constructor(scale: number | number[], offset?: number | number[] | LayerArgs, args: LayerArgs = {}) {
    // new Rescaling(1 / 255, { inputShape }) reads as Keras' Rescaling(1 / 255, input_shape=...)
    const offsetIsArgs = offset !== null && typeof offset === "object" && !Array.isArray(offset);
    super(offsetIsArgs ? (offset as LayerArgs) : args);
    this.scale = numbers(`${this.name}: scale`, scale);
    this.offset = numbers(`${this.name}: offset`, offsetIsArgs || offset === undefined ? 0 : (offset as number | number[]));
  }

  computeOutputShape(inputShape: Shape): number[] {
    if (inputShape.length === 0) this.reject(`expects inputs with at least one axis after the batch axis, got ${batchShapeString(inputShape)}`);
    const channels = inputShape[inputShape.length - 1];
    if (this.scale.length > 1 && this.scale.length !== channels) this.reject(`scale has ${this.scale.length} values but inputs ${batchShapeString(inputShape)} have ${channels} channels`);
    if (this.offset.length > 1 && this.offset.length !== channels) this.reject(`offset has ${this.offset.length} values but inputs ${batchShapeString(inputShape)} have ${channels} channels`);
    return [...inputShape];
  }

  call(x: Tensor): Tensor {
    const channels = x.shape[x.shape.length - 1];
    if (!this.coef || this.coef.isDisposed || this.coef.shape[1] !== channels) {
      this.coef?.dispose();
      const zero = new Array<number>(channels).fill(0);
      this.coef = coefficients(zero, perChannel(this, "scale", this.scale, channels), perChannel(this, "offset", this.offset, channels));
    }
    return rescaleChannels(x, this.coef, -1);
  }

  static fromConfig(config: Record<string, unknown>): Rescaling {
    return new Rescaling(config.scale as number | number[], (config.offset as number | number[] | undefined) ?? 0, baseArgs(config));
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), scale: configNumbers(this.scale), offset: configNumbers(this.offset) };
  }

  override dispose(): void {
    super.dispose();
    this.coef?.dispose();
    this.coef = null;
  }
}

export interface NormalizationArgs extends LayerArgs {
  /**
   * The axis with separate statistics, counting the batch axis as 0 (Keras): -1 (default) the
   * channels of NHWC images; null one mean and variance over everything.
   */
  axis?: number | null;
  /** The mean: one value, or one per index of `axis`. Leave out and call adapt() instead. */
  mean?: number | number[];
  /** The variance, like mean. */
  variance?: number | number[];
  /** Undo the normalization instead: y = x * sqrt(variance) + mean. */
  invert?: boolean;
}

/** One batch for Normalization.adapt(): a tensor, or an object with the images in `x` (ImageDataset's batches). */
export type AdaptBatch = Tensor | { x: Tensor; y?: unknown };

/**
 * Keras' Normalization: y = (x - mean) / max(sqrt(variance), 1e-7) along `axis`. Give mean and
 * variance, or learn them from data with `await layer.adapt(data)` before training.
 */
export class Normalization extends Layer {
  static override readonly className = "Normalization";
  static override readonly options: OptionKeys<NormalizationArgs> = { ...LAYER_OPTIONS, axis: true, mean: true, variance: true, invert: true };
  readonly axis: number | null;
  readonly invert: boolean;
  /** The statistics, per index of the axis (or one value); null until given or adapted. */
  mean: number[] | null;
  variance: number[] | null;
  private coef: Tensor | null = null;

  constructor(args: NormalizationArgs = {}) {
    super(args);
    const axis = args.axis === undefined ? -1 : args.axis;
    if (axis !== null && (!Number.isInteger(axis) || axis === 0)) {
      throw new Error(`gpu-cnn: ${this.name}: axis must be a non-zero integer (0 is the batch axis; -1 the channels) or null, got ${JSON.stringify(args.axis)}`);
    }
    this.axis = axis;
    this.invert = args.invert ?? false;
    if ((args.mean === undefined) !== (args.variance === undefined)) {
      throw new Error(`gpu-cnn: ${this.name}: give both mean and variance, or neither (and call adapt())`);
    }
    this.mean = args.mean === undefined ? null : numbers(`${this.name}: mean`, args.mean);
    this.variance = args.variance === undefined ? null : numbers(`${this.name}: variance`, args.variance);
    if (this.variance && this.variance.some((v) => v < 0)) throw new Error(`gpu-cnn: ${this.name}: variance must not be negative, got ${JSON.stringify(args.variance)}`);
  }

  /** The axis of a batch of rank `rank` (with the batch axis), or null for all. */
  private resolvedAxis(rank: number): number | null {
    if (this.axis === null) return null;
    const a = this.axis < 0 ? rank + this.axis : this.axis;
    return a >= 1 && a < rank ? a : -1;
  }

  private channelsOf(shape: Shape): number {
    const a = this.resolvedAxis(shape.length);
    return a === null ? 1 : shape[a];
  }

  computeOutputShape(inputShape: Shape): number[] {
    const a = this.resolvedAxis(inputShape.length + 1);
    if (inputShape.length === 0 || a === -1) {
      this.reject(`axis ${this.axis} is not a feature axis of inputs ${batchShapeString(inputShape)} (axis 0 is the batch)`);
    }
    if (this.mean) {
      const channels = this.channelsOf([0, ...inputShape]);
      for (const [what, values] of [["mean", this.mean], ["variance", this.variance!]] as const) {
        if (values.length !== 1 && values.length !== channels) this.reject(`${what} has ${values.length} values, but inputs ${batchShapeString(inputShape)} have ${channels} along axis ${this.axis}`);
      }
    }
    return [...inputShape];
  }

  /**
   * Learns the mean and variance along `axis` from `data` (Keras' adapt): a tensor [N, ...], or
   * an iterable / async iterable of batches (tensors, or { x } objects such as an ImageDataset's
   * batches, whose tensors adapt disposes once read). The variance is the population variance.
   */
  async adapt(data: Tensor | Iterable<AdaptBatch> | AsyncIterable<AdaptBatch>): Promise<void> {
    let count = 0;
    let mean: Float64Array | null = null;
    let m2: Float64Array | null = null;
    let sampleShape: number[] | null = null;
    const add = async (x: Tensor): Promise<void> => {
      if (!(x instanceof Tensor)) throw new Error(`gpu-cnn: ${this.name}.adapt(): batches must be gpu-cnn Tensors (or { x: Tensor }), got ${typeof x}`);
      const a = this.resolvedAxis(x.shape.length);
      if (x.shape.length < 2 || a === -1) throw new Error(`gpu-cnn: ${this.name}.adapt(): axis ${this.axis} is not a feature axis of data ${shapeString(x.shape)}; data is [samples, ...]`);
      const sample = x.shape.slice(1);
      if (this.builtInputShape && sample.some((d, i) => d !== this.builtInputShape![i])) {
        throw new Error(`gpu-cnn: ${this.name}.adapt(): data ${shapeString(x.shape)} does not match the layer's inputs ${batchShapeString(this.builtInputShape)}`);
      }
      if (sampleShape && (sample.length !== sampleShape.length || sample.some((d, i) => d !== sampleShape![i]))) {
        throw new Error(`gpu-cnn: ${this.name}.adapt(): batch ${shapeString(x.shape)} does not match the earlier batches' samples ${shapeString(sampleShape)}`);
      }
      sampleShape = sample;
      const channels = a === null ? 1 : x.shape[a];
      const inner = a === null ? 1 : x.shape.slice(a + 1).reduce((p, d) => p * d, 1);
      const values = await x.data();
      // this batch's per-channel mean and sum of squared deviations, then Chan's combination
      const n = values.length / channels;
      if (n === 0) return;
      const bMean = new Float64Array(channels);
      for (let i = 0; i < values.length; i++) bMean[Math.floor(i / inner) % channels] += values[i];
      for (let k = 0; k < channels; k++) bMean[k] /= n;
      const bM2 = new Float64Array(channels);
      for (let i = 0; i < values.length; i++) {
        const k = Math.floor(i / inner) % channels;
        const d = values[i] - bMean[k];
        bM2[k] += d * d;
      }
      if (!mean || !m2) {
        mean = bMean;
        m2 = bM2;
      } else {
        for (let k = 0; k < channels; k++) {
          const delta = bMean[k] - mean[k];
          const total = count + n;
          mean[k] += (delta * n) / total;
          m2[k] += bM2[k] + (delta * delta * count * n) / total;
        }
      }
      count += n;
    };
    if (data instanceof Tensor) {
      await add(data);
    } else if (data && (Symbol.asyncIterator in Object(data) || Symbol.iterator in Object(data))) {
      for await (const batch of data as AsyncIterable<AdaptBatch>) {
        const x = batch instanceof Tensor ? batch : (batch as { x: Tensor })?.x;
        try {
          await add(x);
        } finally {
          if (!(batch instanceof Tensor)) {
            x?.dispose?.();
            const y = (batch as { y?: unknown }).y;
            if (y instanceof Tensor) y.dispose();
          }
        }
      }
    } else {
      throw new Error(`gpu-cnn: ${this.name}.adapt(): data must be a Tensor [samples, ...] or an (async) iterable of batches such as an ImageDataset`);
    }
    if (!mean || !m2 || count === 0) throw new Error(`gpu-cnn: ${this.name}.adapt(): the data holds no samples`);
    const finalMean: Float64Array = mean;
    const finalM2: Float64Array = m2;
    this.mean = Array.from(finalMean);
    this.variance = Array.from(finalM2, (v) => v / count);
    this.coef?.dispose();
    this.coef = null;
  }

  call(x: Tensor): Tensor {
    if (!this.mean || !this.variance) {
      throw new Error(`gpu-cnn: ${this.name} (Normalization) has no mean and variance: call \`await layer.adapt(data)\` before using it, or pass { mean, variance }`);
    }
    const a = this.resolvedAxis(x.shape.length);
    if (a === -1) throw new Error(`gpu-cnn: ${this.name} (Normalization): axis ${this.axis} is not a feature axis of inputs ${shapeString(x.shape)}`);
    const channels = this.channelsOf(x.shape);
    if (!this.coef || this.coef.isDisposed || this.coef.shape[1] !== channels) {
      this.coef?.dispose();
      const mean = perChannel(this, "mean", this.mean, channels);
      const std = perChannel(this, "variance", this.variance, channels).map((v) => Math.max(Math.sqrt(v), NORMALIZATION_EPSILON));
      const zero = new Array<number>(channels).fill(0);
      this.coef = this.invert
        ? coefficients(zero, std, mean)
        : coefficients(mean, std.map((s) => 1 / s), zero);
    }
    return rescaleChannels(x, this.coef, a);
  }

  static fromConfig(config: Record<string, unknown>): Normalization {
    let axis = config.axis as number | number[] | null | undefined;
    if (Array.isArray(axis)) {
      if (axis.length > 1) throw new Error(`gpu-cnn: Normalization: gpu-cnn normalizes along one axis, got axis ${JSON.stringify(axis)}`);
      axis = axis.length === 0 ? null : axis[0];
    }
    return new Normalization({
      ...baseArgs(config),
      axis,
      mean: (config.mean as number | number[] | null | undefined) ?? undefined,
      variance: (config.variance as number | number[] | null | undefined) ?? undefined,
      invert: (config.invert as boolean | undefined) ?? false,
    });
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      axis: this.axis === null ? null : [this.axis],
      invert: this.invert,
      mean: this.mean ? configNumbers(this.mean) : null,
      variance: this.variance ? configNumbers(this.variance) : null,
    };
  }

  override dispose(): void {
    super.dispose();
    this.coef?.dispose();
    this.coef = null;
  }
}

export interface ResizingArgs extends LayerArgs {
  /** "bilinear" (default) or "nearest", both with half-pixel centres (tf.image.resize). */
  interpolation?: ResizeInterpolation;
  /** Resize the largest centred window with the target aspect ratio, so images are not distorted. */
  cropToAspectRatio?: boolean;
}

/** Keras' Resizing: NHWC images to [height, width], on the GPU. */
export class Resizing extends Layer {
  static override readonly className = "Resizing";
  static override readonly options: OptionKeys<ResizingArgs> = { ...LAYER_OPTIONS, interpolation: true, cropToAspectRatio: true };
  readonly interpolation: ResizeInterpolation;
  readonly cropToAspectRatio: boolean;

  constructor(
    readonly height: number,
    readonly width: number,
    args: ResizingArgs = {},
  ) {
    super(args);
    if (!Number.isInteger(height) || !Number.isInteger(width) || height <= 0 || width <= 0) {
      throw new Error(`gpu-cnn: ${this.name}: height and width must be positive integers, got ${height} and ${width}`);
    }
    this.interpolation = args.interpolation ?? "bilinear";
    if (!RESIZE_INTERPOLATIONS.includes(this.interpolation)) {
      throw new Error(`gpu-cnn: ${this.name}: interpolation ${JSON.stringify(args.interpolation)} is not supported; use "bilinear" or "nearest"`);
    }
    this.cropToAspectRatio = args.cropToAspectRatio ?? false;
  }

  computeOutputShape(inputShape: Shape): number[] {
    if (inputShape.length !== 3) this.reject(`expects images [height, width, channels] per sample (NHWC), got inputs ${batchShapeString(inputShape)}`);
    return [this.height, this.width, inputShape[2]];
  }

  call(x: Tensor): Tensor {
    if (x.shape.length === 4 && x.shape[1] === this.height && x.shape[2] === this.width) return x; // already that size: nothing to crop or resample
    return resize(x, this.height, this.width, { interpolation: this.interpolation, cropToAspectRatio: this.cropToAspectRatio });
  }

  static fromConfig(config: Record<string, unknown>): Resizing {
    return new Resizing(config.height as number, config.width as number, {
      ...baseArgs(config),
      interpolation: config.interpolation as ResizeInterpolation | undefined,
      cropToAspectRatio: config.cropToAspectRatio as boolean | undefined,
    });
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      height: this.height,
      width: this.width,
      interpolation: this.interpolation,
      cropToAspectRatio: this.cropToAspectRatio,
      dataFormat: "channelsLast",
    };
  }
}
