// The parts of gpu-cnn's public API the op rows use, imported from their own modules (as
// src/index.node.ts does, Dawn first) so an op or layer still being written elsewhere in the tree
// marks its rows "n/a" instead of stopping the whole benchmark.
import { useDawn } from "../src/node.js";

useDawn();

export { initGpu, gpuInfo, disposeGpu, describeGpu, type GpuInfo } from "../src/device.js";
export { Tensor, tensor, tidy } from "../src/tensor.js";
export { backward, record } from "../src/autograd.js";
