// gpu-cnn's public API (re-exports only).
export { initGpu, gpuInfo, disposeGpu, describeGpu, startProfile, stopProfile, type GpuInfo, type KernelTime } from "./device.js";
export { Tensor, tensor, tidy, keep, type Shape, type NestedArray } from "./tensor.js";
export { backward, noGrad } from "./autograd.js";
export { memory } from "./memory.js";
export * as ops from "./ops/index.js";
export { Sequential, History, NonFiniteLossError, type SequentialArgs, type CompileArgs, type FitArgs, type EvaluateArgs } from "./model.js";
export { Layer, LayerShapeError, Conv2D, MaxPooling2D, Flatten, Dense } from "./layers/index.js";
export type { Activation, CallArgs, LayerArgs, LayerWeight, Conv2DArgs, MaxPooling2DArgs, DenseArgs } from "./layers/index.js";
export { Optimizer, Adam, SGD, type AdamArgs, type SGDArgs } from "./optimizers.js";
export { Callback, EarlyStopping, type CallbackHooks, type EarlyStoppingArgs, type Logs } from "./callbacks.js";
export {
  initializers,
  Constant,
  Zeros,
  Ones,
  RandomUniform,
  RandomNormal,
  VarianceScaling,
  GlorotUniform,
  GlorotNormal,
  HeUniform,
  HeNormal,
  type Initializer,
} from "./initializers.js";
export { oneHot } from "./onehot.js";
export { resizeImage, cropToAspectRatio, type FloatImage, type Interpolation } from "./data/resize.js";
export { loadImage, imagesToTensor, type ImagePreprocessOptions } from "./data/preprocess.js";
export type { ImageInput } from "./data/image-input.js";
export type { RawImage, ColorMode } from "./data/pixels.js";
export { saveModel, modelToArtifacts } from "./io/save.js";
export { loadModel } from "./io/load.js";
export type { ModelArtifacts, ModelArtifactsLike, ModelJSON, ModelMetadata, SaveOptions, LoadOptions, SaveResult, SaveHandler, LoadHandler, WeightSpec, TrainingConfig } from "./io/types.js";
export { Rescaling, Normalization, Resizing, NORMALIZATION_EPSILON, type NormalizationArgs, type ResizingArgs, type AdaptBatch } from "./layers/preprocessing.js";
export { RandomImageLayer, RandomFlip, RandomTranslation, RandomRotation, RandomZoom, RandomContrast, RandomBrightness } from "./layers/augmentation.js";
export type { Factor, FlipMode, RandomLayerArgs, FillArgs, ColorArgs } from "./layers/augmentation.js";
export { classificationMetrics, confusionMatrix, topKAccuracy, evaluateDetailed, formatMetrics, formatConfusionMatrix, formatClassificationReport } from "./metrics.js";
export type { ClassificationMetrics, ClassMetrics, MetricsOptions, EvaluateDetailedOptions, BatchSource, LabelledBatch } from "./metrics.js";
export { fitDataset, type FitDatasetArgs } from "./fit-dataset.js";
export { predictImage, predictImages, classify, type ClassProbability, type PredictImageOptions } from "./classify.js";
