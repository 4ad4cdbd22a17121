// Save and load within gpu-cnn: training N steps, saving, loading and training M more equals
// training N + M steps straight (the optimizer state travels with the model); in-memory
// artifacts round-trip too, with the class names and a model.json that saves back unchanged.
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { Adam, initGpu, loadModel, modelToArtifacts, saveModel, SGD, type Optimizer, type Sequential } from "../../src/index.node.js";
import { testSeed } from "../helpers.js";
import { batch, maxAbsDiff, predictValues, smallModel, tempFolder, weightValues, xTensor, yTensor } from "./helpers.js";

const seed = testSeed("io roundtrip");
const root = tempFolder("roundtrip");

beforeAll(async () => {
  await initGpu();
});

async function train(model: Sequential, steps: number[]): Promise<number[]> {
  const losses: number[] = [];
  for (const s of steps) losses.push((await model.trainOnBatch(xTensor(batch(seed + s)), yTensor(batch(seed + s)))).loss);
  return losses;
}

describe("resuming training from a saved model", () => {
  const N = [0, 1, 2];
  const M = [3, 4, 5];
  const cases: [string, () => Optimizer][] = [
    ["Adam", () => new Adam({ learningRate: 0.01 })],
    ["SGD with momentum", () => new SGD({ learningRate: 0.05, momentum: 0.9 })],
  ];
  for (const [label, optimizer] of cases) {
    it(`${label}: N steps, save, load, M steps equals N + M steps straight`, async () => {
      const straight = smallModel(seed, optimizer());
      const straightLosses = await train(straight, [...N, ...M]);

      const first = smallModel(seed, optimizer());
      const firstLosses = await train(first, N);
      const dir = join(root, label);
      await saveModel(first, dir);
      first.dispose();
      const resumed = await loadModel(dir);
      expect(resumed.optimizer!.className).toBe(label === "Adam" ? "Adam" : "SGD");
      expect(resumed.optimizer!.iterations).toBe(N.length);
      const resumedLosses = await train(resumed, M);

      const losses = [...firstLosses, ...resumedLosses];
      console.log(`${label}: straight ${straightLosses.map((l) => l.toFixed(6))}, saved and resumed ${losses.map((l) => l.toFixed(6))}`);
      expect(maxAbsDiff(losses, straightLosses)).toBeLessThan(1e-5);
      const a = await weightValues(resumed);
      const b = await weightValues(straight);
      expect(Math.max(...a.map((w, i) => maxAbsDiff(w, b[i])))).toBeLessThan(1e-5);

      // without the optimizer state the same M steps go elsewhere: the state is what makes them match
      const dir2 = join(root, `${label}-no-optimizer`);
      const again = smallModel(seed, optimizer());
      await train(again, N);
      await saveModel(again, dir2, { includeOptimizer: false });
      again.dispose();
      const fresh = await loadModel(dir2);
      expect(fresh.optimizer).toBeNull();
      fresh.compile({ optimizer: optimizer(), loss: "categoricalCrossentropy" });
      const freshLosses = await train(fresh, M);
      expect(maxAbsDiff(freshLosses.slice(1), straightLosses.slice(N.length + 1))).toBeGreaterThan(1e-4);
      for (const m of [straight, resumed, fresh]) m.dispose();
    });
  }
});

describe("in-memory artifacts", () => {
  it("round-trip the layers, weights, names, class names and training config; model.json saves back unchanged", async () => {
    const model = smallModel(seed + 7, "adam");
    await train(model, [0]);
    const artifacts = await modelToArtifacts(model, { classNames: ["circle", "square", "triangle"] });
    expect(artifacts.userDefinedMetadata).toEqual({ classNames: ["circle", "square", "triangle"] });
    expect(artifacts.weightData.byteLength).toBe(artifacts.weightSpecs.reduce((n, s) => n + 4 * s.shape.reduce((a, b) => a * b, 1), 0));

    const loaded = await loadModel(artifacts);
    expect(loaded.name).toBe(model.name);
    expect(loaded.getConfig()).toEqual(model.getConfig());
    expect((loaded as Sequential & { classNames?: string[] }).classNames).toEqual(["circle", "square", "triangle"]);
    const probe = batch(seed + 50, 4);
    expect(maxAbsDiff(await predictValues(loaded, probe), await predictValues(model, probe))).toBe(0);

    const again = await modelToArtifacts(loaded);
    expect(again.modelTopology).toEqual(artifacts.modelTopology);
    expect(again.trainingConfig).toEqual(artifacts.trainingConfig);
    expect(again.weightSpecs).toEqual(artifacts.weightSpecs);
    expect(Buffer.from(again.weightData).equals(Buffer.from(artifacts.weightData))).toBe(true);

    // a tf.io-style handler works on both sides
    let saved: typeof artifacts | null = null;
    await saveModel(model, { save: async (a) => ((saved = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } }) });
    const viaHandler = await loadModel({ load: async () => saved! });
    expect(maxAbsDiff(await predictValues(viaHandler, probe), await predictValues(model, probe))).toBe(0);

    // compile: false skips the training config
    const plain = await loadModel(artifacts, { compile: false });
    expect(plain.optimizer).toBeNull();
    for (const m of [model, loaded, viaHandler, plain]) m.dispose();
  });

  it("loads a model.json whose topology starts with a Keras InputLayer (as Python Keras writes it)", async () => {
    const model = smallModel(seed + 8);
    const artifacts = await modelToArtifacts(model);
    const topology = structuredClone(artifacts.modelTopology);
    const first = topology.config.layers[0].config;
    topology.config.layers.unshift({ class_name: "InputLayer", config: { batch_input_shape: first.batch_input_shape, dtype: "float32", sparse: false, name: "input_1" } });
    delete first.batch_input_shape;
    const loaded = await loadModel({ ...artifacts, modelTopology: { model_config: topology } });
    expect(loaded.inputShape).toEqual([12, 12, 1]);
    const probe = batch(seed + 51, 2);
    expect(maxAbsDiff(await predictValues(loaded, probe), await predictValues(model, probe))).toBe(0);
    model.dispose();
    loaded.dispose();
  });

  it("loads from an http URL of model.json, fetching its weight files beside it", async () => {
    const model = smallModel(seed + 9, "adam");
    await train(model, [0]);
    const dir = join(root, "served");
    await saveModel(model, dir);
    const server = createServer((req, res) => {
      try {
        res.end(readFileSync(join(dir, req.url!.slice(1))));
      } catch {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const loaded = await loadModel(`${url}/model.json`);
      expect(loaded.optimizer!.iterations).toBe(1);
      const probe = batch(seed + 52, 3);
      expect(maxAbsDiff(await predictValues(loaded, probe), await predictValues(model, probe))).toBe(0);
      await expect(loadModel(`${url}/elsewhere/model.json`)).rejects.toThrow(/^gpu-cnn: loadModel\(http:.*\): fetching .* failed: HTTP 404/);
      loaded.dispose();
    } finally {
      server.close();
    }
    model.dispose();
  });

  it('"downloads://name" downloads name.json and name.weights.bin in a browser (a stub document here)', async () => {
    const model = smallModel(seed + 10);
    const clicked: { download: string; href: string }[] = [];
    const blobs = new Map<string, Blob>();
    const createObjectURL = vi.spyOn(URL, "createObjectURL").mockImplementation((blob) => {
      const href = `blob:${blobs.size}`;
      blobs.set(href, blob as Blob);
      return href;
    });
    vi.stubGlobal("document", { createElement: () => ({ href: "", download: "", click() { clicked.push({ download: this.download, href: this.href }); } }) });
    try {
      // the blob URLs are revoked a minute later: drop that one timer (faking all timers would
      // also stop Dawn's own polling, and the GPU read-back would never finish)
      const realSetTimeout = globalThis.setTimeout;
      const timers = vi.spyOn(globalThis, "setTimeout").mockImplementation(((fn: () => void, ms?: number, ...rest: unknown[]) =>
        ms === 60_000 ? 0 : realSetTimeout(fn, ms, ...rest)) as typeof setTimeout);
      const result = await saveModel(model, "downloads://digits").finally(() => timers.mockRestore());
      expect(clicked.map((c) => c.download)).toEqual(["digits.json", "digits.weights.bin"]);
      const json = JSON.parse(await blobs.get(clicked[0].href)!.text());
      expect(json.weightsManifest[0].paths).toEqual(["./digits.weights.bin"]);
      expect(json.format).toBe("layers-model");
      const weights = await blobs.get(clicked[1].href)!.arrayBuffer();
      expect(weights.byteLength).toBe(result.modelArtifactsInfo.weightDataBytes);
      const loaded = await loadModel({ ...json, weightData: weights });
      const probe = batch(seed + 53, 2);
      expect(maxAbsDiff(await predictValues(loaded, probe), await predictValues(model, probe))).toBe(0);
      loaded.dispose();
    } finally {
      vi.unstubAllGlobals();
      createObjectURL.mockRestore();
    }
    model.dispose();
  });
});
