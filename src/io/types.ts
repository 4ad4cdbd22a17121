// The TensorFlow.js layers format, as tfjs writes it: model.json holds the Keras topology (snake
// case, as Python Keras), the training config and a weights manifest; the weights are raw
// little-endian values, concatenated in manifest order. Optimizer state follows the model's
// weights in the manifest with `group: "optimizer"`, as tfjs' `save(..., { includeOptimizer })`.

/** One weight in the manifest. gpu-cnn writes float32 weights and tfjs' int32 "iter". */
export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: "float32" | "int32";
  /** "optimizer" for optimizer state; absent for the model's weights. */
  group?: "model" | "optimizer";
}

/** One entry of model.json's weightsManifest: files (read in order, concatenated) and the weights they hold. */
export interface WeightsGroup {
  paths: string[];
  weights: WeightSpec[];
}

/** A Keras object: `{ class_name, config }`. */
export interface KerasObject {
  class_name: string;
  config: Record<string, unknown>;
}

/** Keras' Sequential topology. */
export interface ModelTopology {
  class_name: "Sequential";
  config: { name: string; layers: KerasObject[] };
  keras_version: string;
  backend: string;
}

/** tfjs' trainingConfig: the compile() arguments, snake case where Keras uses it. */
export interface TrainingConfig {
  loss: string;
  metrics: string[];
  optimizer_config: { class_name: string; config: Record<string, unknown> };
}

/** What gpu-cnn keeps beside the model in tfjs' userDefinedMetadata. */
export interface ModelMetadata {
  /** The class of each output, in order (label i = classNames[i]). */
  classNames?: string[];
}

/** model.json. */
export interface ModelJSON {
  modelTopology: ModelTopology;
  format: "layers-model";
  generatedBy: string;
  convertedBy: string | null;
  weightsManifest: WeightsGroup[];
  trainingConfig?: TrainingConfig;
  userDefinedMetadata?: ModelMetadata;
}

/** tfjs' ModelArtifacts: model.json's fields with the weights in memory (what tf.io handlers pass around). */
export interface ModelArtifacts {
  modelTopology: ModelTopology;
  format: "layers-model";
  generatedBy: string;
  convertedBy: string | null;
  weightSpecs: WeightSpec[];
  weightData: ArrayBuffer;
  trainingConfig?: TrainingConfig;
  userDefinedMetadata?: ModelMetadata;
}

/**
 * What loadModel accepts in memory: tfjs' ModelArtifacts (from gpu-cnn, `tf.io.withSaveHandler`,
 * ...) or a parsed model.json with its weights as `weightData`. Checked when loaded.
 */
export interface ModelArtifactsLike {
  modelTopology?: unknown;
  weightSpecs?: unknown;
  weightsManifest?: unknown;
  weightData?: unknown;
  trainingConfig?: unknown;
  userDefinedMetadata?: unknown;
  format?: unknown;
}

/** What a save reports, as tfjs' SaveResult. */
export interface SaveResult {
  modelArtifactsInfo: {
    dateSaved: Date;
    modelTopologyType: "JSON" | "GraphDef";
    modelTopologyBytes?: number;
    weightSpecsBytes?: number;
    weightDataBytes?: number;
  };
  responses?: unknown[];
  errors?: unknown[];
}

/** A tfjs-style save handler, e.g. `tf.io.withSaveHandler(fn)` or one of your own. */
export interface SaveHandler {
  save(artifacts: ModelArtifacts): Promise<SaveResult>;
}

/** A tfjs-style load handler, e.g. `tf.io.fromMemory(...)` or one of your own. */
export interface LoadHandler {
  load(): Promise<ModelArtifactsLike>;
}

export interface SaveOptions {
  /**
   * Save the compile() arguments and the optimizer's state (Adam's m, v and step count; SGD's
   * velocity) so training resumes where it stopped. Default true (tfjs' default is false).
   */
  includeOptimizer?: boolean;
  /** Stored in model.json's userDefinedMetadata; defaults to the model's own `classNames`, if set. */
  classNames?: readonly string[];
}

export interface LoadOptions {
  /**
   * Compile the model from model.json's trainingConfig (when it has one) and restore the
   * optimizer state. Default true; false loads the layers and weights only (e.g. to predict with
   * a model whose loss or optimizer gpu-cnn lacks).
   */
  compile?: boolean;
}
