// The seed program of issue 3, as a Keras user writes it, on generated 224×224×3 images of 3
// classes (class c has a brighter channel c). Its Dense layer holds 50 million weights.
//   npm run build && npx tsx examples/seed.ts
import { Sequential, Conv2D, MaxPooling2D, Flatten, Dense, tensor, oneHot, disposeGpu } from "gpu-cnn";

const numClasses = 3;

function images(count: number): [ReturnType<typeof tensor>, ReturnType<typeof tensor>] {
  const data = new Float32Array(count * 224 * 224 * 3);
  const labels: number[] = [];
  for (let n = 0; n < count; n++) {
    labels.push(n % numClasses);
    for (let i = 0; i < 224 * 224 * 3; i++) data[n * 224 * 224 * 3 + i] = (i % 3 === n % numClasses ? 0.6 : 0) + 0.4 * Math.random();
  }
  return [tensor(data, [count, 224, 224, 3]), oneHot(labels, numClasses)];
}
const [trainData, trainLabels] = images(64);
const [valData, valLabels] = images(16);

const model = new Sequential();
model.add(new Conv2D(32, [3, 3], { inputShape: [224, 224, 3], activation: "relu" }));
model.add(new MaxPooling2D({ poolSize: [2, 2] }));
model.add(new Flatten());
model.add(new Dense(128, { activation: "relu" }));
model.add(new Dense(numClasses, { activation: "softmax" }));
model.compile({ optimizer: "adam", loss: "categoricalCrossentropy", metrics: ["accuracy"] });
model.summary();
const history = await model.fit(trainData, trainLabels, {
  validationData: [valData, valLabels], epochs: 3, batchSize: 32, verbose: process.stdout.isTTY ? 1 : 2,
});
console.log("val_accuracy per epoch:", history.history.val_accuracy.map((a) => a.toFixed(3)).join(", "));
await disposeGpu();
