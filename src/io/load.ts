// Loading a TensorFlow.js layers model (saved by gpu-cnn, tfjs, or converted from Keras) into a
// gpu-cnn Sequential: layers rebuilt from the Keras topology, weights matched by name as tfjs
// matches them, then (when model.json has a trainingConfig) compiled with its optimizer state
// restored, so training resumes where it stopped.
import { gpu, initGpu } from "../device.js";
import { Sequential } from "../model.js";
import { Adam, SGD, type Optimizer } from "../optimizers.js";
import { shapeString, type Tensor } from "../tensor.js";
import { deserializeLayer, fromPythonic, LayerConfigError, toCamelCase } from "./keras.js";
import { folderIO } from "./platform.js";
import type { LoadHandler, LoadOptions, ModelArtifactsLike, WeightSpec } from "./types.js";
import { checkSpecs, decodeValues, memorySource, specBytes, type ByteSource } from "./weights.js";
import { checkOptions, type OptionKeys } from "../options.js";

/** A model to rebuild: model.json's fields, its weights in manifest order, and their bytes. */
export interface ModelSource {
  /** Names the source in errors: a folder, a URL, "artifacts". */
  where: string;
  json: Record<string, unknown>;
  specs: WeightSpec[];
  bytes: ByteSource;
}

type Fail = (message: string) => never;

export function failFor(where: string): Fail {
  return (message) => {
    throw new Error(`gpu-cnn: loadModel(${where}): ${message}`);
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The manifest's weights in order and the files holding them (relative paths). */
export function readManifest(manifest: unknown, fail: Fail): { specs: WeightSpec[]; paths: string[] } {
  if (!Array.isArray(manifest)) fail(`model.json has no weightsManifest list (got ${JSON.stringify(manifest)?.slice(0, 60)})`);
  const specs: WeightSpec[] = [];
  const paths: string[] = [];
  for (const group of manifest) {
    if (!isObject(group) || !Array.isArray(group.paths) || !group.paths.every((p) => typeof p === "string")) {
      fail(`each weightsManifest entry needs "paths" (a list of files) and "weights"`);
    }
    paths.push(...(group.paths as string[]));
    specs.push(...checkSpecs(group.weights, fail));
  }
  return { specs, paths };
}

/** Keras' Sequential topology: its name and layer list (unwrapping Keras' model_config). */
function readTopology(topology: unknown, fail: Fail): { name: string | undefined; layers: unknown[] } {
  if (!isObject(topology)) fail("there is no modelTopology (a graph model? gpu-cnn loads tfjs layers models)");
  const model = isObject(topology.model_config) ? topology.model_config : topology;
  if (model.class_name !== "Sequential") {
    fail(`the model is a ${JSON.stringify(model.class_name)}; gpu-cnn loads Sequential models only`);
  }
  const config = model.config;
  const layers = Array.isArray(config) ? config : isObject(config) ? config.layers : undefined;
  if (!Array.isArray(layers) || layers.length === 0) fail("the Sequential topology lists no layers");
  const name = isObject(config) && typeof config.name === "string" ? config.name : undefined;
  return { name, layers };
}

function layerLabel(entry: unknown, i: number, count: number): string {
  const e = isObject(entry) ? entry : {};
  const name = isObject(e.config) && typeof e.config.name === "string" ? ` "${e.config.name}"` : "";
  const cls = typeof e.class_name === "string" ? ` (${e.class_name})` : "";
  return `layer ${i + 1} of ${count}${name}${cls}`;
}

function buildModel(name: string | undefined, entries: unknown[], fail: Fail): Sequential {
  const model = new Sequential({ name });
  let inputShape: number[] | undefined;
  try {
    entries.forEach((entry, i) => {
      let built;
      try {
        built = deserializeLayer(entry, inputShape);
      } catch (e) {
        if (e instanceof LayerConfigError) fail(`${layerLabel(entry, i, entries.length)}: ${e.message}`);
        throw e;
      }
      if ("inputShape" in built) {
        inputShape = built.inputShape;
        return;
      }
      inputShape = undefined;
      try {
        model.add(built.layer);
      } catch (e) {
        fail(`the layers do not fit together: ${String((e as Error).message).replace(/^gpu-cnn: (Sequential\.add\(\): )?/, "")}`);
      }
    });
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}

/** tfjs' fallback for Keras names like "dense/dense/kernel": drop the scope before the last part. */
function shortName(name: string): string {
  const parts = name.split("/");
  return parts.length < 3 ? name : [...parts.slice(0, -2), parts[parts.length - 1]].join("/");
}

async function readValues(source: ModelSource, spec: WeightSpec, offset: number): Promise<Float32Array | Int32Array> {
  return decodeValues(spec, await source.bytes.read(offset, specBytes(spec)));
}

function upload(target: Tensor, values: Float32Array): void {
  if (values.length > 0) gpu().upload(target.buffer, 0, values);
}

function listNames(specs: WeightSpec[]): string {
  const names = specs.map((s) => s.name);
  return names.length > 6 ? `${names.slice(0, 6).join(", ")}, ...` : names.join(", ") || "none";
}

/** Copies the file's weights into the model's, matched by name; every weight must be there, with its shape. */
async function loadWeights(model: Sequential, source: ModelSource, specs: WeightSpec[], offsets: Map<WeightSpec, number>, fail: Fail): Promise<void> {
  const byName = new Map<string, WeightSpec>();
  for (const spec of specs) {
    if (byName.has(spec.name)) fail(`the manifest lists weight ${spec.name} twice`);
    byName.set(spec.name, spec);
  }
  const byShortName = new Map(specs.map((s) => [shortName(s.name), s]));
  const used = new Set<WeightSpec>();
  const pairs: [Tensor, WeightSpec][] = [];
  for (const layer of model.layers) {
    for (const w of layer.weights) {
      const spec = byName.get(w.name) ?? byShortName.get(w.name);
      if (!spec || used.has(spec)) fail(`the manifest has no weight ${w.name} ${shapeString(w.tensor.shape)} for layer ${layer.name} (it lists ${listNames(specs)})`);
      if (spec.dtype !== "float32") fail(`weight ${spec.name} is ${spec.dtype}; model weights must be float32`);
      if (spec.shape.length !== w.tensor.shape.length || spec.shape.some((d, i) => d !== w.tensor.shape[i])) {
        fail(`weight ${spec.name} is ${shapeString(spec.shape)} in the file, but layer ${layer.name} (${layer.className}) built from model.json needs ${shapeString(w.tensor.shape)}`);
      }
      used.add(spec);
      pairs.push([w.tensor, spec]);
    }
  }
  const extra = specs.find((s) => !used.has(s));
  if (extra) fail(`the manifest lists weight ${extra.name} ${shapeString(extra.shape)}, which no layer of the model has`);
  for (const [tensor, spec] of pairs) {
    const values = (await readValues(source, spec, offsets.get(spec)!)) as Float32Array;
    // NaN weights would train and predict nonsense (or stop fit at its first batch) far from here
    const bad = values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) fail(`weight ${spec.name} ${shapeString(spec.shape)} holds ${values[bad]} at element ${bad}: the weights are corrupt, or were saved from a model whose training diverged`);
    upload(tensor, values);
  }
}

/** The loss, metrics and optimizer of tfjs' trainingConfig, as gpu-cnn's compile() takes them. */
function readTrainingConfig(config: unknown, fail: Fail): { optimizer: Optimizer; metrics: string[] } {
  const retry = "; load with { compile: false } and compile the model yourself";
  if (!isObject(config)) fail(`trainingConfig must be an object${retry}`);
  const losses = Array.isArray(config.loss) ? config.loss : isObject(config.loss) ? Object.values(config.loss) : [config.loss];
  if (losses.length !== 1 || typeof losses[0] !== "string" || toCamelCase(losses[0]) !== "categoricalCrossentropy") {
    fail(`the loss ${JSON.stringify(config.loss)} is not one gpu-cnn trains with (categorical_crossentropy)${retry}`);
  }
  const rawMetrics = config.metrics == null ? [] : Array.isArray(config.metrics) ? config.metrics : isObject(config.metrics) ? Object.values(config.metrics).flat() : [config.metrics];
  const metrics = rawMetrics.map((m) => (typeof m === "string" ? toCamelCase(m) : m));
  const unknown = metrics.find((m) => typeof m !== "string" || !["accuracy", "acc", "categoricalAccuracy"].includes(m));
  if (unknown !== undefined) fail(`the metric ${JSON.stringify(unknown)} is not one gpu-cnn has (accuracy)${retry}`);

  const opt = fromPythonic(config.optimizer_config);
  if (!isObject(opt) || typeof opt.className !== "string") fail(`trainingConfig has no optimizer_config${retry}`);
  const c = isObject(opt.config) ? opt.config : {};
  const number = (key: string, fallbackKey?: string): number | undefined => {
    const v = c[key] ?? (fallbackKey ? c[fallbackKey] : undefined);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "number") fail(`the optimizer's ${key} is ${JSON.stringify(v)}, not a number${retry}`);
    return v;
  };
  let optimizer: Optimizer;
  try {
    if (opt.className === "Adam") {
      if (c.amsgrad === true) fail(`Adam with amsgrad is not supported${retry}`);
      optimizer = new Adam({ learningRate: number("learningRate", "lr"), beta1: number("beta1"), beta2: number("beta2"), epsilon: number("epsilon") });
    } else if (opt.className === "SGD" || opt.className === "Momentum") {
      if (c.nesterov === true || c.useNesterov === true) fail(`Nesterov momentum is not supported${retry}`);
      optimizer = new SGD({ learningRate: number("learningRate", "lr"), momentum: number("momentum") ?? 0 });
    } else {
      return fail(`the optimizer ${opt.className} is not one gpu-cnn has (Adam, SGD, Momentum)${retry}`);
    }
  } catch (e) {
    if (String((e as Error).message).startsWith("gpu-cnn: loadModel(")) throw e;
    return fail(`${String((e as Error).message).replace(/^gpu-cnn: /, "")}${retry}`);
  }
  return { optimizer, metrics: metrics as string[] };
}

/**
 * Restores the optimizer state tfjs saves after the model's weights: "iter" first, then Adam's
 * m for every trainable weight and then v, or Momentum's accumulators (velocity = -lr * accumulator).
 */
async function loadOptimizerState(model: Sequential, optimizer: Optimizer, source: ModelSource, specs: WeightSpec[], offsets: Map<WeightSpec, number>, fail: Fail): Promise<void> {
  if (specs.length === 0) return;
  const [iterSpec, ...state] = specs;
  if (iterSpec.shape.length !== 0) fail(`the first optimizer weight, ${iterSpec.name}, must be the step count (a scalar "iter"); it is ${shapeString(iterSpec.shape)}`);
  const iterations = (await readValues(source, iterSpec, offsets.get(iterSpec)!))[0];
  if (!Number.isInteger(iterations) || iterations < 0) fail(`the optimizer's step count is ${iterations}; expected an integer >= 0`);
  const params = model.layers.flatMap((l) => l.trainableWeights);
  const perParam = optimizer instanceof Adam ? 2 : optimizer instanceof SGD && optimizer.momentum !== 0 ? 1 : 0;
  if (state.length !== 0 && state.length !== perParam * params.length) {
    const what = optimizer instanceof Adam ? "m and v" : "an accumulator";
    const expected = perParam === 0 ? `none (${optimizer.className} without momentum keeps no state)` : `${perParam * params.length} (${what} for each of the ${params.length} trainable weights)`;
    fail(`the manifest holds ${state.length} ${optimizer.className} state weights after "${iterSpec.name}"; expected ${expected}`);
  }
  // the slot of parameter i, in file order: Adam's m's, then its v's
  const slotOf = (k: number): { param: number; index: number } =>
    optimizer instanceof Adam ? { param: k % params.length, index: 2 * (k % params.length) + Math.floor(k / params.length) } : { param: k, index: k };
  state.forEach((spec, k) => {
    const p = params[slotOf(k).param];
    if (spec.dtype !== "float32" || spec.shape.length !== p.shape.length || spec.shape.some((d, i) => d !== p.shape[i])) {
      fail(`optimizer weight ${spec.name} is ${spec.dtype} ${shapeString(spec.shape)}, but it belongs to ${p.name} ${shapeString(p.shape)}`);
    }
  });
  optimizer.iterations = iterations;
  if (state.length === 0) return;
  const targets = optimizer.getWeights(params);
  for (let k = 0; k < state.length; k++) {
    const values = (await readValues(source, state[k], offsets.get(state[k])!)) as Float32Array;
    if (optimizer instanceof SGD) {
      for (let i = 0; i < values.length; i++) values[i] *= -optimizer.learningRate;
    }
    upload(targets[slotOf(k).index], values);
  }
}

function readClassNames(metadata: unknown, fail: Fail): string[] | null {
  if (!isObject(metadata) || metadata.classNames === undefined) return null;
  const names = metadata.classNames;
  if (!Array.isArray(names) || !names.every((n) => typeof n === "string")) fail(`userDefinedMetadata.classNames must be a list of strings, got ${JSON.stringify(names)}`);
  return [...names];
}

/** Rebuilds a model from model.json's fields and its weights' bytes. */
export async function restoreModel(source: ModelSource, options: LoadOptions = {}): Promise<Sequential> {
  const fail = failFor(source.where);
  const { json, specs } = source;
  const { name, layers } = readTopology(json.modelTopology, fail);
  const classNames = readClassNames(json.userDefinedMetadata, fail);
  const offsets = new Map<WeightSpec, number>();
  let total = 0;
  for (const spec of specs) {
    offsets.set(spec, total);
    total += specBytes(spec);
  }
  if (total !== source.bytes.byteLength) {
    fail(`the weights hold ${source.bytes.byteLength} bytes, but the manifest's ${specs.length} weights need ${total}: the weight data is truncated or belongs to another model`);
  }
  const compile = options.compile !== false && json.trainingConfig != null;
  const training = compile ? readTrainingConfig(json.trainingConfig, fail) : null;
  const model = buildModel(name, layers, fail);
  try {
    await initGpu();
    await loadWeights(model, source, specs.filter((s) => s.group !== "optimizer"), offsets, fail);
    if (training) {
      try {
        model.compile({ optimizer: training.optimizer, loss: "categoricalCrossentropy", metrics: training.metrics });
      } catch (e) {
        fail(`${String((e as Error).message).replace(/^gpu-cnn: /, "")}; load with { compile: false } to skip the training config`);
      }
      await loadOptimizerState(model, training.optimizer, source, specs.filter((s) => s.group === "optimizer"), offsets, fail);
    }
  } catch (e) {
    model.dispose();
    throw e;
  }
  if (classNames) model.classNames = classNames;
  return model;
}

/** A model from tfjs' ModelArtifacts in memory (weightSpecs + weightData), or model.json's fields with weightData. */
export function restoreFromArtifacts(artifacts: ModelArtifactsLike, where: string, options: LoadOptions): Promise<Sequential> {
  const fail = failFor(where);
  if (!isObject(artifacts)) fail(`expected model artifacts { modelTopology, weightSpecs, weightData }, got ${typeof artifacts}`);
  const specs = artifacts.weightSpecs != null ? checkSpecs(artifacts.weightSpecs, fail) : artifacts.weightsManifest != null ? readManifest(artifacts.weightsManifest, fail).specs : [];
  const data = artifacts.weightData;
  let bytes: ByteSource;
  if (data == null) {
    if (specs.length > 0) fail(`the artifacts list ${specs.length} weights but hold no weightData`);
    bytes = memorySource(new ArrayBuffer(0));
  } else if (data instanceof ArrayBuffer || ArrayBuffer.isView(data) || (Array.isArray(data) && data.every((b) => b instanceof ArrayBuffer))) {
    bytes = memorySource(data as ArrayBuffer | ArrayBuffer[] | ArrayBufferView);
  } else {
    return fail(`weightData must be an ArrayBuffer (or a list of them), got ${typeof data}`);
  }
  return restoreModel({ where, json: artifacts as Record<string, unknown>, specs, bytes }, options);
}

/** A model served over HTTP: model.json, and its weight files relative to it. */
async function loadFromUrl(url: string, options: LoadOptions): Promise<Sequential> {
  const fail = failFor(url);
  const base = typeof location !== "undefined" ? new URL(url, location.href) : new URL(url);
  const get = async (u: URL): Promise<Response> => {
    let res: Response;
    try {
      res = await fetch(u);
    } catch (e) {
      return fail(`fetching ${u.href} failed: ${(e as Error).message}`);
    }
    if (!res.ok) fail(`fetching ${u.href} failed: HTTP ${res.status} ${res.statusText}`);
    return res;
  };
  let json: unknown;
  try {
    json = await (await get(base)).json();
  } catch (e) {
    if (String((e as Error).message).startsWith("gpu-cnn:")) throw e;
    return fail(`${base.href} is not valid JSON: ${(e as Error).message}`);
  }
  if (!isObject(json)) return fail(`${base.href} is not a model.json object`);
  const { specs, paths } = readManifest(json.weightsManifest, fail);
  const buffers = await Promise.all(paths.map(async (p) => (await get(new URL(p, base))).arrayBuffer()));
  return restoreModel({ where: url, json, specs, bytes: memorySource(buffers) }, options);
}

const LOAD_OPTIONS: OptionKeys<LoadOptions> = { compile: true };

/**
 * Loads a model saved in TensorFlow.js' layers format (by gpu-cnn, tfjs, or Keras via the
 * tensorflowjs converter):
 * - a folder path, or the path of its model.json (Node);
 * - an http(s) URL of model.json (its weight files are fetched beside it);
 * - tfjs' ModelArtifacts in memory (what modelToArtifacts or tf.io.withSaveHandler give), or a
 *   handler with load(), e.g. tf.io.fromMemory(...).
 * When model.json has a trainingConfig the model comes back compiled, with the optimizer state
 * it was saved with (pass `compile: false` to skip it).
 */
export async function loadModel(source: string | ModelArtifactsLike | LoadHandler, options: LoadOptions = {}): Promise<Sequential> {
  checkOptions("loadModel()", options, LOAD_OPTIONS);
  if (typeof source === "string") {
    const folders = folderIO();
    if (/^https?:\/\//i.test(source) || !folders) return loadFromUrl(source, options);
    return folders.load(source, options);
  }
  if (source !== null && typeof source === "object" && typeof (source as Partial<LoadHandler>).load === "function") {
    return restoreFromArtifacts(await (source as LoadHandler).load(), "handler", options);
  }
  return restoreFromArtifacts(source as ModelArtifactsLike, "artifacts", options);
}
