// Every op, one per file: its forward dispatch and its backward rule together.
export { add } from "./add.js";
export { biasAdd } from "./bias.js";
export { fill, zeros, ones } from "./fill.js";
export { relu } from "./relu.js";
export { scale } from "./scale.js";
export { sum, sumRows, mean } from "./sum.js";
