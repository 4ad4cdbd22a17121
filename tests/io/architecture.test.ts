// Layers built from a Keras config for a NEW model (an architecture file, deserializeLayer's
// `fresh`) draw their first weights from the initializers the config names; layers built for
// loading skip that draw (the saved weights replace it). The CLI's architecture files go the
// fresh way: examples/shapes-cnn.json gives He-normal conv kernels and Glorot-uniform dense ones.
import { describe, expect, it } from "vitest";
import { modelFromFile } from "../../src/cli/architecture.js";
import { Dense, Sequential, type Layer } from "../../src/index.node.js";
import { fans } from "../../src/initializers.js";
import { deserializeLayer } from "../../src/io/keras.js";

const HE_TRUNCATION = 0.87962566103423978; // stddev of a standard normal truncated at ±2

async function weightValues(layer: Layer): Promise<Float32Array[]> {
  return Promise.all(layer.weights.map((w) => w.tensor.data()));
}

function std(v: Float32Array): number {
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  return Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
}

const maxAbs = (v: Float32Array): number => v.reduce((a, b) => Math.max(a, Math.abs(b)), 0);

/** Builds one deserialized layer into a seeded model (as the CLI does) and returns it. */
function built(entry: unknown, inputShape: number[], fresh: boolean): Layer {
  const result = deserializeLayer(entry, inputShape, { fresh });
  if (!("layer" in result)) throw new Error("expected a layer");
  new Sequential({ seed: 3 }).add(result.layer);
  return result.layer;
}

describe("deserializeLayer", () => {
  const conv = {
    class_name: "Conv2D",
    config: { filters: 8, kernel_size: [3, 3], kernel_initializer: "he_normal", bias_initializer: { class_name: "Constant", config: { value: 0.5 } } },
  };

  it("fresh: the named initializers draw the first weights; for loading, the first draw is zeros", async () => {
    const [kernel, bias] = await weightValues(built(conv, [10, 10, 4], true));
    const sd = Math.sqrt(2 / fans([3, 3, 4, 8]).fanIn);
    expect(std(kernel) / sd).toBeGreaterThan(0.85);
    expect(std(kernel) / sd).toBeLessThan(1.15);
    expect(maxAbs(kernel)).toBeLessThanOrEqual((2 * sd) / HE_TRUNCATION + 1e-6);
    expect([...bias]).toEqual(new Array(8).fill(0.5));

    const loading = built(conv, [10, 10, 4], false);
    for (const values of await weightValues(loading)) expect(maxAbs(values)).toBe(0);
    // either way the layer writes back the initializers the file named
    expect(loading.getConfig()).toMatchObject({ kernelInitializer: { className: "HeNormal" }, biasInitializer: { className: "Constant", config: { value: 0.5 } } });
  });

  it("fresh: an initializer gpu-cnn cannot draw fails when the layer is read, naming it", () => {
    const orthogonal = { class_name: "Dense", config: { units: 4, kernel_initializer: { class_name: "Orthogonal", config: { gain: 1 } } } };
    expect(() => deserializeLayer(orthogonal, [3], { fresh: true })).toThrow(/kernel_initializer \{"class_name":"Orthogonal","config":\{"gain":1\}\} is not supported by gpu-cnn/);
    // loading such a file works: the saved weights are used, the initializer is only kept for its config
    expect("layer" in deserializeLayer(orthogonal, [3])).toBe(true);
  });
});

describe("an architecture file built fresh (the CLI's --model)", () => {
  it("examples/shapes-cnn.json: He-normal conv kernels, Glorot-uniform dense kernels, zero biases, seeded", async () => {
    const make = () => modelFromFile("examples/shapes-cnn.json", { inputShape: [32, 32, 3], classes: 3, seed: 11, augment: false });
    const model = await make();
    expect(model.layers.map((l) => l.className)).toEqual(["Rescaling", "Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Flatten", "Dense", "Dense"]);
    let kernels = 0;
    for (const layer of model.layers) {
      if (layer.weights.length === 0) continue;
      const [kernel, bias] = await weightValues(layer);
      const shape = layer.weights[0].tensor.shape;
      const { fanIn, fanOut } = fans(shape);
      expect([...bias].every((b) => b === 0), `${layer.name} bias`).toBe(true);
      // small kernels give rougher estimates of the spread
      const tolerance = kernel.length < 500 ? 0.2 : 0.08;
      if (layer.className === "Conv2D") {
        const sd = Math.sqrt(2 / fanIn);
        expect(Math.abs(std(kernel) / sd - 1), `${layer.name} std ${std(kernel)} vs ${sd}`).toBeLessThan(tolerance);
        expect(maxAbs(kernel)).toBeLessThanOrEqual((2 * sd) / HE_TRUNCATION + 1e-6);
      } else {
        expect(layer).toBeInstanceOf(Dense);
        const limit = Math.sqrt(6 / (fanIn + fanOut));
        expect(maxAbs(kernel)).toBeLessThanOrEqual(limit);
        expect(maxAbs(kernel)).toBeGreaterThan(limit * 0.9);
        expect(Math.abs(std(kernel) / (limit / Math.sqrt(3)) - 1), `${layer.name} std`).toBeLessThan(tolerance);
      }
      kernels++;
    }
    expect(kernels).toBe(5);
    // the seed fixes the weights
    const again = await make();
    const all = async (m: Sequential) => Promise.all(m.layers.flatMap((l) => l.weights.map((w) => w.tensor.data())));
    expect(await all(again)).toEqual(await all(model));
    model.dispose();
    again.dispose();
  });
});
