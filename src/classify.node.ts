// Node's side of reading images (predictImage, classify, loadImage): image paths are files,
// decoded by the same code as imageDatasetFromDirectory, so a prediction sees the pixels
// training saw. The Node entry calls useNodeImageFiles() once.
import { setImageDecoding } from "./data/image-input.js";
import { decodeImage } from "./data/decode.js";
import { readBytes } from "./data/files.node.js";

export function useNodeImageFiles(): void {
  setImageDecoding({ readFile: readBytes, decode: decodeImage });
}
