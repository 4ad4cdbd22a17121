// Every op, one per file: its forward dispatch and its backward rule together.
export { add } from "./add.js";
export { biasAdd } from "./bias.js";
export { dense } from "./dense.js";
export { conv2d, conv2dOutputShape, type Conv2dOptions, type Conv2dPadding } from "./conv2d.js";
export { fill, zeros, ones } from "./fill.js";
export { matmul } from "./matmul.js";
export { maxPool2d, maxPool2dOutputShape, type MaxPool2dOptions, type PoolPadding } from "./maxpool2d.js";
export { relu } from "./relu.js";
export { scale } from "./scale.js";
export { sum, sumRows, mean } from "./sum.js";
export { softmax } from "./softmax.js";
export { softmaxCrossEntropy, categoricalCrossentropyFromProbs } from "./softmaxCrossEntropy.js";
export { accuracy } from "./accuracy.js";
export { adamUpdate, type AdamOptions } from "./adam.js";
export { sgdUpdate, type SgdOptions } from "./sgd.js";
export { guard } from "./guard.js";
