// The seed model's whole training step (forward, backward, Adam) in images/s:
// Conv2D 32 3×3 relu → MaxPooling2D 2×2 → Flatten → Dense 128 relu → Dense N softmax,
// categorical cross-entropy, Adam at Keras' defaults. Each step ends with its loss read back, as
// a training loop that reports progress does. The first-step rows time compile() plus the first
// trainOnBatch() of a freshly built model: pipeline compile latency (gpu-cnn creates every
// kernel's pipeline at device start, reported separately in the header; lavapipe still compiles
// each at its first dispatch unless Mesa's on-disk shader cache has it).
import { fails, type Row, type Runner, type TfjsPeer } from "./harness.js";
import { api, lib, oneHotValues, op, randomValues, size, upload } from "./ours.js";

// `filters`: one Conv2D 3x3 relu + MaxPooling2D 2x2 block per entry. The seed model has one; the
// third case is the classic two-block MNIST network, whose second convolution needs the input
// gradient (the seed model's first layer never does).
const CASES: readonly Case[] = [
  { input: [28, 28, 1], batch: 32, classes: 10, filters: [32] },
  { input: [224, 224, 3], batch: 8, classes: 3, filters: [32] },
  { input: [28, 28, 1], batch: 32, classes: 10, filters: [32, 64] },
];

interface Case {
  input: readonly number[];
  batch: number;
  classes: number;
  filters: readonly number[];
}

const caseId = (c: Case) => `${c.input.join("x")}_b${c.batch}_c${c.classes}${c.filters.length > 1 ? `_conv${c.filters.join("x")}` : ""}`;
const caseTitle = (c: Case) => `${c.input.join("×")} batch ${c.batch}, ${c.classes} classes${c.filters.length > 1 ? `, conv ${c.filters.join("→")}` : ""}`;

type LayerCtor<A extends unknown[]> = new (...args: A) => unknown;
interface SequentialLike {
  add(layer: unknown): void;
  compile(config: { optimizer: string; loss: string }): unknown;
  trainOnBatch(x: lib.Tensor, y: lib.Tensor): Promise<unknown> | unknown;
  dispose?(): void;
}

const images = (c: Case) => () => randomValues(c.batch * size(c.input), 31);
const labels = (c: Case) => () => oneHotValues(c.batch, c.classes, 32);

/** A training loss from trainOnBatch: a number, [loss, ...metrics], or a one-element tensor. */
async function lossValue(result: unknown): Promise<number | null> {
  if (Array.isArray(result)) return lossValue(result[0]);
  if (result instanceof lib.Tensor) return (await result.data())[0];
  if (typeof result === "number") return result;
  if (result && typeof result === "object" && "loss" in result) return lossValue((result as { loss: unknown }).loss);
  return null;
}

function checkLoss(loss: number | null): void {
  if (loss === null || loss === undefined) throw fails("null loss");
  if (!Number.isFinite(loss)) throw fails(`loss ${loss}`);
}

/** gpu-cnn through the Sequential API, as a user writes it. */
async function sequential(c: Case): Promise<{ model: SequentialLike; compile(): unknown } | null> {
  let Sequential: new () => SequentialLike;
  try {
    Sequential = await api("Sequential");
  } catch {
    return null;
  }
  const Conv2D = await api<LayerCtor<[number, number[], object]>>("Conv2D");
  const MaxPooling2D = await api<LayerCtor<[object]>>("MaxPooling2D");
  const Flatten = await api<LayerCtor<[]>>("Flatten");
  const Dense = await api<LayerCtor<[number, object]>>("Dense");
  const model = new Sequential();
  if (typeof model.trainOnBatch !== "function") return null;
  c.filters.forEach((filters, i) => {
    model.add(new Conv2D(filters, [3, 3], { ...(i === 0 ? { inputShape: [...c.input] } : {}), activation: "relu" }));
    model.add(new MaxPooling2D({ poolSize: [2, 2] }));
  });
  model.add(new Flatten());
  model.add(new Dense(128, { activation: "relu" }));
  model.add(new Dense(c.classes, { activation: "softmax" }));
  return { model, compile: () => model.compile({ optimizer: "adam", loss: "categoricalCrossentropy" }) };
}

type Conv2d = (x: lib.Tensor, w: lib.Tensor, b: lib.Tensor | null, opts?: { activation?: "relu" | "linear" }) => lib.Tensor;
type MaxPool2d = (x: lib.Tensor, opts?: { poolSize?: number }) => lib.Tensor;
type Dense = (x: lib.Tensor, w: lib.Tensor, b: lib.Tensor | null, activation?: "linear" | "relu") => lib.Tensor;
type Loss = (logits: lib.Tensor, labels: lib.Tensor) => lib.Tensor;
type AdamUpdate = (param: lib.Tensor, grad: lib.Tensor, m: lib.Tensor, v: lib.Tensor, status: lib.Tensor, options: { step: number }) => void;
type Guard = (loss: lib.Tensor, status: lib.Tensor) => void;

/** Without Sequential: the same step composed from ops, backward() and adamUpdate. */
function composedStep(c: Case): { trainOnBatch(x: lib.Tensor, y: lib.Tensor): Promise<number>; dispose(): void } {
  const conv2d = op<Conv2d>("conv2d");
  const maxPool2d = op<MaxPool2d>("maxPool2d");
  const dense = op<Dense>("dense");
  const softmaxCrossEntropy = op<Loss>("softmaxCrossEntropy");
  const adamUpdate = op<AdamUpdate>("adamUpdate");
  const guard = op<Guard>("guard");
  const zeros = op<(shape: number[]) => lib.Tensor>("zeros");
  const [h, w, channels] = c.input;
  const flat = Math.floor((h - 2) / 2) * Math.floor((w - 2) / 2) * 32;
  const shapes = [[3, 3, channels, 32], [32], [flat, 128], [128], [128, c.classes], [c.classes]];
  const params = shapes.map((shape, i) => {
    const fanIn = shape.length > 1 ? size(shape.slice(0, -1)) : 1;
    return upload(randomValues(size(shape), 40 + i, shape.length > 1 ? Math.sqrt(3 / fanIn) : 0), shape, true);
  });
  const state = params.map((p) => [zeros([...p.shape]), zeros([...p.shape])]);
  const status = zeros([1]);
  let step = 0;
  return {
    async trainOnBatch(x, y) {
      step++;
      const loss = lib.tidy(() => {
        const [w1, b1, w2, b2, w3, b3] = params;
        const a1 = maxPool2d(conv2d(x, w1, b1, { activation: "relu" }), { poolSize: 2 });
        // Tensor.reshape records no op: pass the gradient through, as the Flatten layer does
        const flattened = lib.record(a1.reshape([c.batch, flat]), "reshape", [a1], (dy) => [dy]);
        const a2 = dense(flattened, w2, b2, "relu");
        const loss = softmaxCrossEntropy(dense(a2, w3, b3, "linear"), y);
        const grads = lib.backward(loss);
        guard(loss, status);
        params.forEach((p, i) => adamUpdate(p, grads.get(p)!, state[i][0], state[i][1], status, { step }));
        return loss;
      });
      const value = (await loss.data())[0];
      loss.dispose();
      return value;
    },
    dispose() {
      for (const t of [...params, ...state.flat(), status]) t.dispose();
    },
  };
}

async function oursStep(c: Case, first: boolean): Promise<Runner> {
  const x = upload(images(c)(), [c.batch, ...c.input]);
  const y = upload(labels(c)(), [c.batch, c.classes]);
  // BENCH_STEP=ops measures the step composed from ops even where Sequential exists (its overhead)
  const built = process.env.BENCH_STEP === "ops" && c.filters.length === 1 ? null : await sequential(c);
  if (built) {
    if (!first) await built.compile();
    return {
      note: "Sequential.trainOnBatch",
      async run() {
        if (first) await built.compile();
        checkLoss(await lossValue(await built.model.trainOnBatch(x, y)));
      },
      dispose() {
        built.model.dispose?.();
        x.dispose();
        y.dispose();
      },
    };
  }
  const model = composedStep(c);
  return {
    note: "composed from ops, backward() and adamUpdate",
    async run() {
      checkLoss(await model.trainOnBatch(x, y));
    },
    dispose() {
      model.dispose();
      x.dispose();
      y.dispose();
    },
  };
}

async function tfjsStep(peer: TfjsPeer, c: Case, first: boolean): Promise<Runner> {
  const { tf } = peer;
  const x = tf.tensor(images(c)(), [c.batch, ...c.input]);
  const y = tf.tensor2d(labels(c)(), [c.batch, c.classes]);
  const model = tf.sequential();
  c.filters.forEach((filters, i) => {
    model.add(tf.layers.conv2d({ filters, kernelSize: 3, activation: "relu", ...(i === 0 ? { inputShape: [...c.input] } : {}) }));
    model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  });
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: 128, activation: "relu" }));
  model.add(tf.layers.dense({ units: c.classes, activation: "softmax" }));
  const optimizer = tf.train.adam(0.001, 0.9, 0.999, 1e-7);
  const compile = () => model.compile({ optimizer, loss: "categoricalCrossentropy" });
  if (!first) compile();
  // the weights' initialisers already run on the device: keep what it rejected for the loss's report
  let gpuError = "";
  try {
    await peer.finish();
  } catch (e) {
    gpuError = (e as Error).message;
  }
  return {
    async run() {
      if (first) compile();
      const loss = await lossValue(await model.trainOnBatch(x, y))
      try {
        await peer.finish();
      } catch (e) {
        gpuError = (e as Error).message;
      }
      // tfjs-webgpu on a device that rejected its commands returns a loss without throwing: null,
      // NaN, 0 or -1 seen on lavapipe (a cross-entropy is positive)
      if (loss === null || !(loss > 0) || !Number.isFinite(loss)) throw fails(`null loss${loss === null ? "" : `: ${loss}`}${gpuError ? `; ${gpuError}` : ""}`);
      if (gpuError) throw fails(gpuError);
    },
    dispose() {
      model.dispose();
      optimizer.dispose();
      x.dispose();
      y.dispose();
    },
  };
}

export const rows: Row[] = [];
for (const c of CASES) {
  for (const first of [true, false]) {
    rows.push({
      id: `train_step_${caseId(c)}${first ? "_first" : ""}`,
      op: "train-step",
      title: `${first ? "first step" : "train step"} ${caseTitle(c)}`,
      images: first ? undefined : c.batch,
      kind: first ? "first-step" : "warm",
      ours: () => oursStep(c, first),
      tfjs: (peer) => tfjsStep(peer, c, first),
    });
  }
}
