// Node's side of classify: image paths are files. The Node entry calls useNodeImageFiles() once.
import { setImageFileReader } from "./classify.js";
import { readBytes } from "./data/files.node.js";

export function useNodeImageFiles(): void {
  setImageFileReader(readBytes);
}
