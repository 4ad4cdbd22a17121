// Options objects reject keys their callee does not know: from JavaScript a misspelt option would
// otherwise be dropped without a word (a Conv2D without its relu, one epoch instead of five).
import { describe, expect, it } from "vitest";
import {
  classificationMetrics,
  Conv2D,
  Dense,
  EarlyStopping,
  Flatten,
  loadImage,
  loadModel,
  MaxPooling2D,
  Normalization,
  oneHot,
  predictImage,
  RandomFlip,
  RandomZoom,
  Resizing,
  Sequential,
  tensor,
} from "../src/index.node.js";
import { checkOptions, type OptionKeys } from "../src/options.js";

const loose = (options: object) => options as never; // what a JavaScript caller can pass

describe("checkOptions", () => {
  interface Known {
    learningRate?: number;
    beta1?: number;
    momentum?: number;
  }
  const known: OptionKeys<Known> = { learningRate: true, beta1: true, momentum: true };
  const check = (options: unknown) => () => checkOptions<Known>("op()", options as Known, known);
  it("passes known keys, undefined and null", () => {
    expect(check({ learningRate: 1, momentum: undefined })).not.toThrow();
    expect(check(undefined)).not.toThrow();
    expect(check(null)).not.toThrow();
  });
  it("names the unknown key, the nearest known one, and all of them", () => {
    expect(check({ learning_rate: 1 })).toThrow(
      'gpu-cnn: op(): unknown option "learning_rate" (did you mean "learningRate"?); the options are learningRate, beta1, momentum',
    );
    expect(check({ momentom: 1 })).toThrow(/"momentom" \(did you mean "momentum"\?\)/);
    expect(check({ LEARNINGRATE: 1 })).toThrow(/did you mean "learningRate"/);
  });
  it("suggests nothing when no key is close", () => {
    expect(check({ decay: 1 })).toThrow(/^gpu-cnn: op\(\): unknown option "decay"; the options are/);
  });
  it("rejects options that are not an object", () => {
    expect(check([1])).toThrow(/op\(\): options must be an object such as \{ learningRate: \.\.\. \}, got \[1\]/);
    expect(check(5)).toThrow(/got 5/);
  });
});

describe("every public options object is checked", () => {
  const model = () => {
    const m = new Sequential({ seed: 1 });
    m.add(new Conv2D(2, [3, 3], { inputShape: [6, 6, 1], activation: "relu" }));
    m.add(new Flatten());
    m.add(new Dense(3, { activation: "softmax" }));
    return m;
  };

  it("layers name themselves and the option", () => {
    expect(() => new Conv2D(4, [3, 3], loose({ inputShape: [8, 8, 1], activaton: "relu" }))).toThrow(
      /^gpu-cnn: conv2d_\d+ \(Conv2D\): unknown option "activaton" \(did you mean "activation"\?\); the options are inputShape, name, trainable, activation, useBias, kernelInitializer, biasInitializer, strides, padding$/,
    );
    expect(() => new Dense(3, loose({ use_bias: false }))).toThrow(/dense_\d+ \(Dense\): unknown option "use_bias" \(did you mean "useBias"\?\)/);
    expect(() => new MaxPooling2D(loose({ poolsize: [3, 3] }))).toThrow(/max_pooling2d_\d+ \(MaxPooling2D\): unknown option "poolsize" \(did you mean "poolSize"\?\)/);
    expect(() => new Flatten(loose({ dataFormat: "channelsLast" }))).toThrow(/flatten_\d+ \(Flatten\): unknown option "dataFormat"/);
    expect(() => new Normalization(loose({ means: [1] }))).toThrow(/\(Normalization\): unknown option "means" \(did you mean "mean"\?\)/);
    expect(() => new Resizing(4, 4, loose({ crop_to_aspect_ratio: true }))).toThrow(/\(Resizing\): unknown option "crop_to_aspect_ratio" \(did you mean "cropToAspectRatio"\?\)/);
    expect(() => new RandomZoom(0.1, loose({ fill_mode: "constant" }))).toThrow(/\(RandomZoom\): unknown option "fill_mode" \(did you mean "fillMode"\?\)/);
    // a flip takes no fill options: they would be overridden without a word
    expect(() => new RandomFlip("horizontal", loose({ fillMode: "constant" }))).toThrow(/new RandomFlip\(\): unknown option "fillMode"/);
    // the known options still construct
    expect(new Conv2D(4, [3, 3], { inputShape: [8, 8, 1], activation: "relu", padding: "same", strides: 1, useBias: false }).activation).toBe("relu");
    expect(new RandomZoom(0.1, { fillMode: "constant", fillValue: 0, seed: 3 }).fillMode).toBe("constant");
  });

  it("Sequential, compile, fit, evaluate and predict", async () => {
    expect(() => new Sequential(loose({ sed: 1 }))).toThrow(/new Sequential\(\): unknown option "sed" \(did you mean "seed"\?\)/);
    const m = model();
    expect(() => m.compile(loose({ optimizer: "adam", loss: "categoricalCrossentropy", metric: ["accuracy"] }))).toThrow(/compile\(\): unknown option "metric" \(did you mean "metrics"\?\)/);
    m.compile({ optimizer: "adam", loss: "categoricalCrossentropy" });
    const x = tensor(new Float32Array(2 * 36), [2, 6, 6, 1]);
    const y = oneHot([0, 1], 3);
    await expect(m.fit(x, y, loose({ epoch: 3 }))).rejects.toThrow(/fit\(\): unknown option "epoch" \(did you mean "epochs"\?\)/);
    await expect(m.evaluate(x, y, loose({ batch_size: 2 }))).rejects.toThrow(/evaluate\(\): unknown option "batch_size" \(did you mean "batchSize"\?\)/);
    await expect(m.predict(x, loose({ verbose: 0 }))).rejects.toThrow(/predict\(\): unknown option "verbose"; the options are batchSize/);
  });

  it("callbacks, metrics, images, saving and loading", async () => {
    expect(() => new EarlyStopping(loose({ restoreBestWeight: true }))).toThrow(/new EarlyStopping\(\): unknown option "restoreBestWeight" \(did you mean "restoreBestWeights"\?\)/);
    expect(() => classificationMetrics([[1, 0]], [0], loose({ top_k: 1 }))).toThrow(/metrics: unknown option "top_k" \(did you mean "topK"\?\)/);
    const pixels = { data: new Uint8Array(6 * 6), width: 6, height: 6, channels: 1 };
    await expect(loadImage(pixels, loose({ size: [4, 4] }))).rejects.toThrow(/loadImage\(\): unknown option "size"/);
    await expect(predictImage(model(), pixels, loose({ topk: 2 }))).rejects.toThrow(/predictImage\(\): unknown option "topk" \(did you mean "topK"\?\)/);
    await expect(model().save("/nonexistent/never-written", loose({ includeOptimiser: false }))).rejects.toThrow(/save\(\): unknown option "includeOptimiser" \(did you mean "includeOptimizer"\?\)/);
    await expect(loadModel("/nonexistent/never-read", loose({ compiled: false }))).rejects.toThrow(/loadModel\(\): unknown option "compiled" \(did you mean "compile"\?\)/);
  });
});
