// Sequential, as Keras: layers added one after another (shapes checked at add()), compile, then
// fit / evaluate / predict / trainOnBatch. These own every tensor they make: each step runs in
// tidy(), weights and optimizer state are kept. A training step is recorded without waiting on
// the GPU and ends with one small asynchronous read of [loss, accuracy, status]; that read is
// awaited only after the next step has been submitted, so the GPU always has work queued. fit
// takes arrays or a dataset (Keras' model.fit(ds)); both go through the same queued-step loop.
import { backward, noGrad } from "./autograd.js";
import { Callback, type CallbackHooks, type Logs } from "./callbacks.js";
import { gpu, initGpu } from "./device.js";
import { checkDatasetClasses, datasetBatches } from "./fit-dataset.js";
import { batchShapeString, LayerShapeError, type Layer } from "./layers/layer.js";
import { isBatchSource, type BatchSource } from "./metrics.js";
import { accuracy } from "./ops/accuracy.js";
import { guard } from "./ops/guard.js";
import { categoricalCrossentropyFromProbs, softmaxCrossEntropy } from "./ops/softmaxCrossEntropy.js";
import { checkOptions, type OptionKeys } from "./options.js";
import { getOptimizer, type Optimizer } from "./optimizers.js";
import { defaultVerbose, ProgressBar } from "./progress.js";
import { Random, randomSeed } from "./random.js";
import { emptyTensor, keep, shapeString, Tensor, tidy } from "./tensor.js";
import { saveModel } from "./io/save.js";
import type { SaveHandler, SaveOptions, SaveResult } from "./io/types.js";

export interface SequentialArgs {
  layers?: Layer[];
  name?: string;
  /**
   * Seeds the initial weights and the batch order of every fit: the same seed gives the same
   * weights and loss curve run after run on the same device. Random when left out.
   */
  seed?: number;
}

export interface CompileArgs {
  /** "adam", "sgd", or an Adam / SGD instance. */
  optimizer: string | Optimizer;
  /** "categoricalCrossentropy" (Keras' "categorical_crossentropy" too). */
  loss: string;
  /** ["accuracy"] (or ["acc"]) adds accuracy to the logs. */
  metrics?: string[];
}

export interface FitArgs {
  epochs?: number;
  /** Samples per step, for x, y (default 32); a dataset brings its own batches. */
  batchSize?: number;
  /**
   * Evaluated at the end of each epoch (val_loss, val_accuracy): [x, y] tensors, or a dataset
   * (its batches in their stored order).
   */
  validationData?: [Tensor, Tensor] | BatchSource;
  /** Holds out this LAST fraction of the samples (taken before shuffling, as Keras); x, y only. */
  validationSplit?: number;
  /**
   * Shuffle the training samples every epoch (seeded by the model's seed). Default true; for a
   * dataset, the dataset's own setting.
   */
  shuffle?: boolean;
  /** 0 silent; 1 progress bar (default in a terminal); 2 one line per epoch. */
  verbose?: number;
  callbacks?: CallbackHooks | CallbackHooks[];
  /** The epoch to start at (resuming training). */
  initialEpoch?: number;
}

export interface EvaluateArgs {
  batchSize?: number;
}

const SEQUENTIAL_OPTIONS: OptionKeys<SequentialArgs> = { layers: true, name: true, seed: true };
const COMPILE_OPTIONS: OptionKeys<CompileArgs> = { optimizer: true, loss: true, metrics: true };
const FIT_OPTIONS: OptionKeys<FitArgs> = { epochs: true, batchSize: true, validationData: true, validationSplit: true, shuffle: true, verbose: true, callbacks: true, initialEpoch: true };
const EVALUATE_OPTIONS: OptionKeys<EvaluateArgs> = { batchSize: true };

/** What fit returns: per-epoch logs, as Keras' History. */
export class History {
  readonly epoch: number[] = [];
  readonly history: Record<string, number[]> = {};
  constructor(readonly params: { epochs: number; steps: number; samples: number; batchSize: number }) {}
  record(epoch: number, logs: Logs): void {
    this.epoch.push(epoch);
    for (const [k, v] of Object.entries(logs)) (this.history[k] ??= []).push(v);
  }
}

/** Thrown when the loss stops being finite; the weights are those from before that batch. */
export class NonFiniteLossError extends Error {
  constructor(
    readonly epoch: number,
    readonly batch: number,
    readonly batches: number,
    readonly epochs: number,
    readonly loss: number,
  ) {
    super(
      `gpu-cnn: fit(): the loss became ${loss} at epoch ${epoch + 1}/${epochs}, batch ${batch + 1}/${batches}; ` +
        "training stopped and the weights are those from before that batch. Lower the learning rate, or check the data and labels.",
    );
  }
}

interface Compiled {
  optimizer: Optimizer;
  lossName: string;
  /** The key accuracy goes under in the logs ("accuracy" or "acc"), or null. */
  accuracyKey: string | null;
}

/** Samples on the CPU, row-major: what batches are cut from. */
interface Samples {
  x: Float32Array;
  y: Float32Array;
  count: number;
}

/**
 * One batch for a training or evaluation step. tensors() is called inside the step's tidy(), so
 * tensors it makes are freed with the step; dispose() frees those it hands over (a dataset's).
 */
export interface StepBatch {
  size: number;
  tensors(): [Tensor, Tensor];
  dispose?(): void;
}

/** What fit's loop trains on: arrays or a dataset. */
interface TrainPlan {
  /** Steps per epoch; 0 when not known before the first epoch (a dataset without numBatches). */
  steps: number;
  samples: number;
  batchSize: number;
  /** One epoch's batches, in training order. */
  epoch(): Iterable<StepBatch> | AsyncIterable<StepBatch>;
  /** The validation loss and accuracy, or null without validation data. */
  validate: (() => Promise<{ loss: number; accuracy: number }>) | null;
}

/** One step's [loss, accuracy, status] on its way back from the GPU. */
interface PendingStep {
  batch: number;
  size: number;
  values: Promise<Float32Array>;
  iterationsBefore: number;
}

const LOSSES = ["categoricalCrossentropy", "categorical_crossentropy"];
const ACCURACY = ["accuracy", "acc", "categoricalAccuracy", "categorical_accuracy"];

let modelCount = 0;

function checkPositiveInt(what: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) throw new Error(`gpu-cnn: ${what} must be a positive integer, got ${value}`);
}

/** Rows `indices` (or rows [start, start + count)) of a row-major array, as a new array. */
function gatherRows(src: Float32Array, rowSize: number, indices: ArrayLike<number>): Float32Array {
  const out = new Float32Array(indices.length * rowSize);
  for (let i = 0; i < indices.length; i++) {
    const r = indices[i];
    out.set(src.subarray(r * rowSize, (r + 1) * rowSize), i * rowSize);
  }
  return out;
}

/** A copy of a tensor on the GPU (getWeights). */
function copyTensor(t: Tensor): Tensor {
  const out = emptyTensor(t.shape, `copy of ${t.name}`);
  out.name = t.name;
  if (t.size > 0) gpu().copy(t.buffer, 0, out.buffer, 0, t.size * 4);
  return out;
}

/** [loss, accuracy, status] in one small tensor, so one read brings all three back. */
function pack(values: Tensor[]): Tensor {
  const out = emptyTensor([values.length], "step values");
  values.forEach((v, i) => gpu().copy(v.buffer, 0, out.buffer, i * 4, 4));
  return out;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

export class Sequential {
  readonly name: string;
  readonly layers: Layer[] = [];
  /** The seed of initial weights and batch order (given, or drawn at construction). */
  readonly seed: number;
  /** Set to true (e.g. by a callback) to stop fit after the current epoch. */
  stopTraining = false;
  private fitting = false;
  /** The name of each output class (label i is classNames[i]); saved with the model. */
  classNames: string[] | null = null;
  private readonly weightRandom: Random;
  private readonly dataRandom: Random;
  private shapes: number[][] = [];
  private compiled: Compiled | null = null;

  constructor(args: SequentialArgs = {}) {
    checkOptions("new Sequential()", args, SEQUENTIAL_OPTIONS);
    this.name = args.name ?? `sequential_${++modelCount}`;
    this.seed = args.seed ?? randomSeed();
    const root = new Random(this.seed);
    this.weightRandom = root.fork();
    this.dataRandom = root.fork();
    for (const layer of args.layers ?? []) this.add(layer);
  }

  /** What compile() was given, as saved in model.json's training config; null before compile. */
  get compileConfig(): { loss: string; metrics: string[]; optimizer: Optimizer } | null {
    const c = this.compiled;
    return c && { loss: c.lossName, metrics: c.accuracyKey ? [c.accuracyKey] : [], optimizer: c.optimizer };
  }

  /**
   * Saves in TensorFlow.js' layers format: to a folder in Node (written under a temporary name,
   * then renamed), "downloads://name" in a browser, or any TF.js-style save handler.
   */
  save(target: string | SaveHandler, options?: SaveOptions): Promise<SaveResult> {
    return saveModel(this, target, options);
  }

  /** The per-sample input shape, once the first layer is added. */
  get inputShape(): number[] | null {
    return this.layers[0]?.inputShape ?? null;
  }

  /** The per-sample output shape of the last layer. */
  get outputShape(): number[] | null {
    return this.shapes[this.shapes.length - 1] ?? null;
  }

  /**
   * Appends a layer and builds it for the previous layer's output, so a layer that cannot take
   * that shape fails here, naming both layers and the shapes.
   */
  add(layer: Layer): void {
    if (this.layers.includes(layer)) throw new Error(`gpu-cnn: Sequential.add(): ${layer.name} is already in ${this.name}`);
    const prev = this.layers[this.layers.length - 1];
    let inputShape: number[];
    if (!prev) {
      if (!layer.inputShape) {
        throw new Error(
          `gpu-cnn: Sequential.add(): the first layer, ${layer.name} (${layer.className}), needs an inputShape (per sample, no batch axis), ` +
            `e.g. new Conv2D(32, [3, 3], { inputShape: [28, 28, 1] }) or new Dense(10, { inputShape: [784] })`,
        );
      }
      inputShape = layer.inputShape;
    } else {
      inputShape = this.outputShape!;
      const declared = layer.inputShape;
      if (declared && (declared.length !== inputShape.length || declared.some((d, i) => d !== inputShape[i]))) {
        throw new Error(
          `gpu-cnn: Sequential.add(): ${layer.name} (${layer.className}) declares inputShape ${batchShapeString(declared)}, ` +
            `but follows ${prev.name} (${prev.className}) whose output is ${batchShapeString(inputShape)}`,
        );
      }
    }
    if (layer.built && (layer.builtInputShape!.length !== inputShape.length || layer.builtInputShape!.some((d, i) => d !== inputShape[i]))) {
      throw new Error(`gpu-cnn: Sequential.add(): ${layer.name} (${layer.className}) was built for ${batchShapeString(layer.builtInputShape!)}, not ${batchShapeString(inputShape)}`);
    }
    let out: number[];
    try {
      layer.initRandom ??= this.weightRandom.fork();
      out = layer.ensureBuilt(inputShape);
    } catch (e) {
      if (!(e instanceof LayerShapeError)) throw e;
      const where = prev
        ? `cannot follow ${prev.name} (${prev.className}), whose output is ${batchShapeString(inputShape)}`
        : `cannot take its inputShape ${batchShapeString(inputShape)}`;
      throw new Error(`gpu-cnn: Sequential.add(): ${layer.name} (${layer.className}) ${where}: ${e.reason}`);
    }
    this.layers.push(layer);
    this.shapes.push(out);
  }

  compile(args: CompileArgs): void {
    if (!args || typeof args !== "object") throw new Error("gpu-cnn: compile() takes { optimizer, loss, metrics }");
    checkOptions("compile()", args, COMPILE_OPTIONS);
    const last = this.layers[this.layers.length - 1];
    if (!last) throw new Error("gpu-cnn: compile(): add layers to the model first");
    if (!LOSSES.includes(args.loss)) {
      throw new Error(`gpu-cnn: compile(): unknown loss ${JSON.stringify(args.loss)}; use "categoricalCrossentropy"`);
    }
    // Cross-entropy trains through softmax fused with the loss, on the last layer's logits.
    if (last.activation !== "softmax" || this.outputShape!.length !== 1) {
      throw new Error(
        `gpu-cnn: compile(): categoricalCrossentropy needs class probabilities: the last layer ${last.name} (${last.className}) ` +
          `outputs ${batchShapeString(this.outputShape!)} with activation "${last.activation ?? "none"}"; end with Dense(numClasses, { activation: "softmax" })`,
      );
    }
    if (this.outputShape![0] < 2) {
      throw new Error(
        `gpu-cnn: compile(): the last layer ${last.name} (${last.className}) outputs 1 class: its softmax is always 1, so the loss is always 0 ` +
          "and nothing is learned; a classifier needs at least 2 classes, e.g. Dense(2, { activation: \"softmax\" }) for yes/no",
      );
    }
    let accuracyKey: string | null = null;
    for (const m of args.metrics ?? []) {
      if (!ACCURACY.includes(m)) throw new Error(`gpu-cnn: compile(): unknown metric ${JSON.stringify(m)}; use "accuracy"`);
      accuracyKey = m === "acc" ? "acc" : "accuracy";
    }
    const optimizer = getOptimizer(args.optimizer);
    if (this.compiled && this.compiled.optimizer !== optimizer) this.compiled.optimizer.dispose(this.weightTensors);
    this.compiled = { optimizer, lossName: args.loss, accuracyKey };
  }

  get optimizer(): Optimizer | null {
    return this.compiled?.optimizer ?? null;
  }

  /** Every weight tensor, in Keras order (per layer: kernel, then bias). */
  private get weightTensors(): Tensor[] {
    return this.layers.flatMap((l) => l.weights.map((w) => w.tensor));
  }

  private get trainableWeights(): Tensor[] {
    return this.layers.flatMap((l) => l.trainableWeights);
  }

  /** The layers in order; with `logits`, the last layer's softmax is left to the loss. */
  private forward(x: Tensor, training: boolean, logits = false): Tensor {
    let h = x;
    const last = this.layers[this.layers.length - 1];
    for (const layer of this.layers) h = layer.call(h, { training, logits: logits && layer === last });
    return h;
  }

  private requireCompiled(op: string): Compiled {
    if (!this.compiled) {
      throw new Error(`gpu-cnn: ${op}(): compile the model first, e.g. model.compile({ optimizer: "adam", loss: "categoricalCrossentropy", metrics: ["accuracy"] })`);
    }
    return this.compiled;
  }

  /** Checks x (and y) against the model before any GPU work; returns the sample count. */
  private checkShapes(op: string, x: Tensor, y?: Tensor): number {
    const input = this.inputShape;
    if (!input) throw new Error(`gpu-cnn: ${op}(): the model has no layers`);
    if (!(x instanceof Tensor)) throw new Error(`gpu-cnn: ${op}(): x must be a gpu-cnn Tensor (made with tensor(values, shape))`);
    const sample = x.shape.slice(1);
    if (x.shape.length !== input.length + 1 || sample.some((d, i) => d !== input[i])) {
      throw new Error(`gpu-cnn: ${op}(): x ${shapeString(x.shape)} does not match the model's input ${batchShapeString(input)}; expected [samples, ${input.join(", ")}]`);
    }
    const count = x.shape[0];
    if (count === 0) throw new Error(`gpu-cnn: ${op}(): x holds no samples`);
    if (y === undefined) return count;
    if (!(y instanceof Tensor)) throw new Error(`gpu-cnn: ${op}(): y must be a gpu-cnn Tensor of one-hot labels (see oneHot())`);
    if (y.shape[0] !== count) throw new Error(`gpu-cnn: ${op}(): x has ${count} samples but y has ${y.shape[0] ?? 0}; they must match`);
    const classes = this.outputShape![0];
    if (y.shape.length !== 2 || y.shape[1] !== classes) {
      throw new Error(
        `gpu-cnn: ${op}(): labels y ${shapeString(y.shape)} must be one-hot [samples, ${classes}]: the last layer ${this.layers[this.layers.length - 1].name} ` +
          `outputs ${classes} classes. Make them with oneHot(labels, ${classes}).`,
      );
    }
    return count;
  }

  /** The values of x and y on the CPU, checked for NaN and Infinity. */
  private async readSamples(op: string, x: Tensor, y: Tensor | null): Promise<Samples> {
    const xs = await x.data();
    const rowSize = xs.length / x.shape[0];
    for (let i = 0; i < xs.length; i++) {
      if (!Number.isFinite(xs[i])) {
        throw new Error(`gpu-cnn: ${op}(): x holds ${xs[i]} at sample ${Math.floor(i / rowSize)} (element ${i % rowSize} of it); inputs must be finite numbers`);
      }
    }
    const ys = y ? await y.data() : new Float32Array(0);
    for (let i = 0; i < ys.length; i++) {
      if (!Number.isFinite(ys[i])) throw new Error(`gpu-cnn: ${op}(): labels y hold ${ys[i]} at sample ${Math.floor(i / y!.shape[1])}; labels must be finite numbers`);
    }
    return { x: xs, y: ys, count: x.shape[0] };
  }

  private batchTensors(samples: Samples, rows: number[]): [Tensor, Tensor] {
    const xRow = samples.x.length / samples.count;
    const yRow = samples.y.length / samples.count;
    const xb = new Tensor([rows.length, ...this.inputShape!], gatherRows(samples.x, xRow, rows), "x batch");
    const yb = new Tensor([rows.length, yRow], gatherRows(samples.y, yRow, rows), "y batch");
    return [xb, yb];
  }

  /** Batches of `batchSize` rows of `samples`, in `order` (default: stored order). */
  private *sampleBatches(samples: Samples, batchSize: number, order?: number[]): Generator<StepBatch> {
    for (let start = 0; start < samples.count; start += batchSize) {
      const rows = order ? order.slice(start, start + batchSize) : range(Math.min(batchSize, samples.count - start)).map((i) => start + i);
      yield { size: rows.length, tensors: () => this.batchTensors(samples, rows) };
    }
  }

  /** A step's x and y, uploaded before the step opens the command encoder: a direct queue write, no staging copy. */
  private static stepTensors(batch: StepBatch): [Tensor, Tensor] {
    const [xb, yb] = batch.tensors();
    void xb.buffer;
    void yb.buffer;
    return [xb, yb];
  }

  /** One training step, recorded (not awaited): returns [loss, accuracy, status]. */
  private trainStep(xb: Tensor, yb: Tensor, status: Tensor): Tensor {
    const { optimizer } = this.compiled!;
    return tidy(() => {
      const logits = this.forward(xb, true, true);
      const loss = softmaxCrossEntropy(logits, yb);
      guard(loss, status);
      const acc = noGrad(() => accuracy(logits, yb));
      const params = this.trainableWeights;
      const grads = backward(loss);
      optimizer.applyGradients(
        params.map((p) => {
          const g = grads.get(p);
          if (!g) throw new Error(`gpu-cnn: fit(): ${p.name} got no gradient`);
          return [p, g];
        }),
        status,
      );
      for (const p of params) p.grad = null;
      return pack([loss, acc, status]);
    });
  }

  /** One evaluation step: [loss, accuracy] with Keras' loss on the probabilities. */
  private evaluateStep(xb: Tensor, yb: Tensor): Tensor {
    return tidy(() =>
      noGrad(() => {
        const probs = this.forward(xb, false);
        return pack([categoricalCrossentropyFromProbs(probs, yb), accuracy(probs, yb)]);
      }),
    );
  }

  /** Reads a step's values back; the tensor can be freed right away (the copy is recorded). */
  private static readBack(values: Tensor): Promise<Float32Array> {
    const read = values.data();
    values.dispose();
    read.catch(() => {}); // awaited later; if training stops first, its failure is not unhandled
    return read;
  }

  /**
   * Trains for `epochs` epochs, on x with one-hot labels y, or on a dataset of labelled batches
   * (Keras' model.fit(dataset): e.g. imageDatasetFromDirectory's, labels one-hot or class
   * indices). Returns a History with loss (and accuracy, val_loss, val_accuracy) per epoch.
   * Throws if the loss stops being finite, naming the epoch and batch; the weights are then
   * those from before that batch.
   */
  async fit(x: Tensor, y: Tensor, args?: FitArgs): Promise<History>;
  async fit(dataset: BatchSource, args?: FitArgs): Promise<History>;
  async fit(data: Tensor | BatchSource, yOrArgs?: Tensor | FitArgs, maybeArgs?: FitArgs): Promise<History> {
    const compiled = this.requireCompiled("fit");
    const fromDataset = isBatchSource(data);
    if (fromDataset && yOrArgs instanceof Tensor) throw new Error("gpu-cnn: fit(): a dataset brings its own labels; call fit(dataset, args) without y");
    const args = (fromDataset ? (yOrArgs as FitArgs | undefined) : maybeArgs) ?? {};
    checkOptions("fit()", args, FIT_OPTIONS);
    const epochs = args.epochs ?? 1;
    const initialEpoch = args.initialEpoch ?? 0;
    if (!fromDataset) checkPositiveInt("fit(): batchSize", args.batchSize ?? 32);
    checkPositiveInt("fit(): epochs", epochs);
    if (!Number.isInteger(initialEpoch) || initialEpoch < 0) throw new Error(`gpu-cnn: fit(): initialEpoch must be an integer >= 0, got ${initialEpoch}`);
    const validation = args.validationData;
    if (validation !== undefined && !isBatchSource(validation) && !(Array.isArray(validation) && validation.length === 2)) {
      throw new Error("gpu-cnn: fit(): validationData must be [x, y] tensors or a dataset");
    }
    // two fits at once would interleave their steps and shuffles on the same weights (tf.js refuses too)
    if (this.fitting) throw new Error("gpu-cnn: fit(): this model is already training (an earlier fit() has not finished); await it before starting another");
    this.fitting = true;
    try {
      const plan = fromDataset ? await this.datasetPlan(data, args) : await this.arrayPlan(data, yOrArgs as Tensor, args);
      return await this.trainEpochs(compiled, plan, args, epochs, initialEpoch);
    } finally {
      this.fitting = false;
    }
  }

  /** fit(x, y): the samples read once to the CPU, split, and cut into (shuffled) batches each epoch. */
  private async arrayPlan(x: Tensor, y: Tensor, args: FitArgs): Promise<TrainPlan> {
    const batchSize = args.batchSize ?? 32;
    const split = args.validationSplit ?? 0;
    if (!(split >= 0 && split < 1)) throw new Error(`gpu-cnn: fit(): validationSplit must be in [0, 1), got ${split}`);
    const total = this.checkShapes("fit", x, y);
    const validationData = args.validationData;
    this.checkValidationData(validationData);
    await initGpu();
    const all = await this.readSamples("fit", x, y);
    let train = all;
    let validate: TrainPlan["validate"] = null;
    if (validationData) {
      validate = await this.validation(validationData, batchSize);
    } else if (split > 0) {
      // Keras: the last fraction, before any shuffling
      const trainCount = Math.floor(total * (1 - split));
      if (trainCount === 0 || trainCount === total) {
        throw new Error(`gpu-cnn: fit(): validationSplit ${split} of ${total} samples leaves ${trainCount} to train and ${total - trainCount} to validate; both need at least one`);
      }
      const xRow = all.x.length / total;
      const yRow = all.y.length / total;
      train = { x: all.x.subarray(0, trainCount * xRow), y: all.y.subarray(0, trainCount * yRow), count: trainCount };
      const held = { x: all.x.subarray(trainCount * xRow), y: all.y.subarray(trainCount * yRow), count: total - trainCount };
      validate = () => this.evaluateBatches(this.sampleBatches(held, batchSize));
    }
    const shuffle = args.shuffle ?? true;
    return {
      steps: Math.ceil(train.count / batchSize),
      samples: train.count,
      batchSize,
      epoch: () => {
        const order = range(train.count);
        if (shuffle) this.dataRandom.shuffle(order);
        return this.sampleBatches(train, batchSize, order);
      },
      validate,
    };
  }

  /** fit(dataset): the dataset's batches as they come (it prepares the next while a step runs). */
  private async datasetPlan(dataset: BatchSource, args: FitArgs): Promise<TrainPlan> {
    if (args.batchSize !== undefined) throw new Error("gpu-cnn: fit(): batchSize does not apply to a dataset, which has its own batches (set batchSize when making the dataset)");
    if (args.validationSplit !== undefined) {
      throw new Error("gpu-cnn: fit(): validationSplit does not apply to a dataset; pass a validation dataset as validationData (e.g. imageDatasetFromDirectory with validationSplit and subset)");
    }
    checkDatasetClasses("fit", this, dataset, "the dataset");
    this.checkValidationData(args.validationData);
    await initGpu();
    const options = args.shuffle === undefined ? {} : { shuffle: args.shuffle };
    return {
      steps: dataset.numBatches ?? 0,
      samples: dataset.size ?? 0,
      batchSize: dataset.batchSize ?? 0,
      epoch: () => datasetBatches("fit", this, dataset, "the dataset", options),
      // [x, y] validation is evaluated in batches of 32, as evaluate() does by default
      validate: args.validationData ? await this.validation(args.validationData, 32) : null,
    };
  }

  private checkValidationData(data: FitArgs["validationData"]): void {
    if (isBatchSource(data)) checkDatasetClasses("fit", this, data, "validationData");
    else if (data) this.checkShapes("fit() validationData", data[0], data[1]);
  }

  /** Evaluates validation data: [x, y] (read to the CPU now) or a dataset (its stored order). */
  private async validation(data: [Tensor, Tensor] | BatchSource, batchSize: number): Promise<NonNullable<TrainPlan["validate"]>> {
    if (isBatchSource(data)) {
      return () => this.evaluateBatches(datasetBatches("fit", this, data, "validationData", { shuffle: false }), "fit(): validationData");
    }
    const samples = await this.readSamples("fit() validationData", data[0], data[1]);
    return () => this.evaluateBatches(this.sampleBatches(samples, batchSize));
  }

  /** fit's loop: each step is recorded, then the previous step's values are awaited, so one step is always queued. */
  private async trainEpochs(compiled: Compiled, plan: TrainPlan, args: FitArgs, epochs: number, initialEpoch: number): Promise<History> {
    let steps = plan.steps;
    const history = new History({ epochs, steps, samples: plan.samples, batchSize: plan.batchSize });
    const callbacks = args.callbacks === undefined ? [] : Array.isArray(args.callbacks) ? args.callbacks : [args.callbacks];
    for (const cb of callbacks) if (cb instanceof Callback) cb.setModel(this);
    const call = async (hook: keyof CallbackHooks, ...params: unknown[]): Promise<void> => {
      for (const cb of callbacks) {
        const f = cb[hook] as ((...a: unknown[]) => void | Promise<void>) | undefined;
        if (f) await f.apply(cb, params);
      }
    };
    const wantsBatchBegin = callbacks.some((cb) => cb.onBatchBegin);
    const verbose = args.verbose ?? defaultVerbose();
    const accKey = compiled.accuracyKey;
    const status = keep(new Tensor([1], new Float32Array(1), "status"));
    this.stopTraining = false;
    try {
      await call("onTrainBegin", {});
      for (let epoch = initialEpoch; epoch < epochs; epoch++) {
        await call("onEpochBegin", epoch, {});
        // made per epoch: a dataset's step count is known after its first epoch
        const progress = new ProgressBar(verbose, epochs, steps);
        progress.epochBegin(epoch);
        let lossSum = 0;
        let accSum = 0;
        let seen = 0;
        const pending: PendingStep[] = [];
        const finish = async (step: PendingStep): Promise<void> => {
          const [loss, acc, failed] = await step.values;
          if (failed !== 0) {
            compiled.optimizer.iterations = step.iterationsBefore; // the skipped updates did not happen
            await Promise.allSettled(pending.map((p) => p.values));
            throw new NonFiniteLossError(epoch, step.batch, Math.max(steps, step.batch + 1), epochs, loss);
          }
          lossSum += loss * step.size;
          accSum += acc * step.size;
          seen += step.size;
          const running: Logs = { loss: lossSum / seen };
          if (accKey) running[accKey] = accSum / seen;
          progress.update(step.batch + 1, seen, running);
          const batchLogs: Logs = { batch: step.batch, size: step.size, loss };
          if (accKey) batchLogs[accKey] = acc;
          await call("onBatchEnd", step.batch, batchLogs);
        };
        let batch = 0;
        for await (const b of plan.epoch()) {
          try {
            if (wantsBatchBegin) await call("onBatchBegin", batch, { batch });
            const iterationsBefore = compiled.optimizer.iterations;
            const values = tidy(() => {
              const [xb, yb] = Sequential.stepTensors(b);
              return this.trainStep(xb, yb, status);
            });
            pending.push({ batch, size: b.size, values: Sequential.readBack(values), iterationsBefore });
          } finally {
            b.dispose?.();
          }
          batch++;
          // keep one step queued on the GPU while the previous one's values come back
          if (pending.length > 1) await finish(pending.shift()!);
          // a callback may stop training mid-epoch (the step already queued still runs)
          if (this.stopTraining) break;
        }
        while (pending.length) await finish(pending.shift()!);
        if (seen === 0) throw new Error("gpu-cnn: fit(): the dataset yielded no batches");
        if (!this.stopTraining) steps = batch; // a dataset's real count (skipped bad images can shorten an epoch)
        const logs: Logs = { loss: lossSum / seen };
        if (accKey) logs[accKey] = accSum / seen;
        if (plan.validate) {
          const v = await plan.validate();
          logs.val_loss = v.loss;
          if (accKey) logs[`val_${accKey}`] = v.accuracy;
        }
        history.record(epoch, logs);
        progress.epochEnd(epoch, seen, logs, batch);
        await call("onEpochEnd", epoch, logs);
        if (this.stopTraining) break;
      }
      await call("onTrainEnd", {});
    } finally {
      status.dispose();
    }
    return history;
  }

  /** Keras' loss and accuracy over batches (means weighted by batch size), one step queued ahead. */
  private async evaluateBatches(batches: Iterable<StepBatch> | AsyncIterable<StepBatch>, what = "evaluate(): the data"): Promise<{ loss: number; accuracy: number }> {
    let lossSum = 0;
    let accSum = 0;
    let seen = 0;
    const pending: { size: number; values: Promise<Float32Array> }[] = [];
    const finish = async (step: (typeof pending)[number]): Promise<void> => {
      const [loss, acc] = await step.values;
      lossSum += loss * step.size;
      accSum += acc * step.size;
      seen += step.size;
    };
    for await (const b of batches) {
      try {
        const values = tidy(() => {
          const [xb, yb] = Sequential.stepTensors(b);
          return this.evaluateStep(xb, yb);
        });
        pending.push({ size: b.size, values: Sequential.readBack(values) });
      } finally {
        b.dispose?.();
      }
      if (pending.length > 1) await finish(pending.shift()!);
    }
    while (pending.length) await finish(pending.shift()!);
    if (seen === 0) throw new Error(`gpu-cnn: ${what} yielded no samples`);
    return { loss: lossSum / seen, accuracy: accSum / seen };
  }

  /**
   * Keras' loss (categorical cross-entropy of the predicted probabilities, clipped as Keras
   * does) and accuracy over x, y, as numbers.
   */
  async evaluate(x: Tensor, y: Tensor, args?: EvaluateArgs): Promise<Logs>;
  /** The same over a dataset (e.g. imageDatasetFromDirectory's), in its stored order, as Keras' `model.evaluate(ds)`. */
  async evaluate(dataset: BatchSource): Promise<Logs>;
  async evaluate(data: Tensor | BatchSource, y?: Tensor | EvaluateArgs, maybeArgs: EvaluateArgs = {}): Promise<Logs> {
    const compiled = this.requireCompiled("evaluate");
    if (isBatchSource(data)) {
      if (y !== undefined) throw new Error("gpu-cnn: evaluate(): a dataset brings its own labels and batches; call evaluate(dataset) alone");
      checkDatasetClasses("evaluate", this, data, "the dataset");
      await initGpu();
      const result = await this.evaluateBatches(datasetBatches("evaluate", this, data, "the dataset", { shuffle: false }), "evaluate(): the dataset");
      const logs: Logs = { loss: result.loss };
      if (compiled.accuracyKey) logs[compiled.accuracyKey] = result.accuracy;
      return logs;
    }
    if (!(y instanceof Tensor)) throw new Error("gpu-cnn: evaluate(): expects (x, y) tensors or a dataset");
    const x = data;
    const args = maybeArgs;
    checkOptions("evaluate()", args, EVALUATE_OPTIONS);
    const batchSize = args.batchSize ?? 32;
    checkPositiveInt("evaluate(): batchSize", batchSize);
    this.checkShapes("evaluate", x, y);
    await initGpu();
    const result = await this.evaluateBatches(this.sampleBatches(await this.readSamples("evaluate", x, y), batchSize));
    const logs: Logs = { loss: result.loss };
    if (compiled.accuracyKey) logs[compiled.accuracyKey] = result.accuracy;
    return logs;
  }

  /** The model's outputs for x (class probabilities after a softmax layer), as a new tensor the caller owns. */
  async predict(x: Tensor, args: EvaluateArgs = {}): Promise<Tensor> {
    checkOptions("predict()", args, EVALUATE_OPTIONS);
    const batchSize = args.batchSize ?? 32;
    checkPositiveInt("predict(): batchSize", batchSize);
    const count = this.checkShapes("predict", x);
    await initGpu();
    const samples = await this.readSamples("predict", x, null);
    const outShape = this.outputShape!;
    const rowBytes = outShape.reduce((a, b) => a * b, 1) * 4;
    const out = emptyTensor([count, ...outShape], "predict output");
    const pending: Promise<unknown>[] = [];
    try {
      for (let start = 0; start < count; start += batchSize) {
        const rows = range(Math.min(batchSize, count - start)).map((i) => start + i);
        tidy(() =>
          noGrad(() => {
            const xb = new Tensor([rows.length, ...this.inputShape!], gatherRows(samples.x, samples.x.length / count, rows), "x batch");
            void xb.buffer;
            const y = this.forward(xb, false);
            gpu().copy(y.buffer, 0, out.buffer, start * rowBytes, rows.length * rowBytes);
          }),
        );
        // a tiny read per batch keeps at most one batch queued ahead of the GPU
        const read = gpu().read(out.buffer, start * rowBytes, 4);
        read.catch(() => {}); // awaited below
        pending.push(read);
        if (pending.length > 1) await pending.shift();
      }
      await Promise.all(pending);
    } catch (e) {
      out.dispose();
      throw e;
    }
    return out;
  }

  /**
   * One training step on x, y as one batch; returns its loss (and accuracy) before the update.
   * x and y are used where they are (no copy, no read-back of x: NaN in x shows as a non-finite
   * loss, which leaves the weights unchanged and throws).
   */
  async trainOnBatch(x: Tensor, y: Tensor): Promise<Logs> {
    const compiled = this.requireCompiled("trainOnBatch");
    this.checkShapes("trainOnBatch", x, y);
    await initGpu();
    const status = new Tensor([1], new Float32Array(1), "status");
    try {
      const iterationsBefore = compiled.optimizer.iterations;
      const values = this.trainStep(x, y, status);
      const [loss, acc, failed] = await Sequential.readBack(values);
      if (failed !== 0) {
        compiled.optimizer.iterations = iterationsBefore;
        throw new Error(`gpu-cnn: trainOnBatch(): the loss is ${loss}; the weights were left as they were. Lower the learning rate, or check the data and labels.`);
      }
      const logs: Logs = { loss };
      if (compiled.accuracyKey) logs[compiled.accuracyKey] = acc;
      return logs;
    } finally {
      status.dispose();
    }
  }

  /** Copies of the weights in Keras order (per layer: kernel, then bias); the caller owns them. */
  getWeights(): Tensor[] {
    return this.weightTensors.map(copyTensor);
  }

  /** Copies values into the weights, in getWeights() order; shapes must match. */
  setWeights(weights: Tensor[]): void {
    const own = this.weightTensors;
    if (!Array.isArray(weights) || weights.length !== own.length) {
      throw new Error(`gpu-cnn: setWeights(): ${this.name} has ${own.length} weight tensors (${own.map((w) => w.name).join(", ")}), got ${weights?.length}`);
    }
    weights.forEach((w, i) => {
      const target = own[i];
      if (!(w instanceof Tensor) || w.shape.length !== target.shape.length || w.shape.some((d, j) => d !== target.shape[j])) {
        throw new Error(`gpu-cnn: setWeights(): weight ${i} (${target.name}) is ${shapeString(target.shape)}, got ${w instanceof Tensor ? shapeString(w.shape) : typeof w}`);
      }
    });
    weights.forEach((w, i) => {
      if (w.size > 0) gpu().copy(w.buffer, 0, own[i].buffer, 0, w.size * 4);
    });
  }

  countParams(): number {
    return this.layers.reduce((n, l) => n + l.countParams(), 0);
  }

  /** Each layer's output shape and parameter count, and the totals, as Keras prints them. Returns the text too. */
  summary(printFn: (line: string) => void = console.log): string {
    const rows = this.layers.map((l, i) => [`${l.name} (${l.className})`, batchShapeString(this.shapes[i]), l.countParams().toLocaleString("en-US")]);
    const heads = ["Layer (type)", "Output Shape", "Param #"];
    const widths = [29, 26, 10].map((min, c) => Math.max(min, heads[c].length, ...rows.map((r) => r[c].length)) + 2);
    const width = widths.reduce((a, b) => a + b, 0);
    const row = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i])).join("").trimEnd();
    const total = this.countParams();
    const trainable = this.layers.reduce((n, l) => n + l.trainableWeights.reduce((s, w) => s + w.size, 0), 0);
    const bytes = (n: number): string => {
      const b = n * 4;
      return b >= 2 ** 20 ? `${(b / 2 ** 20).toFixed(2)} MB` : b >= 1024 ? `${(b / 1024).toFixed(2)} KB` : `${b} B`;
    };
    const lines = [
      `Model: "${this.name}"`,
      "_".repeat(width),
      row(heads),
      "=".repeat(width),
      ...rows.flatMap((r, i) => (i === 0 ? [row(r)] : ["", row(r)])),
      "=".repeat(width),
      `Total params: ${total.toLocaleString("en-US")} (${bytes(total)})`,
      `Trainable params: ${trainable.toLocaleString("en-US")} (${bytes(trainable)})`,
      `Non-trainable params: ${(total - trainable).toLocaleString("en-US")} (${bytes(total - trainable)})`,
      "_".repeat(width),
    ];
    for (const line of lines) printFn(line);
    return lines.join("\n");
  }

  /** Keras' Sequential config: the name and each layer's class and config (what saving writes). */
  getConfig(): { name: string; layers: { className: string; config: Record<string, unknown> }[] } {
    return { name: this.name, layers: this.layers.map((l) => ({ className: l.className, config: l.getConfig() })) };
  }

  /** Frees the weights and their optimizer state. */
  dispose(): void {
    this.compiled?.optimizer.dispose(this.weightTensors);
    for (const l of this.layers) l.dispose();
  }
}
