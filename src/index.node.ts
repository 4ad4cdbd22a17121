// Node entry: Dawn provides WebGPU; the API is the browser entry's, plus what needs the file
// system or Node's image decoders.
import { useNodeImageFiles } from "./classify.node.js";
import { useNodeFiles } from "./io/files.node.js";
import { useDawn } from "./node.js";

useDawn();
useNodeFiles(); // saveModel / loadModel take folder paths
useNodeImageFiles(); // predictImage / classify / loadImage take file paths

export * from "./index.js";
export { imageDatasetFromDirectory, ImageDataset, IMAGE_EXTENSIONS } from "./data/dataset.js";
export type { ImageDatasetOptions, ImageBatch, SkippedImage, LabelMode, Subset } from "./data/dataset.js";
export { decodeImage, toColorMode, type DecodedImage, type ImageFormat } from "./data/decode.js";
