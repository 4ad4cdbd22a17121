// Both directions against TensorFlow.js itself (its CPU backend): a gpu-cnn model saved to a
// folder loads in tf.loadLayersModel and predicts the same, with its optimizer state; a tfjs
// Sequential of the same layers, saved by tfjs, loads into gpu-cnn, predicts the same and
// resumes training as tfjs does.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initGpu, loadModel, modelToArtifacts, saveModel, SGD, type Sequential, type Tensor } from "../../src/index.node.js";
import { testSeed } from "../helpers.js";
import { batch, CLASSES, INPUT, maxAbsDiff, predictValues, smallModel, tempFolder, tfjsFolderHandler, weightValues, writeTfjsFolder, xTensor, yTensor, type Batch } from "./helpers.js";

const seed = testSeed("io tfjs");
const root = tempFolder("tfjs");

beforeAll(async () => {
  await initGpu();
  await tf.setBackend("cpu");
});

function tfPredict(model: tf.LayersModel, b: Batch): Float32Array {
  return tf.tidy(() => (model.predict(tf.tensor(b.x, [b.n, ...INPUT])) as tf.Tensor).dataSync() as Float32Array);
}

/** gpu-cnn's optimizer state tensors, read: [m..., v...] for Adam, velocities for SGD. */
async function ourState(model: Sequential): Promise<Float32Array[]> {
  const params = model.layers.flatMap((l) => l.trainableWeights);
  const slots: Tensor[] = model.optimizer!.getWeights(params);
  return Promise.all(slots.map((t) => t.data()));
}

describe("gpu-cnn -> tfjs", () => {
  it("a saved gpu-cnn model loads in tf.loadLayersModel and predicts the same, with its Adam state", async () => {
    const model = smallModel(seed, "adam");
    for (let step = 0; step < 2; step++) await model.trainOnBatch(xTensor(batch(seed + step)), yTensor(batch(seed + step)));
    const dir = join(root, "ours");
    await saveModel(model, dir);

    const json = JSON.parse(readFileSync(join(dir, "model.json"), "utf8"));
    expect(json.format).toBe("layers-model");
    expect(json.modelTopology.class_name).toBe("Sequential");
    expect(json.modelTopology.config.layers.map((l: { class_name: string }) => l.class_name)).toEqual(["Conv2D", "MaxPooling2D", "Flatten", "Dense", "Dense"]);
    const conv = json.modelTopology.config.layers[0].config;
    expect(conv).toMatchObject({ filters: 4, kernel_size: [3, 3], strides: [1, 1], padding: "valid", activation: "relu", use_bias: true, data_format: "channels_last", dilation_rate: [1, 1], batch_input_shape: [null, 12, 12, 1], dtype: "float32", trainable: true });
    expect(conv.kernel_initializer).toEqual({ class_name: "GlorotUniform", config: { seed: null } });
    expect(json.weightsManifest).toHaveLength(1);
    expect(json.weightsManifest[0].paths).toEqual(["weights.bin"]);
    const names = json.weightsManifest[0].weights.map((w: { name: string }) => w.name);
    const conv1 = model.layers[0].name;
    expect(names.slice(0, 2)).toEqual([`${conv1}/kernel`, `${conv1}/bias`]);
    expect(names[6]).toBe("iter");
    expect(json.trainingConfig).toEqual({
      loss: "categorical_crossentropy",
      metrics: ["accuracy"],
      optimizer_config: { class_name: "Adam", config: { learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 } },
    });

    const tfModel = await tf.loadLayersModel(tfjsFolderHandler(dir));
    const probe = batch(seed + 100, 5);
    const diff = maxAbsDiff(await predictValues(model, probe), tfPredict(tfModel, probe));
    console.log(`gpu-cnn -> tfjs: max |Δ probability| ${diff}`);
    expect(diff).toBeLessThan(1e-5);

    // tfjs compiled it from trainingConfig and holds the same Adam state
    expect(tfModel.optimizer.getClassName()).toBe("Adam");
    const tfState = await tfModel.optimizer.getWeights();
    expect(tfState[0].tensor.dataSync()[0]).toBe(2);
    const ours = await ourState(model); // [m0, v0, m1, v1, ...]
    const params = ours.length / 2;
    expect(tfState.length).toBe(1 + ours.length);
    for (let i = 0; i < params; i++) {
      expect(maxAbsDiff(tfState[1 + i].tensor.dataSync(), ours[2 * i])).toBe(0);
      expect(maxAbsDiff(tfState[1 + params + i].tensor.dataSync(), ours[2 * i + 1])).toBe(0);
    }
    tfModel.dispose();
    model.dispose();
  });

  it("SGD with momentum saves as tfjs' Momentum, with its accumulators", async () => {
    const model = smallModel(seed + 1, new SGD({ learningRate: 0.05, momentum: 0.9 }));
    await model.trainOnBatch(xTensor(batch(seed)), yTensor(batch(seed)));
    const dir = join(root, "ours-sgd");
    await saveModel(model, dir);
    const tfModel = await tf.loadLayersModel(tfjsFolderHandler(dir));
    expect(tfModel.optimizer.getClassName()).toBe("Momentum");
    const tfState = await tfModel.optimizer.getWeights();
    const velocities = await ourState(model);
    expect(tfState.length).toBe(1 + velocities.length);
    velocities.forEach((v, i) => {
      const accumulation = v.map((x) => -x / 0.05);
      expect(maxAbsDiff(tfState[1 + i].tensor.dataSync(), accumulation)).toBeLessThan(1e-6);
    });
    const probe = batch(seed + 101, 4);
    expect(maxAbsDiff(await predictValues(model, probe), tfPredict(tfModel, probe))).toBeLessThan(1e-5);
    tfModel.dispose();
    model.dispose();
  });
});

describe("tfjs -> gpu-cnn", () => {
  function tfSmallModel(): tf.Sequential {
    const m = tf.sequential();
    m.add(tf.layers.conv2d({ filters: 4, kernelSize: [3, 3], inputShape: INPUT, activation: "relu" }));
    m.add(tf.layers.maxPooling2d({ poolSize: [2, 2] }));
    m.add(tf.layers.flatten());
    m.add(tf.layers.dense({ units: 8, activation: "relu" }));
    m.add(tf.layers.dense({ units: CLASSES, activation: "softmax" }));
    return m;
  }

  async function saveTfjs(m: tf.LayersModel, dir: string, includeOptimizer: boolean): Promise<tf.io.ModelArtifacts> {
    let artifacts: tf.io.ModelArtifacts | null = null;
    await m.save(
      tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
      }),
      { includeOptimizer },
    );
    writeTfjsFolder(dir, artifacts!);
    return artifacts!;
  }

  const toTf = (b: Batch): [tf.Tensor, tf.Tensor] => [tf.tensor(b.x, [b.n, ...INPUT]), tf.tensor(b.y, [b.n, CLASSES])];

  const optimizers: [string, () => tf.Optimizer, string][] = [
    ["adam", () => tf.train.adam(0.01), "Adam"],
    ["momentum", () => tf.train.momentum(0.05, 0.9), "SGD"],
  ];
  for (const [label, makeOptimizer, ours] of optimizers) {
    it(`a tfjs Sequential (${label}) saved by tfjs loads into gpu-cnn, predicts the same and resumes training as tfjs`, async () => {
      const tfModel = tfSmallModel();
      tfModel.compile({ optimizer: makeOptimizer(), loss: "categoricalCrossentropy", metrics: ["accuracy"] });
      await tfModel.trainOnBatch(...toTf(batch(seed + 200)));
      const dir = join(root, `theirs-${label}`);
      const artifacts = await saveTfjs(tfModel, dir, true);

      const model = await loadModel(dir);
      expect(model.name).toBe(tfModel.name);
      expect(model.layers.map((l) => l.name)).toEqual(tfModel.layers.map((l) => l.name));
      const probe = batch(seed + 300, 5);
      const diff = maxAbsDiff(await predictValues(model, probe), tfPredict(tfModel, probe));
      console.log(`tfjs (${label}) -> gpu-cnn: max |Δ probability| ${diff}`);
      expect(diff).toBeLessThan(1e-5);

      // compiled from trainingConfig, with tfjs' step count and optimizer state
      expect(model.optimizer!.className).toBe(ours);
      expect(model.optimizer!.iterations).toBe(1);
      const tfState = (await tfModel.optimizer.getWeights()).slice(1).map((w) => w.tensor.dataSync() as Float32Array);
      const state = await ourState(model);
      if (label === "adam") {
        const n = state.length / 2;
        state.forEach((s, i) => expect(maxAbsDiff(s, tfState[(i % 2) * n + Math.floor(i / 2)])).toBe(0));
      } else {
        state.forEach((v, i) => expect(maxAbsDiff(v, tfState[i].map((a) => -0.05 * a))).toBeLessThan(1e-7));
      }

      // more steps on each side. Momentum steps alike in tfjs and Keras, so losses and weights must
      // agree; Adam does not (tfjs adds epsilon to sqrt(v̂), Keras and gpu-cnn to sqrt(v), which
      // differs for gradients near 1e-6), so there only the first loss, on the loaded weights, is compared.
      const steps = label === "adam" ? [batch(seed + 201)] : [batch(seed + 201), batch(seed + 202)];
      for (const b of steps) {
        const theirs = (await tfModel.trainOnBatch(...toTf(b))) as number[];
        const step = await model.trainOnBatch(xTensor(b), yTensor(b));
        expect(Math.abs(step.loss - theirs[0])).toBeLessThan(1e-5);
      }
      if (label !== "adam") {
        const tfWeights = tfModel.getWeights().map((w) => w.dataSync());
        const ourWeights = await weightValues(model);
        const weightDiff = Math.max(...ourWeights.map((w, i) => maxAbsDiff(w, tfWeights[i])));
        console.log(`tfjs (${label}) -> gpu-cnn, 2 steps after loading: max |Δ weight| ${weightDiff}`);
        expect(weightDiff).toBeLessThan(1e-5);
      }

      // saved again by gpu-cnn, each layer carries every field tfjs wrote, with tfjs' values
      const resaved = await modelToArtifacts(model);
      const theirLayers = (artifacts.modelTopology as { config: { layers: { class_name: string; config: Record<string, unknown> }[] } }).config.layers;
      resaved.modelTopology.config.layers.forEach((layer, i) => {
        expect(layer.class_name).toBe(theirLayers[i].class_name);
        for (const [key, value] of Object.entries(theirLayers[i].config)) expect(layer.config[key], `${layer.class_name}.${key}`).toEqual(value);
      });
      model.dispose();
      tfModel.dispose();
    });
  }

  it("a tfjs model saved without its optimizer loads uncompiled and predicts the same", async () => {
    const tfModel = tfSmallModel();
    const dir = join(root, "theirs-plain");
    await saveTfjs(tfModel, dir, false);
    const model = await loadModel(dir);
    expect(model.optimizer).toBeNull();
    const probe = batch(seed + 400, 3);
    expect(maxAbsDiff(await predictValues(model, probe), tfPredict(tfModel, probe))).toBeLessThan(1e-5);
    model.dispose();
    tfModel.dispose();
  });
});
