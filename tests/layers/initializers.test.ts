// Initialisers: Keras' fans and scales, seeded and reproducible (CPU only).
import { describe, expect, it } from "vitest";
import {
  deserializeInitializer,
  fans,
  findInitializer,
  getInitializer,
  GlorotUniform,
  HeNormal,
  initializers,
  serializeInitializer,
  VarianceScaling,
  type Initializer,
} from "../../src/initializers.js";
import { toPythonic, fromPythonic } from "../../src/io/keras.js";
import { Random } from "../../src/random.js";
import { Conv2D, Dense, Sequential } from "../../src/index.node.js";

const stats = (v: Float32Array): { mean: number; std: number; maxAbs: number } => {
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
  return { mean, std, maxAbs: v.reduce((a, b) => Math.max(a, Math.abs(b)), 0) };
};

describe("initializers", () => {
  it("Random.fillUniform gives the values uniform() would, one by one, and leaves the same state", () => {
    for (const [seed, n, lo, hi] of [[7, 0, 0, 1], [1, 1, -0.5, 0.5], [123456789, 1001, -3, 2], [2 ** 32 - 1, 4096, 0.25, 0.75]]) {
      const a = new Random(seed);
      const b = new Random(seed);
      const filled = a.fillUniform(new Float32Array(n), lo, hi);
      const oneByOne = Float32Array.from({ length: n }, () => b.uniform(lo, hi));
      expect(filled).toEqual(oneByOne);
      expect(a.next()).toBe(b.next());
    }
  });

  it("fans as Keras", () => {
    expect(fans([3, 3, 16, 32])).toEqual({ fanIn: 144, fanOut: 288 });
    expect(fans([784, 128])).toEqual({ fanIn: 784, fanOut: 128 });
    expect(fans([10])).toEqual({ fanIn: 10, fanOut: 10 });
  });

  it("glorotUniform: uniform within sqrt(6 / (fanIn + fanOut))", () => {
    const v = new GlorotUniform().generate([100, 200], new Random(1));
    const limit = Math.sqrt(6 / 300);
    const s = stats(v);
    expect(s.maxAbs).toBeLessThanOrEqual(limit);
    expect(s.maxAbs).toBeGreaterThan(limit * 0.99);
    expect(s.std).toBeCloseTo(limit / Math.sqrt(3), 3);
  });

  it("heNormal: truncated normal, stddev sqrt(2 / fanIn)", () => {
    const v = new HeNormal().generate([3, 3, 8, 64], new Random(2));
    const sd = Math.sqrt(2 / 72);
    const s = stats(v);
    expect(s.std / sd).toBeGreaterThan(0.95);
    expect(s.std / sd).toBeLessThan(1.05);
    expect(s.maxAbs).toBeLessThanOrEqual((2 * sd) / 0.87962566103423978 + 1e-6);
  });

  it("same seed, same values; own seed overrides the model's", () => {
    const a = getInitializer("glorot_uniform").generate([5, 5], new Random(7));
    const b = getInitializer("glorotUniform").generate([5, 5], new Random(7));
    const c = getInitializer("glorotUniform").generate([5, 5], new Random(8));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    const own = initializers.heNormal({ seed: 3 });
    expect(own.generate([4], new Random(1))).toEqual(own.generate([4], new Random(2)));
    expect(() => getInitializer("orthogonal")).toThrow(/unknown initializer "orthogonal"/);
  });

  it("a model's seed fixes its initial weights", async () => {
    const build = (seed: number) => new Sequential({ seed, layers: [new Dense(4, { inputShape: [3] }), new Dense(2)] });
    const [a, b, c] = [build(11), build(11), build(12)];
    const values = async (m: Sequential) => Promise.all(m.layers.flatMap((l) => l.weights.map((w) => w.tensor.data())));
    expect(await values(a)).toEqual(await values(b));
    expect((await values(a))[0]).not.toEqual((await values(c))[0]);
  });

  it("serialize / deserialize: every initializer comes back as the same class, config and draws, through model.json's snake_case too", () => {
    const all: Initializer[] = [
      ...Object.values(initializers).map((make) => (make as (a: { value: number; seed?: number }) => Initializer)({ value: 0.25, seed: 9 })),
      new VarianceScaling(2.5, "fanOut", "uniform", 4),
      new VarianceScaling(0.5, "fanAvg", "truncatedNormal"),
    ];
    for (const init of all) {
      const spec = serializeInitializer(init);
      const back = deserializeInitializer(fromPythonic(toPythonic(spec)) as typeof spec);
      expect(back.className, init.className).toBe(init.className);
      expect(back.getConfig(), init.className).toEqual(init.getConfig());
      expect(back.generate([4, 6], new Random(1)), init.className).toEqual(init.generate([4, 6], new Random(1)));
    }
    // Keras' configs: VarianceScaling carries its parameters, the named schemes only their seed
    expect(new VarianceScaling(2.5, "fanOut", "uniform", 4).getConfig()).toEqual({ scale: 2.5, mode: "fanOut", distribution: "uniform", seed: 4 });
    expect(new HeNormal(3).getConfig()).toEqual({ seed: 3 });
    expect(serializeInitializer("glorot_uniform")).toEqual({ className: "GlorotUniform", config: { seed: null } });
  });

  it("deserialize: tfjs' spellings of VarianceScaling; unknown classes are null (findInitializer) or an error", () => {
    const normal = findInitializer({ className: "VarianceScaling", config: { scale: 2, mode: "fanIn", distribution: "normal" } }) as VarianceScaling;
    expect([normal.scale, normal.mode, normal.distribution]).toEqual([2, "fanIn", "truncatedNormal"]);
    expect(findInitializer({ className: "VarianceScaling", config: { distribution: "untruncatedNormal" } })).toBeNull();
    expect(findInitializer({ className: "Orthogonal", config: { gain: 1 } })).toBeNull();
    expect(() => deserializeInitializer({ className: "Orthogonal" })).toThrow(/unknown initializer class "Orthogonal"/);
    // a layer's own config round trip keeps a VarianceScaling kernel initializer
    const conv = new Conv2D(2, 3, { kernelInitializer: new VarianceScaling(3, "fanAvg", "uniform", 1) });
    expect(Conv2D.fromConfig(conv.getConfig()).getConfig()).toEqual({ ...conv.getConfig(), name: expect.any(String) });
  });
});
