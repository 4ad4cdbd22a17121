// Runs in headless Chromium: a subset of the kernel tests (conv2d, max pooling, dense, softmax
// and its cross-entropy, forward and gradients) against the float64 references of tests/ref, and
// a whole tiny model's gradients against central differences of the same model in float64.
import { backward, Conv2D, Dense, describeGpu, Flatten, initGpu, MaxPooling2D, ops, Sequential, tensor } from "../../src/index.js";
import { setPoison } from "../../src/ops/run.js";
import { conv2dBackwardRef, conv2dRef, type ConvCase } from "../ref/conv2d.js";
import { denseBackwardRef, denseRef } from "../ref/matmul.js";
import { maxPoolBackwardRef, maxPoolRef, type PoolRefSpec } from "../ref/maxpool2d.js";
import { softmaxBackwardRef, softmaxRef, softmaxXentBackwardRef, softmaxXentRef } from "../ref/softmax.js";
import { asF32, checkOp, Data, numel, relErr, type Measured } from "./page/kit.js";

async function conv(data: Data, c: ConvCase, { bias = true, fd = false } = {}): Promise<Measured[]> {
  const x = [c.batch, c.inH, c.inW, c.inC];
  const w = [c.kh, c.kw, c.inC, c.outC];
  const scale = 1 / Math.sqrt(c.kh * c.kw * c.inC);
  return checkOp(
    {
      what: `conv2d x${JSON.stringify(x)} w${JSON.stringify(w)} strides ${c.strides} ${c.padding}${c.relu ? " relu" : ""}${bias ? "" : " no bias"}`,
      inputs: [
        { values: data.array(numel(x)), shape: x, grad: true },
        { values: data.array(numel(w), -scale, scale), shape: w, grad: true },
        ...(bias ? [{ values: data.array(c.outC, -0.2, 0.2), shape: [c.outC], grad: true }] : []),
      ],
      reference: ([xv, wv, bv]) => conv2dRef(c, xv, wv, bv ?? null),
      referenceBackward: fd
        ? undefined
        : ([xv, wv, bv], dy) => {
            const g = conv2dBackwardRef(c, xv, wv, bv ?? null, dy);
            return [g.dx, g.dw, ...(bias ? [g.db] : [])];
          },
      op: ([xt, wt, bt]) => ops.conv2d(xt, wt, bt ?? null, { strides: c.strides, padding: c.padding, activation: c.relu ? "relu" : "linear" }),
    },
    data,
  );
}

async function pool(data: Data, s: PoolRefSpec, fd = false): Promise<Measured[]> {
  return checkOp(
    {
      what: `maxPool2d ${JSON.stringify(s.shape)} pool ${s.pool} strides ${s.strides} ${s.padding}`,
      inputs: [{ values: data.distinct(numel(s.shape)), shape: [...s.shape], grad: true }],
      reference: ([x]) => maxPoolRef(x, s).y,
      referenceBackward: fd ? undefined : ([x], dy) => [maxPoolBackwardRef(x, dy, s)],
      op: ([x]) => ops.maxPool2d(x, { poolSize: s.pool, strides: s.strides, padding: s.padding }),
    },
    data,
  );
}

/** x, w, b for dense, rows of x redrawn until no pre-activation sits on relu's kink. */
function denseInputs(data: Data, batch: number, inputs: number, units: number, bias: boolean): [Float64Array, Float64Array, Float64Array | null] {
  const w = asF32(data.array(inputs * units));
  const b = bias ? asF32(data.array(units, -0.5, 0.5)) : null;
  const x = asF32(data.array(batch * inputs));
  for (let tries = 0; tries < 1000; tries++) {
    const pre = denseRef(x, w, b, batch, inputs, units, false);
    const bad = [...Array(batch).keys()].filter((r) => pre.subarray(r * units, (r + 1) * units).some((v) => Math.abs(v) < 1e-3));
    if (bad.length === 0) return [x, w, b];
    for (const r of bad) x.set(asF32(data.array(inputs)), r * inputs);
  }
  throw new Error("could not draw dense inputs away from the relu kink");
}

async function dense(data: Data, batch: number, inputs: number, units: number, bias: boolean, relu: boolean, fd = false): Promise<Measured[]> {
  const [x, w, b] = denseInputs(data, batch, inputs, units, bias);
  const activation = relu ? "relu" : "linear";
  return checkOp(
    {
      what: `dense ${activation} [${batch}, ${inputs}]·[${inputs}, ${units}]${bias ? " + b" : ""}`,
      inputs: [
        { values: x, shape: [batch, inputs], grad: true },
        { values: w, shape: [inputs, units], grad: true },
        ...(b ? [{ values: b, shape: [units], grad: true }] : []),
      ],
      reference: ([xv, wv, bv]) => denseRef(xv, wv, bv ?? null, batch, inputs, units, relu),
      referenceBackward: fd ? undefined : ([xv, wv, bv], dy) => denseBackwardRef(xv, wv, bv ?? null, dy, batch, inputs, units, relu).slice(0, bias ? 3 : 2),
      op: ([xt, wt, bt]) => ops.dense(xt, wt, bt ?? null, activation),
    },
    data,
  );
}

async function softmaxes(data: Data, rows: number, cols: number): Promise<Measured[]> {
  const labels = data.oneHot(rows, cols);
  return [
    ...(await checkOp(
      {
        what: `softmax [${rows}, ${cols}]`,
        inputs: [{ values: data.array(rows * cols, -3, 3), shape: [rows, cols], grad: true }],
        reference: ([x]) => softmaxRef(x, rows, cols),
        referenceBackward: ([x], dy) => [softmaxBackwardRef(x, dy, rows, cols)],
        op: ([x]) => ops.softmax(x),
      },
      data,
    )),
    ...(await checkOp(
      {
        what: `softmaxCrossEntropy [${rows}, ${cols}]`,
        inputs: [
          { values: data.array(rows * cols, -3, 3), shape: [rows, cols], grad: true },
          { values: labels, shape: [rows, cols] },
        ],
        reference: ([x, y]) => softmaxXentRef(x, y, rows, cols),
        referenceBackward: ([x, y], dLoss) => [softmaxXentBackwardRef(x, y, dLoss[0], rows, cols), null],
        op: ([x, y]) => ops.softmaxCrossEntropy(x, y),
      },
      data,
    )),
  ];
}

/** Every case of the kernel subset, sizes drawn from `seed`. */
async function kernels(seed: number): Promise<Measured[]> {
  const data = new Data(seed);
  const size = (lo: number, hi: number): number => data.int(lo, hi);
  const out: Measured[] = [];
  // conv2d: random sizes, stride 1 valid with relu; stride 2 same; mixed strides; the seed model's first layer (vec4 path)
  out.push(...(await conv(data, { batch: size(1, 3), inH: size(5, 12), inW: size(5, 12), inC: size(1, 5), kh: 3, kw: size(1, 4), outC: size(1, 9), strides: [1, 1], padding: "valid", relu: true })));
  out.push(...(await conv(data, { batch: size(1, 3), inH: size(5, 13), inW: size(5, 13), inC: size(1, 4), kh: 3, kw: 3, outC: size(2, 7), strides: [2, 2], padding: "same" })));
  out.push(...(await conv(data, { batch: 2, inH: size(6, 11), inW: size(6, 11), inC: 3, kh: 2, kw: 3, outC: 8, strides: [2, 1], padding: "same" }, { bias: false })));
  out.push(...(await conv(data, { batch: 2, inH: 28, inW: 28, inC: 1, kh: 3, kw: 3, outC: 32, strides: [1, 1], padding: "valid", relu: true })));
  out.push(...(await conv(data, { batch: 1, inH: 5, inW: 4, inC: 2, kh: 3, kw: 2, outC: 3, strides: [2, 2], padding: "same" }, { fd: true })));
  // max pooling: Keras' default, overlapping same windows on vec4 channels, odd channels by finite differences
  out.push(...(await pool(data, { shape: [size(1, 3), size(4, 11), size(4, 11), size(1, 6)], pool: [2, 2], strides: [2, 2], padding: "valid" })));
  out.push(...(await pool(data, { shape: [2, size(5, 9), size(5, 9), 8], pool: [3, 3], strides: [2, 2], padding: "same" })));
  out.push(...(await pool(data, { shape: [2, 5, 4, 3], pool: [3, 2], strides: [1, 2], padding: "same" }, true)));
  // dense: relu with bias, linear without, a tiny case by finite differences
  out.push(...(await dense(data, size(1, 9), size(5, 70), size(3, 40), true, true)));
  out.push(...(await dense(data, size(1, 9), size(5, 70), size(3, 40), false, false)));
  out.push(...(await dense(data, 3, 4, 5, true, true, true)));
  // softmax and fused softmax cross-entropy
  out.push(...(await softmaxes(data, size(1, 33), 10)));
  out.push(...(await softmaxes(data, 3, size(2, 70))));
  return out;
}

// The tiny model: conv relu -> max pool -> flatten -> dense relu -> dense softmax, mean
// categorical cross-entropy, in float64 from the references.
const [N, H, W, C, F, K, HIDDEN, CLASSES] = [3, 6, 6, 2, 3, 3, 5, 3];
const CONV: ConvCase = { batch: N, inH: H, inW: W, inC: C, kh: K, kw: K, outC: F, strides: [1, 1], padding: "valid", relu: true };
const POOL: PoolRefSpec = { shape: [N, H - K + 1, W - K + 1, F], pool: [2, 2], strides: [2, 2], padding: "valid" };
const FLAT = ((H - K + 1) / 2) * ((W - K + 1) / 2) * F;

function lossRef([cw, cb, w1, b1, w2, b2]: Float64Array[], x: Float64Array, y: Float64Array): number {
  const pooled = maxPoolRef(conv2dRef(CONV, x, cw, cb), POOL).y;
  const hidden = denseRef(pooled, w1, b1, N, FLAT, HIDDEN, true);
  return softmaxXentRef(denseRef(hidden, w2, b2, N, HIDDEN, CLASSES, false), y, N, CLASSES)[0];
}

/**
 * A Sequential's gradients (through its layers and the fused loss, as fit runs them) against
 * central differences of the float64 model with the same weights.
 */
async function modelGradients(seed: number): Promise<Measured[]> {
  const data = new Data(seed);
  const model = new Sequential({ seed });
  model.add(new Conv2D(F, [K, K], { inputShape: [H, W, C], activation: "relu", biasInitializer: "randomNormal" }));
  model.add(new MaxPooling2D({ poolSize: [2, 2] }));
  model.add(new Flatten());
  model.add(new Dense(HIDDEN, { activation: "relu", biasInitializer: "randomNormal" }));
  model.add(new Dense(CLASSES, { activation: "softmax", biasInitializer: "randomNormal" }));
  const x = asF32(data.array(N * H * W * C));
  const y = data.oneHot(N, CLASSES);
  const weights = model.layers.flatMap((l) => l.weights);
  const p = await Promise.all(weights.map(async (w) => Float64Array.from(await w.tensor.data())));

  let h = tensor(Float32Array.from(x), [N, H, W, C]);
  const last = model.layers[model.layers.length - 1];
  for (const layer of model.layers) h = layer.call(h, { training: true, logits: layer === last });
  const loss = ops.softmaxCrossEntropy(h, tensor(Float32Array.from(y), [N, CLASSES]));
  backward(loss);
  const out: Measured[] = [{ what: "tiny model loss", err: relErr(await loss.data(), [lossRef(p, x, y)]), tol: 1e-5 }];
  const step = 1e-6;
  for (const [i, w] of weights.entries()) {
    const fd = p[i].map((v, j) => {
      p[i][j] = v + step;
      const plus = lossRef(p, x, y);
      p[i][j] = v - step;
      const minus = lossRef(p, x, y);
      p[i][j] = v;
      return (plus - minus) / (2 * step);
    });
    const grad = w.tensor.grad;
    out.push({ what: `tiny model gradient of ${w.name} (finite differences)`, err: grad ? relErr(await grad.data(), fd) : Infinity, tol: 1e-4 });
  }
  model.dispose();
  return out;
}

const page = {
  async start(): Promise<string> {
    const info = await initGpu();
    setPoison(true); // every element of every op's output must be written
    return describeGpu(info);
  },
  kernels,
  modelGradients,
};
(window as unknown as { page: typeof page }).page = page;
