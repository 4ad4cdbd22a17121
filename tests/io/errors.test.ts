// Loading bad model folders fails with one clear line naming the folder and what is wrong.
import { cpSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { initGpu, loadModel, modelToArtifacts, saveModel, type ModelJSON } from "../../src/index.node.js";
import { testSeed } from "../helpers.js";
import { smallModel, tempFolder } from "./helpers.js";

const seed = testSeed("io errors");
const root = tempFolder("errors");
const good = join(root, "good");

beforeAll(async () => {
  await initGpu();
  const model = smallModel(seed, "adam");
  await saveModel(model, good);
  model.dispose();
});

let copies = 0;
/** A copy of the good model folder with model.json edited by `edit`. */
function brokenCopy(edit?: (json: ModelJSON) => void): string {
  const dir = join(root, `broken-${++copies}`);
  cpSync(good, dir, { recursive: true });
  if (edit) {
    const json = JSON.parse(readFileSync(join(dir, "model.json"), "utf8")) as ModelJSON;
    edit(json);
    writeFileSync(join(dir, "model.json"), JSON.stringify(json));
  }
  return dir;
}

/** Loading `dir` fails with one line that matches `pattern`. */
async function expectLoadError(dir: string, pattern: RegExp): Promise<void> {
  const error = await loadModel(dir).then(
    () => null,
    (e: Error) => e,
  );
  expect(error, "loadModel should have failed").toBeInstanceOf(Error);
  const message = error!.message;
  console.log(message);
  expect(message).toMatch(/^gpu-cnn: loadModel\(/);
  expect(message).toContain(dir);
  expect(message).toMatch(pattern);
  expect(message).not.toContain("\n");
}

describe("loading a bad model folder", () => {
  it("without weights.bin", async () => {
    const dir = brokenCopy();
    rmSync(join(dir, "weights.bin"));
    await expectLoadError(dir, /weights\.bin is missing from .*\(model\.json's weightsManifest lists it\)/);
  });

  it("with a layer class gpu-cnn lacks", async () => {
    const dir = brokenCopy((json) => {
      json.modelTopology.config.layers[3].class_name = "BatchNormalization";
    });
    await expectLoadError(dir, /layer 4 of 5 "dense_\d+" \(BatchNormalization\): gpu-cnn has no BatchNormalization layer; it loads Conv2D, MaxPooling2D, Flatten, Dense, .*InputLayer/);
  });

  it("with a weight whose shape does not match the layer", async () => {
    const dir = brokenCopy((json) => {
      json.weightsManifest[0].weights[4].shape = [4, 6]; // the last Dense kernel is [8, 3]: as many values, another shape
    });
    await expectLoadError(dir, /weight dense_\d+\/kernel is \[4, 6\] in the file, but layer dense_\d+ \(Dense\) built from model\.json needs \[8, 3\]/);
  });

  it("whose weights.bin is shorter than the manifest says", async () => {
    const dir = brokenCopy();
    const bytes = readFileSync(join(dir, "weights.bin"));
    writeFileSync(join(dir, "weights.bin"), bytes.subarray(0, bytes.length - 8));
    await expectLoadError(dir, /the weights hold \d+ bytes, but the manifest's \d+ weights need \d+: the weight data is truncated or belongs to another model/);
  });

  it("whose weights hold a NaN or an infinity", async () => {
    for (const [bits, shown] of [[0x7fc00000, "NaN"], [0xff800000, "-Infinity"]] as const) {
      const dir = brokenCopy();
      const bytes = readFileSync(join(dir, "weights.bin"));
      bytes.writeUInt32LE(bits, 4 * 5); // the first kernel's sixth value
      writeFileSync(join(dir, "weights.bin"), bytes);
      await expectLoadError(dir, new RegExp(`weight conv2d_\\d+/kernel \\[[0-9, ]+\\] holds ${shown} at element 5: the weights are corrupt, or were saved from a model whose training diverged`));
    }
  });

  it("with an activation gpu-cnn lacks", async () => {
    const dir = brokenCopy((json) => {
      json.modelTopology.config.layers[3].config.activation = "tanh";
    });
    await expectLoadError(dir, /layer 4 of 5 "dense_\d+" \(Dense\): activation "tanh" is not supported; use one of linear, relu, softmax/);
  });

  it("without model.json, or with broken JSON, or no folder at all", async () => {
    const empty = brokenCopy();
    rmSync(join(empty, "model.json"));
    await expectLoadError(empty, /model\.json is missing from the folder/);
    const garbled = brokenCopy();
    writeFileSync(join(garbled, "model.json"), "{ not json");
    await expectLoadError(garbled, /model\.json is not valid JSON/);
    await expectLoadError(join(root, "nowhere"), /no such folder/);
  });

  it("with an optimizer gpu-cnn lacks: says how to load it anyway", async () => {
    const dir = brokenCopy((json) => {
      json.trainingConfig!.optimizer_config = { class_name: "RMSProp", config: { learningRate: 0.001 } };
    });
    await expectLoadError(dir, /the optimizer RMSProp is not one gpu-cnn has \(Adam, SGD, Momentum\); load with \{ compile: false \}/);
    const model = await loadModel(dir, { compile: false });
    expect(model.optimizer).toBeNull();
    model.dispose();
  });

  it("in memory: artifacts without weightData", async () => {
    const model = smallModel(seed);
    const { weightData: _dropped, ...artifacts } = await modelToArtifacts(model);
    await expect(loadModel(artifacts)).rejects.toThrow(/^gpu-cnn: loadModel\(artifacts\): the artifacts list 6 weights but hold no weightData$/);
    model.dispose();
  });
});
