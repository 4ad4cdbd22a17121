// gpu-cnn's public API (re-exports only).
export { initGpu, gpuInfo, disposeGpu, describeGpu, type GpuInfo } from "./device.js";
export { Tensor, tensor, tidy, keep, type Shape, type NestedArray } from "./tensor.js";
export { backward, noGrad } from "./autograd.js";
export { memory } from "./memory.js";
export * as ops from "./ops/index.js";
