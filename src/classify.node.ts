// Node's side of classify: image paths are files, decoded and colour-converted by the same code
// as imageDatasetFromDirectory, so a prediction sees the pixels training saw. The Node entry
// calls useNodeImageFiles() once.
import { setImageDecoding } from "./classify.js";
import { decodeImage, toColorMode } from "./data/decode.js";
import { readBytes } from "./data/files.node.js";

export function useNodeImageFiles(): void {
  setImageDecoding({ readFile: readBytes, decode: decodeImage, toColorMode });
}
