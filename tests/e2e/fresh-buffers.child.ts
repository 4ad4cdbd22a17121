// Run by fresh-buffers.test.ts in a child process (Dawn's flags are fixed per process): trains a
// small seeded CNN and prints, as one JSON line, what a user would see, plus what a fresh buffer
// holds before anything writes it.
import { Conv2D, Dense, Flatten, MaxPooling2D, Sequential, oneHot, tensor } from "../../src/index.node.js";
import { gpu } from "../../src/device.js";
import { Random } from "../../src/random.js";

const random = new Random(20261205);
// odd sizes throughout, so vec4 kernels meet tensors whose last vec4 is partly padding
const [count, h, w, classes] = [21, 13, 11, 3];
const data = new Float32Array(count * h * w);
const labels: number[] = [];
for (let n = 0; n < count; n++) {
  labels.push(n % classes);
  for (let i = 0; i < h * w; i++) data[n * h * w + i] = (i % classes === n % classes ? 0.5 : 0) + 0.5 * random.next();
}
const x = tensor(data, [count, h, w, 1]);
const y = oneHot(labels, classes);

const model = new Sequential({ seed: 7 });
model.add(new Conv2D(5, [3, 3], { inputShape: [h, w, 1], activation: "relu", padding: "same" }));
model.add(new MaxPooling2D({ poolSize: [2, 2] }));
model.add(new Flatten());
model.add(new Dense(7, { activation: "relu" }));
model.add(new Dense(classes, { activation: "softmax" }));
model.compile({ optimizer: "adam", loss: "categoricalCrossentropy", metrics: ["accuracy"] });
const history = await model.fit(x, y, { epochs: 3, batchSize: 6, validationSplit: 0.25, shuffle: true, verbose: 0 });
const predictions = await model.predict(x);

// a buffer no one has written: zeros unless Dawn was told to fill new buffers with 0x01 bytes
const fresh = gpu().device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
const freshWord = new Uint32Array(await gpu().read(fresh, 0, 16))[0];

console.log("RESULT " + JSON.stringify({ history: history.history, predictions: Array.from(await predictions.data()), freshWord }));
process.exit(0);
