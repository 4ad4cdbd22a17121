// The model, data and training run that the browser and Node both execute (the same code on
// both sides): 12×12×1 images of three patterns → Conv2D 4 3×3 relu → MaxPooling2D → Flatten →
// Dense 3 softmax, Adam, a fixed seed; the per-step losses are what the two platforms compare.
import { Adam, Conv2D, Dense, Flatten, MaxPooling2D, Sequential, tensor, type Tensor } from "../../../src/index.js";
import { Data } from "./kit.js";

export const SEED = 20240611;
export const SIDE = 12;
export const CLASSES = 3;
export const SAMPLES = 48;
export const BATCH = 8;
export const EPOCHS = 2;

export interface Samples {
  x: number[];
  y: number[];
  count: number;
}

/** Class 0: a vertical bar, 1: a horizontal bar, 2: a diagonal; each at a random place, with noise. */
export function patterns(seed: number, count: number): Samples {
  const data = new Data(seed);
  const x: number[] = [];
  const y: number[] = [];
  for (let n = 0; n < count; n++) {
    const label = n % CLASSES;
    const at = data.int(2, SIDE - 3);
    for (let r = 0; r < SIDE; r++) {
      for (let c = 0; c < SIDE; c++) {
        const on = label === 0 ? c === at : label === 1 ? r === at : Math.abs(r - c) <= 1;
        x.push(Math.fround((on ? 0.8 : 0) + 0.2 * data.uniform()));
      }
    }
    for (let k = 0; k < CLASSES; k++) y.push(k === label ? 1 : 0);
  }
  return { x, y, count };
}

export function toTensors(s: Samples): [Tensor, Tensor] {
  return [tensor(Float32Array.from(s.x), [s.count, SIDE, SIDE, 1]), tensor(Float32Array.from(s.y), [s.count, CLASSES])];
}

export function parityModel(seed = SEED): Sequential {
  const model = new Sequential({ seed, name: "parity" });
  model.add(new Conv2D(4, [3, 3], { inputShape: [SIDE, SIDE, 1], activation: "relu" }));
  model.add(new MaxPooling2D({ poolSize: [2, 2] }));
  model.add(new Flatten());
  model.add(new Dense(CLASSES, { activation: "softmax" }));
  model.compile({ optimizer: new Adam({ learningRate: 0.01 }), loss: "categoricalCrossentropy", metrics: ["accuracy"] });
  return model;
}

/** Trains with fit (shuffled batches, seeded) and returns every step's loss. */
export async function trainParity(model: Sequential, train: Samples): Promise<number[]> {
  const [x, y] = toTensors(train);
  const losses: number[] = [];
  await model.fit(x, y, { epochs: EPOCHS, batchSize: BATCH, verbose: 0, callbacks: { onBatchEnd: (_b, logs) => void losses.push(logs.loss) } });
  x.dispose();
  y.dispose();
  return losses;
}

/** Class probabilities for the samples, as plain numbers. */
export async function predictions(model: Sequential, s: Samples): Promise<number[]> {
  const [x, y] = toTensors(s);
  const probs = await model.predict(x);
  const out = Array.from(await probs.data());
  for (const t of [x, y, probs]) t.dispose();
  return out;
}

/** Two more trainOnBatch steps (the second one's loss depends on the optimizer state after the first). */
export async function resume(model: Sequential, s: Samples): Promise<number[]> {
  const [x, y] = toTensors(s);
  const losses = [(await model.trainOnBatch(x, y)).loss, (await model.trainOnBatch(x, y)).loss];
  x.dispose();
  y.dispose();
  return losses;
}
