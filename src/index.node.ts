// Node entry: Dawn provides WebGPU; the API is the browser entry's, unchanged.
import { useDawn } from "./node.js";

useDawn();

export * from "./index.js";
