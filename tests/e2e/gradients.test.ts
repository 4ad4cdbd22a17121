// The whole model's gradients against central finite differences of a float64 CPU copy of the
// same tiny model (conv relu -> max pool -> flatten -> dense relu -> dense softmax, mean
// categorical cross-entropy), plus predict, evaluate and an SGD step checked against it.
import { describe, expect, it } from "vitest";
import { backward, Conv2D, Dense, Flatten, MaxPooling2D, ops, SGD, Sequential, tensor } from "../../src/index.node.js";
import { expectClose, Random, testSeed, useGpu } from "../helpers.js";

useGpu();
const seed = testSeed("e2e gradients");
const random = new Random(seed);

const [N, H, W, C, F, K, HIDDEN, CLASSES] = [4, 6, 6, 2, 3, 3, 5, 3];
const [OH, OW] = [H - K + 1, W - K + 1];
const [PH, PW] = [OH / 2, OW / 2];

/** Logits [N, CLASSES] of the tiny model in float64; p = [convW, convB, d1W, d1B, d2W, d2B]. */
function logitsRef(p: Float64Array[], x: Float64Array): Float64Array {
  const [cw, cb, w1, b1, w2, b2] = p;
  const out = new Float64Array(N * CLASSES);
  for (let n = 0; n < N; n++) {
    const conv = new Float64Array(OH * OW * F);
    for (let i = 0; i < OH; i++)
      for (let j = 0; j < OW; j++)
        for (let f = 0; f < F; f++) {
          let s = cb[f];
          for (let a = 0; a < K; a++)
            for (let b = 0; b < K; b++)
              for (let c = 0; c < C; c++) s += x[((n * H + i + a) * W + j + b) * C + c] * cw[((a * K + b) * C + c) * F + f];
          conv[(i * OW + j) * F + f] = Math.max(s, 0);
        }
    const flat = new Float64Array(PH * PW * F);
    for (let i = 0; i < PH; i++)
      for (let j = 0; j < PW; j++)
        for (let f = 0; f < F; f++) {
          let m = -Infinity;
          for (let a = 0; a < 2; a++) for (let b = 0; b < 2; b++) m = Math.max(m, conv[((2 * i + a) * OW + 2 * j + b) * F + f]);
          flat[(i * PW + j) * F + f] = m;
        }
    const hidden = new Float64Array(HIDDEN);
    for (let h = 0; h < HIDDEN; h++) {
      let s = b1[h];
      for (let k = 0; k < flat.length; k++) s += flat[k] * w1[k * HIDDEN + h];
      hidden[h] = Math.max(s, 0);
    }
    for (let c = 0; c < CLASSES; c++) {
      let s = b2[c];
      for (let h = 0; h < HIDDEN; h++) s += hidden[h] * w2[h * CLASSES + c];
      out[n * CLASSES + c] = s;
    }
  }
  return out;
}

function probsRef(logits: Float64Array): Float64Array {
  const p = new Float64Array(logits.length);
  for (let n = 0; n < N; n++) {
    const row = logits.subarray(n * CLASSES, (n + 1) * CLASSES);
    const max = Math.max(...row);
    const e = row.map((v) => Math.exp(v - max));
    const sum = e.reduce((a, b) => a + b, 0);
    e.forEach((v, c) => (p[n * CLASSES + c] = v / sum));
  }
  return p;
}

function lossRef(p: Float64Array[], x: Float64Array, y: Float64Array): number {
  const probs = probsRef(logitsRef(p, x));
  let loss = 0;
  for (let i = 0; i < probs.length; i++) loss -= y[i] * Math.log(probs[i]);
  return loss / N;
}

function fdGrads(p: Float64Array[], x: Float64Array, y: Float64Array, h = 1e-6): Float64Array[] {
  return p.map((param) => {
    const g = new Float64Array(param.length);
    for (let i = 0; i < param.length; i++) {
      const keep = param[i];
      param[i] = keep + h;
      const plus = lossRef(p, x, y);
      param[i] = keep - h;
      const minus = lossRef(p, x, y);
      param[i] = keep;
      g[i] = (plus - minus) / (2 * h);
    }
    return g;
  });
}

function tinyModel(): Sequential {
  const model = new Sequential({ seed });
  model.add(new Conv2D(F, [K, K], { inputShape: [H, W, C], activation: "relu", biasInitializer: "randomNormal" }));
  model.add(new MaxPooling2D({ poolSize: [2, 2] }));
  model.add(new Flatten());
  model.add(new Dense(HIDDEN, { activation: "relu", biasInitializer: "randomNormal" }));
  model.add(new Dense(CLASSES, { activation: "softmax", biasInitializer: "randomNormal" }));
  return model;
}

async function weights64(model: Sequential): Promise<Float64Array[]> {
  const ws = model.getWeights();
  const values = await Promise.all(ws.map(async (w) => Float64Array.from(await w.data())));
  ws.forEach((w) => w.dispose());
  return values;
}

describe("whole-model gradients", () => {
  const x64 = Float64Array.from(Float32Array.from(random.array(N * H * W * C)));
  const y64 = random.oneHot(N, CLASSES);
  const x = () => tensor(Float32Array.from(x64), [N, H, W, C]);
  const y = () => tensor(Float32Array.from(y64), [N, CLASSES]);

  it("match finite differences of the float64 model; predict and evaluate match it too", async () => {
    const model = tinyModel();
    model.compile({ optimizer: "adam", loss: "categoricalCrossentropy", metrics: ["accuracy"] });
    const p = await weights64(model);

    // forward and gradients through the layers, the way fit runs them
    const last = model.layers[model.layers.length - 1];
    let h = x();
    for (const layer of model.layers) h = layer.call(h, { training: true, logits: layer === last });
    const loss = ops.softmaxCrossEntropy(h, y());
    backward(loss);
    expect((await loss.data())[0]).toBeCloseTo(lossRef(p, x64, y64), 5);
    const expected = fdGrads(p, x64, y64);
    const names = model.layers.flatMap((l) => l.weights.map((w) => w.name));
    const tensors = model.layers.flatMap((l) => l.weights.map((w) => w.tensor));
    for (let i = 0; i < tensors.length; i++) {
      expect(tensors[i].grad, `${names[i]} has a gradient`).toBeTruthy();
      expectClose(await tensors[i].grad!.data(), expected[i], `gradient of ${names[i]}`, 1e-3);
    }

    const probs = await model.predict(x(), { batchSize: 3 });
    expectClose(await probs.data(), probsRef(logitsRef(p, x64)), "predict", 1e-4);
    probs.dispose();
    const result = await model.evaluate(x(), y(), { batchSize: 3 });
    expect(result.loss).toBeCloseTo(lossRef(p, x64, y64), 5);
    model.dispose();
  });

  it("trainOnBatch with SGD moves each weight by -learningRate × its gradient", async () => {
    const model = tinyModel();
    const lr = 0.1;
    model.compile({ optimizer: new SGD({ learningRate: lr }), loss: "categoricalCrossentropy" });
    const before = await weights64(model);
    const expected = fdGrads(before, x64, y64);
    const { loss } = await model.trainOnBatch(x(), y());
    expect(loss).toBeCloseTo(lossRef(before, x64, y64), 5);
    const after = await weights64(model);
    after.forEach((w, i) => {
      const step = w.map((v, j) => (before[i][j] - v) / lr);
      expectClose(step, expected[i], `SGD step of weight ${i}`, 1e-2);
    });
    model.dispose();
  });
});
