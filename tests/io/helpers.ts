// Shared by the save/load tests: the seed architecture at a small size, seeded batches, temporary
// folders, and tfjs-side folder IO (tfjs-node, which has "file://", is not installable here).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type * as tfType from "@tensorflow/tfjs";
import { afterAll } from "vitest";
import { Conv2D, Dense, Flatten, MaxPooling2D, Sequential, tensor, type Optimizer, type Tensor } from "../../src/index.node.js";
import { Random } from "../helpers.js";

export const INPUT = [12, 12, 1];
export const CLASSES = 3;

/** Conv2D 4 3×3 relu, MaxPooling2D, Flatten, Dense 8 relu, Dense 3 softmax on 12×12×1. */
export function smallModel(seed: number, optimizer?: Optimizer | string): Sequential {
  const model = new Sequential({ seed });
  model.add(new Conv2D(4, [3, 3], { inputShape: INPUT, activation: "relu" }));
  model.add(new MaxPooling2D({ poolSize: [2, 2] }));
  model.add(new Flatten());
  model.add(new Dense(8, { activation: "relu" }));
  model.add(new Dense(CLASSES, { activation: "softmax" }));
  if (optimizer) model.compile({ optimizer, loss: "categoricalCrossentropy", metrics: ["accuracy"] });
  return model;
}

export interface Batch {
  x: Float32Array;
  y: Float32Array;
  n: number;
}

export function batch(seed: number, n = 6): Batch {
  const random = new Random(seed);
  const x = Float32Array.from(random.array(n * 144, 0, 1));
  const y = Float32Array.from(random.oneHot(n, CLASSES));
  return { x, y, n };
}

export function xTensor(b: Batch): Tensor {
  return tensor(b.x, [b.n, ...INPUT]);
}

export function yTensor(b: Batch): Tensor {
  return tensor(b.y, [b.n, CLASSES]);
}

/** A temporary folder for this test file, removed when it ends. */
export function tempFolder(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `gpu-cnn-${name}-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export async function predictValues(model: Sequential, b: Batch): Promise<Float32Array> {
  const out = await model.predict(xTensor(b));
  const values = await out.data();
  out.dispose();
  return values;
}

export async function weightValues(model: Sequential): Promise<Float32Array[]> {
  const ws = model.getWeights();
  const out = await Promise.all(ws.map((w) => w.data()));
  ws.forEach((w) => w.dispose());
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return Number.isNaN(d) ? Infinity : d;
}

/** tfjs reads a model folder: model.json and its weight files, as tfjs-node's file:// would. */
export function tfjsFolderHandler(dir: string): tfType.io.IOHandler {
  return {
    async load() {
      const json = JSON.parse(readFileSync(join(dir, "model.json"), "utf8"));
      const buffers = json.weightsManifest.flatMap((g: { paths: string[] }) => g.paths.map((p) => readFileSync(join(dir, p))));
      const all = Buffer.concat(buffers);
      return {
        modelTopology: json.modelTopology,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        trainingConfig: json.trainingConfig,
        userDefinedMetadata: json.userDefinedMetadata,
        weightSpecs: json.weightsManifest.flatMap((g: { weights: unknown[] }) => g.weights),
        weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
      };
    },
  };
}

/** tfjs writes a model folder (model.json + weights.bin) from its artifacts, as tfjs-node's file:// does. */
export function writeTfjsFolder(dir: string, artifacts: tfType.io.ModelArtifacts): void {
  mkdirSync(dir, { recursive: true });
  const { weightSpecs, weightData, ...rest } = artifacts;
  writeFileSync(join(dir, "model.json"), JSON.stringify({ ...rest, weightsManifest: [{ paths: ["weights.bin"], weights: weightSpecs }] }));
  writeFileSync(join(dir, "weights.bin"), new Uint8Array(weightData as ArrayBuffer));
}
