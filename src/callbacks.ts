// Training callbacks, as Keras and tfjs: hooks at epoch and batch ends (what a web page uses to
// draw its own progress), and EarlyStopping.
import type { Tensor } from "./tensor.js";
import { checkOptions } from "./options.js";

/** Values of one batch or epoch: loss and the compiled metrics, val_ ones at epoch end. */
export type Logs = Record<string, number>;

/** What a callback may touch of the model being trained. */
export interface TrainingModel {
  /** Set to true to stop after the current epoch. */
  stopTraining: boolean;
  getWeights(): Tensor[];
  setWeights(weights: Tensor[]): void;
}

/** Any of these may be async; fit awaits them. Batch and epoch numbers start at 0. */
export interface CallbackHooks {
  onTrainBegin?(logs?: Logs): void | Promise<void>;
  onTrainEnd?(logs?: Logs): void | Promise<void>;
  onEpochBegin?(epoch: number, logs?: Logs): void | Promise<void>;
  onEpochEnd?(epoch: number, logs: Logs): void | Promise<void>;
  onBatchBegin?(batch: number, logs?: Logs): void | Promise<void>;
  onBatchEnd?(batch: number, logs: Logs): void | Promise<void>;
}

/** Base class for callbacks that need the model (fit sets it before training). */
// (the interface merges the optional hooks into the class)
export interface Callback extends CallbackHooks {}
export class Callback {
  model: TrainingModel | null = null;
  setModel(model: TrainingModel): void {
    this.model = model;
  }
}

export interface EarlyStoppingArgs {
  /** The log to watch: "val_loss" (default), "loss", "accuracy", "val_accuracy". */
  monitor?: string;
  /** An improvement must beat the best value by more than this (its sign is ignored). Default 0. */
  minDelta?: number;
  /** Epochs without improvement before stopping. */
  patience?: number;
  /** "min", "max", or "auto" (max for accuracy, min otherwise). */
  mode?: "auto" | "min" | "max";
  /** Stop unless the monitored value beats this. */
  baseline?: number;
  /** At the end of training, put back the weights of the best epoch. */
  restoreBestWeights?: boolean;
  verbose?: number;
}

/** Keras' EarlyStopping: stops when `monitor` has not improved for `patience` epochs. */
export class EarlyStopping extends Callback {
  readonly monitor: string;
  readonly minDelta: number;
  readonly patience: number;
  readonly baseline: number | undefined;
  readonly restoreBestWeights: boolean;
  readonly verbose: number;
  private readonly sign: 1 | -1;
  /** Epochs since the last improvement. */
  wait = 0;
  /** The epoch training stopped at (0: it did not stop early). */
  stoppedEpoch = 0;
  best = Infinity;
  bestEpoch = 0;
  private bestWeights: Tensor[] | null = null;

  constructor(args: EarlyStoppingArgs = {}) {
    super();
    checkOptions("new EarlyStopping()", args, { monitor: true, minDelta: true, patience: true, mode: true, baseline: true, restoreBestWeights: true, verbose: true });
    this.monitor = args.monitor ?? "val_loss";
    this.minDelta = Math.abs(args.minDelta ?? 0);
    this.patience = args.patience ?? 0;
    if (!Number.isInteger(this.patience) || this.patience < 0) throw new Error(`gpu-cnn: EarlyStopping: patience must be an integer >= 0, got ${args.patience}`);
    this.baseline = args.baseline;
    this.restoreBestWeights = args.restoreBestWeights ?? false;
    this.verbose = args.verbose ?? 0;
    const mode = args.mode ?? "auto";
    if (mode !== "auto" && mode !== "min" && mode !== "max") throw new Error(`gpu-cnn: EarlyStopping: mode must be "auto", "min" or "max", got ${JSON.stringify(mode)}`);
    const max = mode === "max" || (mode === "auto" && /acc/.test(this.monitor));
    this.sign = max ? -1 : 1; // values compared as sign * value, lower is better
  }

  /**
   * Keras' _is_improvement: better than `reference` by more than minDelta (min mode: current <
   * reference - minDelta; max mode: current > reference + minDelta), so a change smaller than
   * minDelta, either way, is not an improvement.
   */
  private improves(current: number, reference: number): boolean {
    return this.sign * current + this.minDelta < this.sign * reference;
  }

  override onTrainBegin(): void {
    this.wait = 0;
    this.stoppedEpoch = 0;
    this.best = this.sign * Infinity;
    this.bestEpoch = 0;
    this.dropBest();
  }

  override async onEpochEnd(epoch: number, logs: Logs): Promise<void> {
    const current = logs[this.monitor];
    if (current === undefined) {
      console.warn(`gpu-cnn: EarlyStopping: "${this.monitor}" is not in the logs (${Object.keys(logs).join(", ")}); not stopping on it`);
      return;
    }
    const model = this.model!;
    if (this.restoreBestWeights && !this.bestWeights) this.keepBest(model, epoch);
    this.wait++;
    if (this.improves(current, this.best)) {
      this.best = current;
      this.bestEpoch = epoch;
      if (this.restoreBestWeights) this.keepBest(model, epoch);
      if (this.baseline === undefined || this.improves(current, this.baseline)) this.wait = 0;
      return;
    }
    if (this.wait >= this.patience && epoch > 0) {
      this.stoppedEpoch = epoch;
      model.stopTraining = true;
    }
  }

  override onTrainEnd(): void {
    if (this.stoppedEpoch > 0 && this.verbose > 0) console.log(`Epoch ${this.stoppedEpoch + 1}: early stopping`);
    if (this.restoreBestWeights && this.bestWeights) {
      if (this.verbose > 0) console.log(`Restoring model weights from the end of the best epoch: ${this.bestEpoch + 1}.`);
      this.model!.setWeights(this.bestWeights);
    }
    this.dropBest();
  }

  private keepBest(model: TrainingModel, epoch: number): void {
    this.dropBest();
    this.bestWeights = model.getWeights();
    this.bestEpoch = epoch;
  }

  private dropBest(): void {
    for (const t of this.bestWeights ?? []) t.dispose();
    this.bestWeights = null;
  }
}
