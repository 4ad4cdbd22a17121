// Classification metrics beyond accuracy, computed on the CPU from predicted probabilities and
// true labels: top-k accuracy, a confusion matrix, per-class precision / recall / F1 and their
// macro and weighted averages (sklearn's classification_report), and the categorical
// cross-entropy Keras reports. `evaluateDetailed` runs a model over tensors or a dataset and
// returns all of them. Nothing here needs Node: it works in browsers too.
import type { Sequential } from "./model.js";
import { shapeString, Tensor } from "./tensor.js";
import { checkOptions, type OptionKeys } from "./options.js";

/** Probabilities: rows (one array per sample), or one flat row-major array with `numClasses`. */
export type Predictions = ArrayLike<number> | readonly ArrayLike<number>[];
/**
 * True labels: class indices (one per sample), one-hot (or soft) rows, or one flat row-major
 * one-hot array (numClasses values per sample).
 */
export type Labels = ArrayLike<number> | readonly ArrayLike<number>[];

export interface MetricsOptions {
  /** The names of the classes, in output order; their count is the number of classes. */
  classNames?: readonly string[];
  /** The number of classes when `predictions` is one flat array and no classNames are given. */
  numClasses?: number;
  /** k of the top-k accuracy, or several (e.g. [3, 5]). Top-1 is always `accuracy`. */
  topK?: number | readonly number[];
}

export interface ClassMetrics {
  className: string;
  /** Of the samples predicted as this class, the fraction that are (0 when none is predicted as it). */
  precision: number;
  /** Of the samples of this class, the fraction predicted as it (0 when the class has no samples). */
  recall: number;
  /** Harmonic mean of precision and recall (0 when both are 0). */
  f1: number;
  /** Samples of this class. */
  support: number;
}

export interface AveragedMetrics {
  precision: number;
  recall: number;
  f1: number;
}

export interface ClassificationMetrics {
  samples: number;
  classNames: string[];
  /** Fraction whose most probable class (the first, on ties) is the true one. */
  accuracy: number;
  /**
   * Top-k accuracy per requested k: the true class is among the k most probable. As Keras'
   * top_k_categorical_accuracy (tf.math.in_top_k): classes tied with the k-th count as in.
   */
  topKAccuracy: Record<number, number>;
  /** confusionMatrix[trueClass][predictedClass] = sample count (rows: truth, columns: prediction). */
  confusionMatrix: number[][];
  perClass: ClassMetrics[];
  /** Unweighted mean over the classes that occur in the labels or the predictions (sklearn's "macro"). */
  macro: AveragedMetrics;
  /** Mean weighted by support (sklearn's "weighted"). */
  weighted: AveragedMetrics;
  /** Keras' categorical cross-entropy of the probabilities (normalised, clipped to [1e-7, 1 - 1e-7]). */
  loss: number;
}

const EPSILON = 1e-7; // Keras' backend epsilon

function isRows(v: Predictions | Labels): v is readonly ArrayLike<number>[] {
  return Array.isArray(v) && v.length > 0 && typeof v[0] === "object" && v[0] !== null;
}

/** Predictions as one flat row-major array and its row width. */
function flatPredictions(predictions: Predictions, classes: number | undefined): { values: ArrayLike<number>; classes: number; samples: number } {
  if (isRows(predictions)) {
    const width = predictions[0].length;
    if (classes !== undefined && width !== classes) {
      throw new Error(`gpu-cnn: metrics: predictions have ${width} values per sample, but there are ${classes} classes`);
    }
    const values = new Float64Array(predictions.length * width);
    predictions.forEach((row, i) => {
      if (row.length !== width) throw new Error(`gpu-cnn: metrics: prediction row ${i} has ${row.length} values; row 0 has ${width}`);
      for (let c = 0; c < width; c++) values[i * width + c] = row[c];
    });
    return { values, classes: width, samples: predictions.length };
  }
  if (classes === undefined) {
    throw new Error("gpu-cnn: metrics: flat predictions need numClasses (or classNames) to know where each sample's row ends; or pass one array per sample");
  }
  if (predictions.length % classes !== 0) {
    throw new Error(`gpu-cnn: metrics: ${predictions.length} prediction values are not a whole number of rows of ${classes} classes`);
  }
  return { values: predictions, classes, samples: predictions.length / classes };
}

/** The class index of each sample's label (argmax of one-hot or soft rows). */
function labelIndices(labels: Labels, samples: number, classes: number): Int32Array {
  const out = new Int32Array(samples);
  const argmaxRow = (row: ArrayLike<number>, offset: number, i: number): number => {
    let best = 0;
    for (let c = 0; c < classes; c++) {
      const v = row[offset + c];
      if (!Number.isFinite(v)) throw new Error(`gpu-cnn: metrics: label row ${i} holds ${v}; labels must be finite`);
      if (v > row[offset + best]) best = c;
    }
    return best;
  };
  if (isRows(labels)) {
    if (labels.length !== samples) throw new Error(`gpu-cnn: metrics: ${samples} predictions but ${labels.length} labels; they must match`);
    labels.forEach((row, i) => {
      if (row.length !== classes) throw new Error(`gpu-cnn: metrics: label row ${i} has ${row.length} values; expected ${classes} (one per class)`);
      out[i] = argmaxRow(row, 0, i);
    });
    return out;
  }
  if (labels.length === samples) {
    for (let i = 0; i < samples; i++) {
      const l = labels[i];
      if (!Number.isInteger(l) || l < 0 || l >= classes) {
        throw new Error(`gpu-cnn: metrics: label ${i} is ${l}; class indices must be integers in [0, ${classes - 1}]`);
      }
      out[i] = l;
    }
    return out;
  }
  if (labels.length === samples * classes) {
    for (let i = 0; i < samples; i++) out[i] = argmaxRow(labels, i * classes, i);
    return out;
  }
  throw new Error(
    `gpu-cnn: metrics: ${samples} predictions of ${classes} classes, but ${labels.length} label values; ` +
      `give ${samples} class indices or ${samples * classes} one-hot values`,
  );
}

function checkFinite(values: ArrayLike<number>, classes: number): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      throw new Error(
        `gpu-cnn: metrics: the prediction for sample ${Math.floor(i / classes)} holds ${values[i]} (class ${i % classes}); ` +
          "the model's outputs are not finite numbers (did training diverge?)",
      );
    }
  }
}

function topKList(topK: MetricsOptions["topK"], classes: number): number[] {
  const ks = topK === undefined ? [] : typeof topK === "number" ? [topK] : [...topK];
  for (const k of ks) {
    if (!Number.isInteger(k) || k < 1) throw new Error(`gpu-cnn: metrics: topK must be a positive integer, got ${k}`);
    if (k > classes) throw new Error(`gpu-cnn: metrics: topK ${k} is more than the ${classes} classes`);
  }
  return [...new Set(ks)].sort((a, b) => a - b);
}

const METRICS_OPTIONS: OptionKeys<MetricsOptions> = { classNames: true, numClasses: true, topK: true };
const EVALUATE_DETAILED_OPTIONS: OptionKeys<EvaluateDetailedOptions> = { topK: true, classNames: true, batchSize: true };

function resolveClasses(options: MetricsOptions): { names: string[] | null; classes: number | undefined } {
  checkOptions("metrics", options, METRICS_OPTIONS);
  const { classNames, numClasses } = options;
  if (numClasses !== undefined && (!Number.isInteger(numClasses) || numClasses < 1)) {
    throw new Error(`gpu-cnn: metrics: numClasses must be a positive integer, got ${numClasses}`);
  }
  if (classNames !== undefined) {
    if (!Array.isArray(classNames) || !classNames.every((n) => typeof n === "string")) {
      throw new Error(`gpu-cnn: metrics: classNames must be a list of strings, got ${JSON.stringify(classNames)}`);
    }
    if (numClasses !== undefined && numClasses !== classNames.length) {
      throw new Error(`gpu-cnn: metrics: numClasses is ${numClasses} but classNames lists ${classNames.length}`);
    }
    return { names: [...classNames], classes: classNames.length };
  }
  return { names: null, classes: numClasses };
}

/** The most probable class of each row (the first on ties, as argmax). */
export function argmaxRows(values: ArrayLike<number>, classes: number): Int32Array {
  const samples = values.length / classes;
  const out = new Int32Array(samples);
  for (let i = 0; i < samples; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (values[i * classes + c] > values[i * classes + best]) best = c;
    out[i] = best;
  }
  return out;
}

/**
 * The fraction of samples whose true class is among the k most probable; classes tied with the
 * k-th most probable count as among them (tf.math.in_top_k, which Keras' top-k metric uses).
 */
export function topKAccuracy(predictions: Predictions, labels: Labels, k: number, options: Omit<MetricsOptions, "topK"> = {}): number {
  return classificationMetrics(predictions, labels, { ...options, topK: k }).topKAccuracy[k];
}

/**
 * confusion[trueClass][predictedClass]: how many samples of each class were predicted as each
 * class (the predicted class is the most probable one). Rows are the truth, as
 * tf.math.confusion_matrix and sklearn.
 */
export function confusionMatrix(predictions: Predictions, labels: Labels, options: Omit<MetricsOptions, "topK"> = {}): number[][] {
  return classificationMetrics(predictions, labels, options).confusionMatrix;
}

/**
 * Every metric at once from predicted probabilities and true labels, e.g.
 * `classificationMetrics(await probs.data(), await y.data(), { classNames, topK: 2 })`.
 */
export function classificationMetrics(predictions: Predictions, labels: Labels, options: MetricsOptions = {}): ClassificationMetrics {
  const resolved = resolveClasses(options);
  const { values, classes, samples } = flatPredictions(predictions, resolved.classes);
  if (samples === 0) throw new Error("gpu-cnn: metrics: there are no predictions to score");
  checkFinite(values, classes);
  const truth = labelIndices(labels, samples, classes);
  const ks = topKList(options.topK, classes);
  const names = resolved.names ?? Array.from({ length: classes }, (_, c) => String(c));

  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  const predicted = argmaxRows(values, classes);
  const topHits = new Array<number>(ks.length).fill(0);
  let lossSum = 0;
  for (let i = 0; i < samples; i++) {
    const t = truth[i];
    confusion[t][predicted[i]]++;
    const row = i * classes;
    const p = values[row + t];
    // in_top_k: the rank of the true class is the count of classes strictly more probable
    let above = 0;
    let total = 0;
    for (let c = 0; c < classes; c++) {
      if (values[row + c] > p) above++;
      total += values[row + c];
    }
    ks.forEach((k, j) => {
      if (above < k) topHits[j]++;
    });
    const normalised = total > 0 ? p / total : 0;
    lossSum -= Math.log(Math.min(Math.max(normalised, EPSILON), 1 - EPSILON));
  }

  const perClass: ClassMetrics[] = names.map((className, c) => {
    const tp = confusion[c][c];
    const support = confusion[c].reduce((a, b) => a + b, 0);
    const predictedAs = confusion.reduce((a, row) => a + row[c], 0);
    const precision = predictedAs > 0 ? tp / predictedAs : 0;
    const recall = support > 0 ? tp / support : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    return { className, precision, recall, f1, support };
  });
  // sklearn averages over the labels present in the truth or the predictions
  const present = perClass.filter((m, c) => m.support > 0 || confusion.some((row) => row[c] > 0));
  const mean = (key: keyof AveragedMetrics, weight: (m: ClassMetrics) => number): number => {
    const w = present.reduce((a, m) => a + weight(m), 0);
    return w > 0 ? present.reduce((a, m) => a + m[key] * weight(m), 0) / w : 0;
  };
  const average = (weight: (m: ClassMetrics) => number): AveragedMetrics => ({
    precision: mean("precision", weight),
    recall: mean("recall", weight),
    f1: mean("f1", weight),
  });
  const correct = perClass.reduce((a, m, c) => a + confusion[c][c], 0);
  return {
    samples,
    classNames: names,
    accuracy: correct / samples,
    topKAccuracy: Object.fromEntries(ks.map((k, j) => [k, topHits[j] / samples])),
    confusionMatrix: confusion,
    perClass,
    macro: average(() => 1),
    weighted: average((m) => m.support),
    loss: lossSum / samples,
  };
}

/** sklearn's classification_report layout: precision, recall, F1 and support per class, then the averages. */
export function formatClassificationReport(metrics: ClassificationMetrics): string {
  const width = Math.max(12, ...metrics.classNames.map((n) => n.length)) + 2;
  const cell = (v: number): string => v.toFixed(4).padStart(10);
  const head = "".padEnd(width) + ["precision", "recall", "f1-score", "support"].map((h) => h.padStart(10)).join("");
  const rows = metrics.perClass.map((m) => m.className.padEnd(width) + cell(m.precision) + cell(m.recall) + cell(m.f1) + String(m.support).padStart(10));
  const avg = (label: string, a: AveragedMetrics): string => label.padEnd(width) + cell(a.precision) + cell(a.recall) + cell(a.f1) + String(metrics.samples).padStart(10);
  return [
    head,
    ...rows,
    "",
    "accuracy".padEnd(width) + "".padStart(20) + cell(metrics.accuracy) + String(metrics.samples).padStart(10),
    avg("macro avg", metrics.macro),
    avg("weighted avg", metrics.weighted),
  ].join("\n");
}

/** The confusion matrix as a table: rows are the true classes, columns the predicted ones. */
export function formatConfusionMatrix(metrics: ClassificationMetrics): string {
  const names = metrics.classNames;
  const m = metrics.confusionMatrix;
  const corner = "true \\ predicted";
  const labelWidth = Math.max(corner.length, ...names.map((n) => n.length)) + 2;
  const colWidth = Math.max(5, ...names.map((n) => n.length), ...m.flat().map((v) => String(v).length)) + 2;
  return [
    corner.padEnd(labelWidth) + names.map((n) => n.padStart(colWidth)).join(""),
    ...m.map((row, i) => names[i].padEnd(labelWidth) + row.map((v) => String(v).padStart(colWidth)).join("")),
  ].join("\n");
}

/** Loss, accuracy, top-k accuracy, the per-class report and the confusion matrix, as the CLI prints them. */
export function formatMetrics(metrics: ClassificationMetrics): string {
  const top = Object.entries(metrics.topKAccuracy).map(([k, v]) => ` - top-${k} accuracy: ${(100 * v).toFixed(2)}%`).join("");
  return [
    `${metrics.samples} images - loss: ${metrics.loss.toFixed(4)} - accuracy: ${(100 * metrics.accuracy).toFixed(2)}%${top}`,
    "",
    formatClassificationReport(metrics),
    "",
    "Confusion matrix (rows: true class, columns: predicted class):",
    formatConfusionMatrix(metrics),
  ].join("\n");
}

/** A batch of images with labels: what datasets yield (x [b, h, w, c]; y one-hot [b, classes] or class indices [b]). */
export interface LabelledBatch {
  x: Tensor;
  y: Tensor;
}

/**
 * What evaluateDetailed and model.fit take besides tensors: anything that yields labelled
 * batches, as ImageDataset does. The caller's batches are disposed once used.
 */
export interface BatchSource {
  batches(options?: { shuffle?: boolean }): AsyncIterable<LabelledBatch>;
  /** The class of each label index (an ImageDataset's sorted folder names). */
  readonly classNames?: readonly string[];
  /** Batches per epoch (for the progress bar), when known. */
  readonly numBatches?: number;
  /** Samples per epoch, when known. */
  readonly size?: number;
  readonly batchSize?: number;
}

export function isBatchSource(v: unknown): v is BatchSource {
  return typeof v === "object" && v !== null && !(v instanceof Tensor) && typeof (v as BatchSource).batches === "function";
}

export interface EvaluateDetailedOptions {
  /** k of the top-k accuracy, or several. */
  topK?: number | readonly number[];
  /** Class names in the model's output order; default the model's saved ones, else the dataset's. */
  classNames?: readonly string[];
  /** Samples per forward pass for tensor input (default 32); a dataset uses its own batches. */
  batchSize?: number;
}

/** The class names saved with a model (loadModel restores them; the CLI sets them before saving). */
export function modelClassNames(model: Sequential): string[] | null {
  const names = (model as Sequential & { classNames?: readonly string[] | null }).classNames;
  return Array.isArray(names) ? [...names] : null;
}

function outputClasses(op: string, model: Sequential): number {
  const out = model.outputShape;
  if (!out || out.length !== 1) {
    throw new Error(`gpu-cnn: ${op}(): the model must output class probabilities [samples, classes]; ${model.name} outputs ${out ? shapeString(out) : "nothing (no layers)"}`);
  }
  return out[0];
}

function checkNames(op: string, names: readonly string[], classes: number, what: string): void {
  if (names.length !== classes) throw new Error(`gpu-cnn: ${op}(): ${what} lists ${names.length} classes (${names.join(", ")}) but the model outputs ${classes}`);
}

/** Images a dataset yields must be the model's input shape; says which option to change when not. */
function checkBatchShape(op: string, model: Sequential, x: Tensor): void {
  const input = model.inputShape!;
  const sample = x.shape.slice(1);
  if (sample.length !== input.length || sample.some((d, i) => d !== input[i])) {
    const hint =
      sample.length === 3 && input.length === 3
        ? `; load the images with imageSize: [${input[0]}, ${input[1]}] and ${input[2]} channel${input[2] === 1 ? " (colorMode \"grayscale\")" : input[2] === 4 ? "s (colorMode \"rgba\")" : "s (colorMode \"rgb\")"}`
        : "";
    throw new Error(`gpu-cnn: ${op}(): the dataset's images are ${shapeString(sample)} per sample but ${model.name} takes ${shapeString(input)}${hint}`);
  }
}

/**
 * The label index of each of the dataset's classes in the model's class order (by name), or
 * null when they are the same.
 */
function labelMap(op: string, datasetNames: readonly string[] | undefined, modelNames: readonly string[] | null): Int32Array | null {
  if (!datasetNames || !modelNames) return null;
  if (datasetNames.length === modelNames.length && datasetNames.every((n, i) => n === modelNames[i])) return null;
  return Int32Array.from(datasetNames, (name) => {
    const at = modelNames.indexOf(name);
    if (at < 0) throw new Error(`gpu-cnn: ${op}(): the dataset has class "${name}", which the model does not know (its classes: ${modelNames.join(", ")})`);
    return at;
  });
}

/** Label indices of a batch's y (class indices or one-hot rows), mapped to the model's classes. */
async function batchLabels(op: string, y: Tensor, datasetClasses: number, map: Int32Array | null): Promise<Int32Array> {
  const values = await y.data();
  let labels: Int32Array;
  if (y.shape.length === 1) {
    labels = new Int32Array(values.length);
    values.forEach((v, i) => {
      if (!Number.isInteger(v) || v < 0 || v >= datasetClasses) {
        throw new Error(`gpu-cnn: ${op}(): label ${i} is ${v}; class indices must be integers in [0, ${datasetClasses - 1}]`);
      }
      labels[i] = v;
    });
  } else if (y.shape.length === 2) {
    if (y.shape[1] !== datasetClasses) throw new Error(`gpu-cnn: ${op}(): labels ${shapeString(y.shape)} must have one column per class (${datasetClasses})`);
    labels = argmaxRows(values, y.shape[1]);
  } else {
    throw new Error(`gpu-cnn: ${op}(): labels must be class indices [samples] or one-hot [samples, classes], got ${shapeString(y.shape)}`);
  }
  if (map) for (let i = 0; i < labels.length; i++) labels[i] = map[labels[i]];
  return labels;
}

/**
 * Runs the model over x and y (tensors) or over every batch of a dataset (in its stored order),
 * and returns loss, accuracy, top-k accuracy, per-class precision / recall / F1 and the confusion
 * matrix. Dataset classes are matched to the model's saved class names by name, so a folder that
 * holds some of the classes (or sorts them differently) is scored correctly.
 */
export async function evaluateDetailed(model: Sequential, data: Tensor | BatchSource, y?: Tensor, options: EvaluateDetailedOptions = {}): Promise<ClassificationMetrics> {
  const op = "evaluateDetailed";
  checkOptions(`${op}()`, options, EVALUATE_DETAILED_OPTIONS);
  const classes = outputClasses(op, model);
  const given = options.classNames ? [...options.classNames] : null;
  if (given) checkNames(op, given, classes, "classNames");
  const saved = modelClassNames(model);
  const names = given ?? saved;
  const predictions: Float32Array[] = [];
  const labels: Int32Array[] = [];
  let datasetNames: readonly string[] | undefined;
  if (data instanceof Tensor) {
    if (!(y instanceof Tensor)) throw new Error(`gpu-cnn: ${op}(): with x a tensor, pass y too: one-hot labels [samples, ${classes}] or class indices [samples]`);
    if (y.shape[0] !== data.shape[0]) throw new Error(`gpu-cnn: ${op}(): x has ${data.shape[0]} samples but y has ${y.shape[0]}; they must match`);
    const probs = await model.predict(data, { batchSize: options.batchSize });
    try {
      predictions.push(await probs.data());
    } finally {
      probs.dispose();
    }
    labels.push(await batchLabels(op, y, classes, null));
  } else if (isBatchSource(data)) {
    if (y !== undefined) throw new Error(`gpu-cnn: ${op}(): a dataset carries its own labels; pass the options third: evaluateDetailed(model, dataset, { topK })`);
    datasetNames = data.classNames;
    const map = labelMap(op, datasetNames, names);
    const datasetClasses = datasetNames?.length ?? classes;
    if (!map && datasetNames) checkNames(op, datasetNames, classes, "the dataset");
    for await (const batch of data.batches({ shuffle: false })) {
      try {
        checkBatchShape(op, model, batch.x);
        const probs = await model.predict(batch.x, { batchSize: batch.x.shape[0] });
        try {
          predictions.push(await probs.data());
        } finally {
          probs.dispose();
        }
        labels.push(await batchLabels(op, batch.y, datasetClasses, map));
      } finally {
        batch.x.dispose();
        batch.y.dispose();
      }
    }
    if (predictions.length === 0) throw new Error(`gpu-cnn: ${op}(): the dataset yielded no images`);
  } else {
    throw new Error(`gpu-cnn: ${op}(): pass x and y tensors, or a dataset (e.g. from imageDatasetFromDirectory)`);
  }
  const concat = <T extends Float32Array | Int32Array>(parts: T[], make: (n: number) => T): T => {
    const out = make(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  };
  const probabilities = concat(predictions, (n) => new Float32Array(n));
  const truth = concat(labels, (n) => new Int32Array(n));
  const classNames = names ?? (datasetNames && datasetNames.length === classes ? [...datasetNames] : undefined);
  return classificationMetrics(probabilities, truth, { numClasses: classes, classNames, topK: options.topK });
}
