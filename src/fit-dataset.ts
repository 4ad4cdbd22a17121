// Training from a dataset that streams batches (imageDatasetFromDirectory's ImageDataset, or
// anything with batches()): Keras' model.fit(dataset, validation_data=val_ds). model.fit takes a
// dataset itself and runs it through its queued-step loop; this file turns the dataset's batches
// into what that loop takes (checked against the model, class-index labels made one-hot) and
// keeps fitDataset, the older entry, as a wrapper.
import type { FitArgs, History, Sequential, StepBatch } from "./model.js";
import { isBatchSource, type BatchSource, type LabelledBatch } from "./metrics.js";
import { oneHot } from "./onehot.js";
import { shapeString, type Tensor } from "./tensor.js";

/** fit()'s arguments less those that only apply to arrays (batchSize, validationSplit). */
export type FitDatasetArgs = Omit<FitArgs, "batchSize" | "validationSplit">;

function checkInput(op: string, model: Sequential, x: Tensor, where: string): void {
  const input = model.inputShape!;
  const sample = x.shape.slice(1);
  if (sample.length !== input.length || sample.some((d, i) => d !== input[i])) {
    const hint =
      sample.length === 3 && input.length === 3
        ? `; load the images with imageSize: [${input[0]}, ${input[1]}] and colorMode "${input[2] === 1 ? "grayscale" : input[2] === 4 ? "rgba" : "rgb"}"`
        : "";
    throw new Error(`gpu-cnn: ${op}(): ${where} yields samples of ${shapeString(sample)}, but ${model.name} takes ${shapeString(input)}${hint}`);
  }
}

/** One-hot labels for the model: class indices are converted (a new tensor), one-hot rows checked and used as they are. */
async function oneHotLabels(op: string, batch: LabelledBatch, classes: number, where: string): Promise<Tensor> {
  const { x, y } = batch;
  if (y.shape[0] !== x.shape[0]) throw new Error(`gpu-cnn: ${op}(): ${where} yields ${x.shape[0]} samples with ${y.shape[0] ?? 0} labels; they must match`);
  if (y.shape.length === 2) {
    if (y.shape[1] !== classes) {
      throw new Error(`gpu-cnn: ${op}(): ${where} has labels for ${y.shape[1]} classes, but the model outputs ${classes}; the last Dense layer needs one unit per class`);
    }
    return y;
  }
  if (y.shape.length !== 1) throw new Error(`gpu-cnn: ${op}(): ${where} yields labels ${shapeString(y.shape)}; expected class indices [b] or one-hot [b, ${classes}]`);
  // a dataset's labels are still on the CPU, so this does not wait on the GPU
  const labels = await y.data();
  const bad = labels.findIndex((l) => !Number.isInteger(l) || l < 0 || l >= classes);
  if (bad >= 0) {
    throw new Error(`gpu-cnn: ${op}(): ${where} has label ${labels[bad]}, but the model outputs ${classes} classes (labels 0 to ${classes - 1}); the last Dense layer needs one unit per class`);
  }
  return oneHot(labels, classes);
}

function disposeBatch(batch: LabelledBatch): void {
  batch.x.dispose();
  batch.y.dispose();
}

/** Fails before any training when a dataset names more or fewer classes than the model outputs. */
export function checkDatasetClasses(op: string, model: Sequential, source: BatchSource, where: string): void {
  const classes = model.outputShape![0];
  if (source.classNames && source.classNames.length !== classes) {
    throw new Error(
      `gpu-cnn: ${op}(): ${where} has ${source.classNames.length} classes (${source.classNames.join(", ")}) but the model outputs ${classes}; the last Dense layer needs one unit per class`,
    );
  }
}

/**
 * One epoch of a dataset's batches as fit's steps take them. Each batch is checked as it
 * arrives (so a bad one fails naming `where`); its tensors are freed once its step is recorded.
 */
export async function* datasetBatches(op: string, model: Sequential, source: BatchSource, where: string, options: { shuffle?: boolean }): AsyncGenerator<StepBatch> {
  const classes = model.outputShape![0];
  for await (const batch of source.batches(options)) {
    let y: Tensor;
    try {
      checkInput(op, model, batch.x, where);
      y = await oneHotLabels(op, batch, classes, where);
    } catch (e) {
      disposeBatch(batch);
      throw e;
    }
    yield {
      size: batch.x.shape[0],
      tensors: () => [batch.x, y],
      dispose: () => {
        disposeBatch(batch);
        y.dispose(); // (the batch's own y when it was one-hot already: disposing twice is safe)
      },
    };
  }
}

/**
 * Trains a compiled model on a dataset of labelled batches: the same as
 * `model.fit(dataset, args)`, which it calls.
 * @deprecated use model.fit(dataset, args), as Keras' model.fit(ds).
 */
export async function fitDataset(model: Sequential, dataset: BatchSource, args: FitDatasetArgs = {}): Promise<History> {
  if (!model || typeof model.fit !== "function") throw new Error("gpu-cnn: fitDataset(): the first argument must be a Sequential model");
  if (!isBatchSource(dataset)) throw new Error("gpu-cnn: fitDataset(): the dataset must have batches() (e.g. from imageDatasetFromDirectory); for tensors use model.fit(x, y)");
  return model.fit(dataset, args);
}
