// Training from a dataset that streams batches (imageDatasetFromDirectory's ImageDataset, or
// anything with batches()): Keras' model.fit(dataset, validation_data=val_ds). Each batch goes
// through model.trainOnBatch while the dataset decodes the next one; the progress bar, the
// callbacks, stopTraining and the History are fit()'s.
import { Callback, type CallbackHooks, type Logs } from "./callbacks.js";
import { isBatchSource, type BatchSource, type LabelledBatch } from "./metrics.js";
import { History, NonFiniteLossError, type Sequential } from "./model.js";
import { oneHot } from "./onehot.js";
import { defaultVerbose, ProgressBar } from "./progress.js";
import { shapeString, Tensor } from "./tensor.js";

export interface FitDatasetArgs {
  epochs?: number;
  /** A dataset (its batches are used in their stored order) or [x, y] tensors, evaluated at the end of each epoch. */
  validationData?: BatchSource | [Tensor, Tensor];
  /** Reshuffle the training batches every epoch; default: the dataset's own setting. */
  shuffle?: boolean;
  /** 0 silent; 1 progress bar (default in a terminal); 2 one line per epoch. */
  verbose?: number;
  callbacks?: CallbackHooks | CallbackHooks[];
  /** The epoch to start at (resuming training). */
  initialEpoch?: number;
}

function checkInput(op: string, model: Sequential, x: Tensor, where: string): void {
  const input = model.inputShape;
  if (!input) throw new Error(`gpu-cnn: ${op}(): the model has no layers`);
  const sample = x.shape.slice(1);
  if (sample.length !== input.length || sample.some((d, i) => d !== input[i])) {
    const hint =
      sample.length === 3 && input.length === 3
        ? `; load the images with imageSize: [${input[0]}, ${input[1]}] and colorMode "${input[2] === 1 ? "grayscale" : input[2] === 4 ? "rgba" : "rgb"}"`
        : "";
    throw new Error(`gpu-cnn: ${op}(): ${where} yields samples of ${shapeString(sample)}, but ${model.name} takes ${shapeString(input)}${hint}`);
  }
}

/** One-hot labels for the model: class indices are converted, one-hot rows checked. The second value says whether it was made here (and must be freed). */
async function oneHotLabels(op: string, y: Tensor, classes: number, where: string): Promise<[Tensor, boolean]> {
  if (y.shape.length === 2) {
    if (y.shape[1] !== classes) {
      throw new Error(`gpu-cnn: ${op}(): ${where} has labels for ${y.shape[1]} classes, but the model outputs ${classes}; the last Dense layer needs one unit per class`);
    }
    return [y, false];
  }
  if (y.shape.length !== 1) throw new Error(`gpu-cnn: ${op}(): ${where} yields labels ${shapeString(y.shape)}; expected class indices [b] or one-hot [b, ${classes}]`);
  const labels = await y.data();
  const bad = labels.findIndex((l) => !Number.isInteger(l) || l < 0 || l >= classes);
  if (bad >= 0) {
    throw new Error(`gpu-cnn: ${op}(): ${where} has label ${labels[bad]}, but the model outputs ${classes} classes (labels 0 to ${classes - 1}); the last Dense layer needs one unit per class`);
  }
  return [oneHot(labels, classes), true];
}

function disposeBatch(batch: LabelledBatch): void {
  batch.x.dispose();
  batch.y.dispose();
}

function outputClasses(op: string, model: Sequential): number {
  const out = model.outputShape;
  if (!out || out.length !== 1) throw new Error(`gpu-cnn: ${op}(): the model must end in Dense(classes, { activation: "softmax" })`);
  return out[0];
}

/** Keras' loss and accuracy over a validation dataset (batch means weighted by batch size). */
async function evaluateSource(op: string, model: Sequential, source: BatchSource, classes: number): Promise<Logs> {
  const sums: Logs = {};
  let seen = 0;
  for await (const batch of source.batches({ shuffle: false })) {
    try {
      checkInput(op, model, batch.x, "validationData");
      const [y, made] = await oneHotLabels(op, batch.y, classes, "validationData");
      try {
        const n = batch.x.shape[0];
        const logs = await model.evaluate(batch.x, y, { batchSize: n });
        for (const [k, v] of Object.entries(logs)) sums[k] = (sums[k] ?? 0) + v * n;
        seen += n;
      } finally {
        if (made) y.dispose();
      }
    } finally {
      disposeBatch(batch);
    }
  }
  if (seen === 0) throw new Error(`gpu-cnn: ${op}(): validationData yielded no samples`);
  return Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / seen]));
}

/**
 * Trains a compiled model on a dataset of labelled batches (e.g. imageDatasetFromDirectory's,
 * labelMode "int" or "categorical") for `epochs` epochs, with a validation dataset (or [x, y])
 * scored at the end of each epoch. Returns a History, as fit() does: loss (and accuracy,
 * val_loss, val_accuracy) per epoch. Throws NonFiniteLossError if the loss stops being finite;
 * the weights are then those from before that batch.
 */
export async function fitDataset(model: Sequential, dataset: BatchSource, args: FitDatasetArgs = {}): Promise<History> {
  const op = "fitDataset";
  if (!model || typeof model.trainOnBatch !== "function") throw new Error(`gpu-cnn: ${op}(): the first argument must be a Sequential model`);
  if (!isBatchSource(dataset)) throw new Error(`gpu-cnn: ${op}(): the dataset must have batches() (e.g. from imageDatasetFromDirectory); for tensors use model.fit(x, y)`);
  if (!model.optimizer) throw new Error(`gpu-cnn: ${op}(): compile the model first, e.g. model.compile({ optimizer: "adam", loss: "categoricalCrossentropy", metrics: ["accuracy"] })`);
  const epochs = args.epochs ?? 1;
  const initialEpoch = args.initialEpoch ?? 0;
  if (!Number.isInteger(epochs) || epochs < 1) throw new Error(`gpu-cnn: ${op}(): epochs must be a positive integer, got ${epochs}`);
  if (!Number.isInteger(initialEpoch) || initialEpoch < 0) throw new Error(`gpu-cnn: ${op}(): initialEpoch must be an integer >= 0, got ${initialEpoch}`);
  const classes = outputClasses(op, model);
  const validation = args.validationData;
  if (validation !== undefined && !isBatchSource(validation)) {
    if (!Array.isArray(validation) || validation.length !== 2 || !(validation[0] instanceof Tensor) || !(validation[1] instanceof Tensor)) {
      throw new Error(`gpu-cnn: ${op}(): validationData must be a dataset or [x, y] tensors`);
    }
  }
  if (dataset.classNames && dataset.classNames.length !== classes) {
    throw new Error(
      `gpu-cnn: ${op}(): the dataset has ${dataset.classNames.length} classes (${dataset.classNames.join(", ")}) but the model outputs ${classes}; the last Dense layer needs one unit per class`,
    );
  }

  let steps = dataset.numBatches ?? 0;
  const history = new History({ epochs, steps, samples: dataset.size ?? 0, batchSize: dataset.batchSize ?? 0 });
  const callbacks = args.callbacks === undefined ? [] : Array.isArray(args.callbacks) ? args.callbacks : [args.callbacks];
  for (const cb of callbacks) if (cb instanceof Callback) cb.setModel(model);
  const call = async (hook: keyof CallbackHooks, ...params: unknown[]): Promise<void> => {
    for (const cb of callbacks) {
      const f = cb[hook] as ((...a: unknown[]) => void | Promise<void>) | undefined;
      if (f) await f.apply(cb, params);
    }
  };
  const verbose = args.verbose ?? defaultVerbose();
  model.stopTraining = false;
  await call("onTrainBegin", {});
  for (let epoch = initialEpoch; epoch < epochs; epoch++) {
    await call("onEpochBegin", epoch, {});
    const progress = new ProgressBar(verbose, epochs, steps);
    progress.epochBegin(epoch);
    const sums: Logs = {};
    let seen = 0;
    let batch = 0;
    const batches = dataset.batches(args.shuffle === undefined ? {} : { shuffle: args.shuffle });
    for await (const b of batches) {
      try {
        checkInput(op, model, b.x, "the dataset");
        await call("onBatchBegin", batch, { batch });
        const [y, made] = await oneHotLabels(op, b.y, classes, "the dataset");
        let logs: Logs;
        try {
          logs = await model.trainOnBatch(b.x, y);
        } catch (e) {
          const loss = /the loss is (\S+?);/.exec(String((e as Error).message));
          if (loss) throw new NonFiniteLossError(epoch, batch, Math.max(steps, batch + 1), epochs, Number(loss[1]));
          throw e;
        } finally {
          if (made) y.dispose();
        }
        const size = b.x.shape[0];
        for (const [k, v] of Object.entries(logs)) sums[k] = (sums[k] ?? 0) + v * size;
        seen += size;
        const running: Logs = Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / seen]));
        progress.update(batch + 1, seen, running);
        await call("onBatchEnd", batch, { batch, size, ...logs });
      } finally {
        disposeBatch(b);
      }
      batch++;
      // a callback may stop training mid-epoch
      if (model.stopTraining) break;
    }
    if (seen === 0) throw new Error(`gpu-cnn: ${op}(): the dataset yielded no batches`);
    steps = batch; // the real count (skipped bad images can shorten an epoch)
    const logs: Logs = Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / seen]));
    if (validation !== undefined) {
      const v = isBatchSource(validation) ? await evaluateSource(op, model, validation, classes) : await model.evaluate(validation[0], validation[1]);
      for (const [k, value] of Object.entries(v)) logs[`val_${k}`] = value;
    }
    history.record(epoch, logs);
    progress.epochEnd(epoch, seen, logs);
    await call("onEpochEnd", epoch, logs);
    if (model.stopTraining) break;
  }
  await call("onTrainEnd", {});
  return history;
}
