// Node entry: Dawn provides WebGPU; the API is the browser entry's, plus what needs the file
// system or Node's image decoders.
import { useNodeImageFiles } from "./classify.node.js";
import { useNodeFiles } from "./io/files.node.js";
import { useDawn } from "./node.js";

useDawn();
useNodeFiles(); // saveModel / loadModel take folder paths
useNodeImageFiles(); // predictImage / classify take file paths

export * from "./index.js";
export { imageDatasetFromDirectory, loadImage, imagesToTensor, ImageDataset, IMAGE_EXTENSIONS } from "./data/dataset.js";
export type { ImageDatasetOptions, ImagePreprocessOptions, ImageBatch, SkippedImage, LabelMode, Subset } from "./data/dataset.js";
export { decodeImage, toColorMode, type DecodedImage, type RawImage, type ColorMode, type ImageFormat } from "./data/decode.js";
export { predictImage, predictImages, classify, type ImageInput, type ClassProbability, type PredictImageOptions } from "./classify.js";
