// Node entry: Dawn provides WebGPU; the API is the browser entry's, unchanged.
import "./node.js";
export * from "./index.js";
