// Preprocessing and augmentation layers save with the model, so inference preprocesses exactly
// as training did.
import { describe, expect, it } from "vitest";
import {
  Conv2D, Dense, Flatten, loadModel, modelToArtifacts, Normalization, RandomFlip, RandomRotation, Rescaling, Resizing, Sequential, tensor,
} from "../../src/index.node.js";
import { Random, testSeed, useGpu } from "../helpers.js";

useGpu();
const seed = testSeed("io preprocessing");

describe("preprocessing layers in saved models", () => {
  it("Resizing, Rescaling, Normalization and augmentation layers round-trip and predict the same", async () => {
    const model = new Sequential({ seed });
    model.add(new Resizing(8, 8, { inputShape: [10, 10, 3] }));
    model.add(new Rescaling(1 / 255, 0.5));
    model.add(new Normalization({ mean: [0.1, 0.2, 0.3], variance: [1, 2, 3] }));
    model.add(new RandomFlip("horizontal", { seed: 3 }));
    model.add(new RandomRotation(0.1, { seed: 4 }));
    model.add(new Conv2D(2, [3, 3], { activation: "relu" }));
    model.add(new Flatten());
    model.add(new Dense(3, { activation: "softmax" }));
    const x = tensor(Float32Array.from(new Random(seed).array(2 * 10 * 10 * 3, 0, 255)), [2, 10, 10, 3]);
    const before = await (await model.predict(x)).data();
    const artifacts = await modelToArtifacts(model);
    const names = (artifacts.modelTopology as { config: { layers: { class_name: string }[] } }).config.layers.map((l) => l.class_name);
    expect(names).toEqual(["Resizing", "Rescaling", "Normalization", "RandomFlip", "RandomRotation", "Conv2D", "Flatten", "Dense"]);
    const loaded = await loadModel(artifacts);
    const after = await (await loaded.predict(x)).data();
    expect(Array.from(after)).toEqual(Array.from(before));
    model.dispose();
    loaded.dispose();
  });
});
