// Saving to and loading from folders needs a file system: the Node entry registers it here (see
// files.node.ts), so the browser build carries no Node module and saveModel / loadModel have one
// signature everywhere.
import type { Sequential } from "../model.js";
import type { LoadOptions, SaveOptions, SaveResult } from "./types.js";

export interface FolderIO {
  save(model: Sequential, path: string, options: SaveOptions): Promise<SaveResult>;
  load(path: string, options: LoadOptions): Promise<Sequential>;
}

let folders: FolderIO | null = null;

export function setFolderIO(io: FolderIO): void {
  folders = io;
}

/** The file-system side, or null in a browser. */
export function folderIO(): FolderIO | null {
  return folders;
}
