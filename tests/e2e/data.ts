// Small generated image sets for the end-to-end tests: class c is a bright vertical bar at a
// place of its own, over noise, so a small CNN learns it in a few epochs.
import { Conv2D, Dense, Flatten, MaxPooling2D, Sequential, tensor, type Tensor } from "../../src/index.node.js";
import { Random } from "../helpers.js";

export interface Generated {
  x: Tensor;
  y: Tensor;
  xs: Float32Array;
  ys: Float32Array;
  labels: number[];
}

export function bars(count: number, size: number, channels: number, classes: number, seed: number): Generated {
  const random = new Random(seed);
  const xs = new Float32Array(count * size * size * channels);
  const ys = new Float32Array(count * classes);
  const labels: number[] = [];
  const band = Math.max(1, Math.floor(size / classes));
  for (let n = 0; n < count; n++) {
    const label = n % classes;
    labels.push(label);
    ys[n * classes + label] = 1;
    for (let i = 0; i < size; i++)
      for (let j = 0; j < size; j++)
        for (let c = 0; c < channels; c++) {
          const onBar = j >= label * band && j < (label + 1) * band;
          xs[((n * size + i) * size + j) * channels + c] = (onBar ? 0.8 : 0) + 0.2 * random.uniform();
        }
  }
  return { x: tensor(xs, [count, size, size, channels]), y: tensor(ys, [count, classes]), xs, ys, labels };
}

/** The seed architecture, small: conv relu -> pool -> flatten -> dense relu -> dense softmax. */
export function smallCnn(size: number, channels: number, classes: number, seed: number): Sequential {
  const model = new Sequential({ seed });
  model.add(new Conv2D(4, [3, 3], { inputShape: [size, size, channels], activation: "relu" }));
  model.add(new MaxPooling2D({ poolSize: [2, 2] }));
  model.add(new Flatten());
  model.add(new Dense(16, { activation: "relu" }));
  model.add(new Dense(classes, { activation: "softmax" }));
  return model;
}
