// Saving a Sequential in TensorFlow.js' layers format: the topology as Keras writes it, the
// weights in Keras order named as tfjs names them ("conv2d_1/kernel"), then (includeOptimizer)
// the compile() arguments and the optimizer state as tfjs stores it: "iter", then Adam's m for
// every trainable weight, then its v; or tfjs Momentum's accumulators. tfjs loads the result
// with tf.loadLayersModel and resumes training from that state.
import type { Sequential } from "../model.js";
import { Adam, SGD, type Optimizer } from "../optimizers.js";
import { shapeString, type Tensor } from "../tensor.js";
import { serializeLayer } from "./keras.js";
import { folderIO } from "./platform.js";
import type { ModelArtifacts, ModelJSON, ModelMetadata, SaveHandler, SaveOptions, SaveResult, TrainingConfig, WeightSpec, WeightsGroup } from "./types.js";
import { specBytes } from "./weights.js";
import { checkOptions } from "../options.js";

/** Written in generatedBy and keras_version (tfjs writes "tfjs-layers <version>" there). */
export const GENERATED_BY = "gpu-cnn";

/** One weight to write: its spec and (when written) its values. */
export interface WeightEntry {
  spec: WeightSpec;
  values(): Promise<Float32Array | Int32Array>;
}

/** A model ready to write: model.json without its manifest, and the weights in file order. */
export interface ModelDescription {
  json: Omit<ModelJSON, "weightsManifest">;
  weights: WeightEntry[];
}

function trainableParams(model: Sequential): Tensor[] {
  return model.layers.flatMap((l) => l.trainableWeights);
}

/** tfjs' optimizer config and state weights (after "iter") for a gpu-cnn optimizer. */
function optimizerState(op: string, optimizer: Optimizer, params: Tensor[]): { config: TrainingConfig["optimizer_config"]; state: WeightEntry[] } {
  const trained = optimizer.iterations > 0;
  const entry = (name: string, t: Tensor, transform?: (v: Float32Array) => void): WeightEntry => ({
    spec: { name, shape: [...t.shape], dtype: "float32", group: "optimizer" },
    async values() {
      const v = await t.data();
      transform?.(v);
      return v;
    },
  });
  if (optimizer instanceof Adam) {
    const config = { class_name: "Adam", config: { learningRate: optimizer.learningRate, beta1: optimizer.beta1, beta2: optimizer.beta2, epsilon: optimizer.epsilon } };
    if (!trained) return { config, state: [] };
    const slots = optimizer.getWeights(params); // [m, v] per parameter
    const m = params.map((p, i) => entry(`${p.name}/m`, slots[2 * i]));
    const v = params.map((p, i) => entry(`${p.name}/v`, slots[2 * i + 1]));
    return { config, state: [...m, ...v] };
  }
  if (optimizer instanceof SGD) {
    const { learningRate, momentum } = optimizer;
    if (momentum === 0) return { config: { class_name: "SGD", config: { learningRate } }, state: [] };
    // tfjs' Momentum keeps accumulation = momentum * accumulation + g and steps by -lr * accumulation;
    // Keras' velocity is -lr times that accumulation, so the file holds -velocity / lr.
    const config = { class_name: "Momentum", config: { learningRate, momentum, useNesterov: false } };
    if (!trained) return { config, state: [] };
    const velocities = optimizer.getWeights(params);
    const state = params.map((p, i) =>
      entry(`${p.name}/momentum`, velocities[i], (v) => {
        for (let j = 0; j < v.length; j++) v[j] = -v[j] / learningRate;
      }),
    );
    return { config, state };
  }
  throw new Error(`gpu-cnn: ${op}(): cannot save the state of optimizer ${optimizer.className}; pass { includeOptimizer: false } to save the model without it`);
}

/** The compile() arguments the model was compiled with, or null. */
function compiledMetrics(model: Sequential): string[] | null {
  return model.compileConfig?.metrics ?? null;
}

function metadata(op: string, model: Sequential, options: SaveOptions): ModelMetadata | undefined {
  const names = options.classNames ?? model.classNames;
  if (names === null) return undefined;
  if (!Array.isArray(names) || !names.every((n) => typeof n === "string")) {
    throw new Error(`gpu-cnn: ${op}(): classNames must be a list of strings, got ${JSON.stringify(names)}`);
  }
  const out = model.outputShape;
  if (out && out.length === 1 && out[0] !== names.length) {
    throw new Error(`gpu-cnn: ${op}(): classNames lists ${names.length} classes, but ${model.name} outputs ${out[0]} (${shapeString(out)})`);
  }
  return { classNames: [...names] };
}

/** What saving writes, without reading any weight yet. */
export function describeModel(model: Sequential, options: SaveOptions = {}, op = "saveModel"): ModelDescription {
  if (!model || !Array.isArray(model.layers)) throw new Error(`gpu-cnn: ${op}(): expected a Sequential model, got ${typeof model}`);
  if (model.layers.length === 0) throw new Error(`gpu-cnn: ${op}(): ${model.name} has no layers to save`);
  const weights: WeightEntry[] = model.layers.flatMap((layer) =>
    layer.weights.map((w) => ({
      spec: { name: w.name, shape: [...w.tensor.shape], dtype: "float32" as const },
      values: () => w.tensor.data(),
    })),
  );
  const seen = new Set<string>();
  for (const { spec } of weights) {
    if (seen.has(spec.name)) throw new Error(`gpu-cnn: ${op}(): two weights are named ${spec.name}; give the layers of ${model.name} distinct names`);
    seen.add(spec.name);
  }
  const json: ModelDescription["json"] = {
    modelTopology: {
      class_name: "Sequential",
      config: { name: model.name, layers: model.layers.map(serializeLayer) },
      keras_version: GENERATED_BY,
      backend: "tensor_flow.js",
    },
    format: "layers-model",
    generatedBy: GENERATED_BY,
    convertedBy: null,
  };
  const meta = metadata(op, model, options);
  if (meta) json.userDefinedMetadata = meta;
  const metrics = compiledMetrics(model);
  const optimizer = model.optimizer;
  if ((options.includeOptimizer ?? true) && metrics && optimizer) {
    const { config, state } = optimizerState(op, optimizer, trainableParams(model));
    json.trainingConfig = { loss: "categorical_crossentropy", metrics, optimizer_config: config };
    const iterations = optimizer.iterations;
    weights.push({ spec: { name: "iter", shape: [], dtype: "int32", group: "optimizer" }, values: async () => Int32Array.of(iterations) });
    weights.push(...state);
  }
  return { json, weights };
}

/** model.json, its keys in tfjs' order. */
export function modelJSON(json: ModelDescription["json"], manifest: WeightsGroup[]): ModelJSON {
  const out: ModelJSON = { modelTopology: json.modelTopology, format: json.format, generatedBy: json.generatedBy, convertedBy: json.convertedBy, weightsManifest: manifest };
  if (json.userDefinedMetadata) out.userDefinedMetadata = json.userDefinedMetadata;
  if (json.trainingConfig) out.trainingConfig = json.trainingConfig;
  return out;
}

function byteLength(text: string): number {
  return new TextEncoder().encode(text).byteLength;
}

export function saveResult(json: ModelDescription["json"], specs: WeightSpec[], weightBytes: number): SaveResult {
  return {
    modelArtifactsInfo: {
      dateSaved: new Date(),
      modelTopologyType: "JSON",
      modelTopologyBytes: byteLength(JSON.stringify(json.modelTopology)),
      weightSpecsBytes: byteLength(JSON.stringify(specs)),
      weightDataBytes: weightBytes,
    },
  };
}

/**
 * The model in memory as tfjs' ModelArtifacts: model.json's fields plus weightSpecs and one
 * weightData buffer. What a browser keeps, sends, or hands to a tf.io handler.
 */
export async function modelToArtifacts(model: Sequential, options: SaveOptions = {}): Promise<ModelArtifacts> {
  const { json, weights } = describeModel(model, options, "modelToArtifacts");
  const specs = weights.map((w) => w.spec);
  const data = new Uint8Array(specs.reduce((n, s) => n + specBytes(s), 0));
  let offset = 0;
  for (const w of weights) {
    const v = await w.values();
    data.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), offset);
    offset += v.byteLength;
  }
  const { weightsManifest: _none, ...fields } = modelJSON(json, []);
  return { ...fields, weightSpecs: specs, weightData: data.buffer };
}

/** A browser download of model.json and its weights, named as tfjs' "downloads://" names them. */
function download(artifacts: ModelArtifacts, prefix: string): SaveResult {
  if (typeof document === "undefined") {
    throw new Error(`gpu-cnn: saveModel(): "downloads://${prefix}" needs a web page; in Node, save to a folder path instead`);
  }
  const weightsName = `${prefix}.weights.bin`;
  const { weightSpecs, weightData, ...rest } = artifacts;
  const json = modelJSON(rest, [{ paths: [`./${weightsName}`], weights: weightSpecs }]);
  const files: [string, Blob][] = [
    [`${prefix}.json`, new Blob([JSON.stringify(json)], { type: "application/json" })],
    [weightsName, new Blob([weightData], { type: "application/octet-stream" })],
  ];
  for (const [name, blob] of files) {
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = name;
    a.click();
    // the download reads the blob after this returns
    setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
  }
  return saveResult(rest, weightSpecs, weightData.byteLength);
}

/**
 * Saves a model in TensorFlow.js' layers format (tf.loadLayersModel reads it):
 * - a folder path (Node): writes model.json and weights.bin there, atomically (a temporary
 *   folder renamed into place: a failed save leaves the previous model as it was);
 * - "downloads://name" (browser): downloads name.json and name.weights.bin;
 * - a tfjs-style handler `{ save(artifacts) }`, e.g. tf.io.withSaveHandler(fn).
 * The optimizer state is saved too unless `includeOptimizer: false`.
 */
export async function saveModel(model: Sequential, target: string | SaveHandler, options: SaveOptions = {}): Promise<SaveResult> {
  checkOptions("save()", options, { includeOptimizer: true, classNames: true });
  if (target !== null && typeof target === "object" && typeof (target as SaveHandler).save === "function") {
    return target.save(await modelToArtifacts(model, options));
  }
  if (typeof target !== "string" || target === "") {
    throw new Error(`gpu-cnn: saveModel(): the target must be a folder path, "downloads://name" or a handler with save(artifacts), got ${JSON.stringify(target)}`);
  }
  if (target.startsWith("downloads://")) return download(await modelToArtifacts(model, options), target.slice("downloads://".length) || "model");
  const folders = folderIO();
  if (!folders || /^[a-z][a-z0-9+.-]*:\/\//i.test(target.replace(/^file:\/\//, ""))) {
    throw new Error(`gpu-cnn: saveModel(): cannot save to ${JSON.stringify(target)} here; folders need Node, and a browser saves to "downloads://name" or a handler`);
  }
  return folders.save(model, target, options);
}
