// The gpu-cnn command, in-process: --help for each command; every wrong argument gets exit code 2
// and one line saying what is wrong; bad data (missing folder, one class, corrupt image,
// unsupported file, model folder without weights, colour image for a grayscale model) exit 1 with
// one line; --skip-bad-images warns and counts; a model folder is written whole; fine-tuning
// from a saved model with frozen layers keeps their weights.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeShapes } from "../../scripts/make-shapes.js";
import { run, type CliIO } from "../../src/cli/main.js";
import { loadModel } from "../../src/index.node.js";
import { encodeRgb } from "../../scripts/make-shapes.js";
import { useGpu } from "../helpers.js";

useGpu();

const root = mkdtempSync(join(tmpdir(), "gpu-cnn-cli-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Result {
  code: number;
  out: string[];
  err: string[];
}

async function cli(...argv: string[]): Promise<Result> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = { out: (t) => void out.push(t), err: (t) => void err.push(t) };
  const code = await run(argv, io);
  return { code, out, err };
}

/** Exit 2 and exactly one line on stderr that matches. */
async function usage(pattern: RegExp, ...argv: string[]): Promise<void> {
  const r = await cli(...argv);
  expect(r.code, `${argv.join(" ")}: ${r.err.join(" | ")}`).toBe(2);
  expect(r.err).toHaveLength(1);
  expect(r.err[0]).not.toContain("\n");
  expect(r.err[0]).toMatch(pattern);
  expect(r.out).toEqual([]);
}

/** Exit 1 and exactly one line on stderr that matches. */
async function failure(pattern: RegExp, ...argv: string[]): Promise<void> {
  const r = await cli(...argv);
  expect(r.code, `${argv.join(" ")}: ${r.err.join(" | ")}`).toBe(1);
  expect(r.err.filter((l) => !l.startsWith("gpu-cnn: note"))).toHaveLength(1);
  expect(r.err[r.err.length - 1]).not.toContain("\n");
  expect(r.err[r.err.length - 1]).toMatch(pattern);
}

const shapes = join(root, "shapes");
const model = join(root, "model");

beforeAll(() => {
  makeShapes(shapes, { perClass: 6, size: 16, seed: 3 });
});

describe("gpu-cnn help and wrong arguments", () => {
  it("prints help for the command and for each subcommand", async () => {
    const general = await cli("--help");
    expect(general.code).toBe(0);
    expect(general.out.join("\n")).toMatch(/train <dir> --out <model-dir>[\s\S]*evaluate <model-dir> <dir>[\s\S]*predict <model-dir> <image\.\.\.>/);
    for (const [command, options] of [
      ["train", ["--image-size", "--epochs", "--batch-size", "--validation-split", "--augment", "--out", "--model", "--from", "--freeze", "--learning-rate", "--skip-bad-images", "--seed"]],
      ["evaluate", ["--batch-size", "--top", "--json", "--skip-bad-images"]],
      ["predict", ["--top", "--json", "--skip-bad-images", "--color-mode", "--scale"]],
    ] as const) {
      const r = await cli(command, "--help");
      expect(r.code).toBe(0);
      const text = r.out.join("\n");
      expect(text).toContain(`usage: gpu-cnn ${command}`);
      for (const o of options) expect(text, `${command} --help lists ${o}`).toContain(o);
    }
    const none = await cli();
    expect(none.code).toBe(2);
  });

  it("each wrong argument: exit 2 and one line", async () => {
    await usage(/unknown command "trian"; the commands are train, evaluate and predict/, "trian", shapes);
    await usage(/gpu-cnn train: missing <dir>/, "train");
    await usage(/--out <model-dir> is required/, "train", shapes);
    await usage(/unknown option --epoch; see gpu-cnn train --help/, "train", shapes, "--out", model, "--epoch", "3");
    await usage(/--epochs must be a number, got "ten"/, "train", shapes, "--out", model, "--epochs", "ten");
    await usage(/--epochs must be at least 1, got 0/, "train", shapes, "--out", model, "--epochs", "0");
    await usage(/--batch-size must be a whole number, got "2\.5"/, "train", shapes, "--out", model, "--batch-size", "2.5");
    await usage(/--validation-split must be at least 0 and less than 1, got 1/, "train", shapes, "--out", model, "--validation-split", "1");
    await usage(/--image-size must be n or HxW/, "train", shapes, "--out", model, "--image-size", "0");
    await usage(/--image-size must be n or HxW/, "train", shapes, "--out", model, "--image-size", "big");
    await usage(/--color-mode must be one of rgb, grayscale, rgba, got "cmyk"/, "train", shapes, "--out", model, "--color-mode", "cmyk");
    await usage(/--learning-rate must be more than 0, got -1/, "train", shapes, "--out", model, "--learning-rate", "-1");
    await usage(/--epochs needs a value <n>/, "train", shapes, "--out", model, "--epochs");
    await usage(/--augment takes no value/, "train", shapes, "--out", model, "--augment=yes");
    await usage(/--epochs is given twice/, "train", shapes, "--out", model, "--epochs", "1", "--epochs", "2");
    await usage(/unexpected argument "extra"/, "train", shapes, "extra", "--out", model);
    await usage(/unknown option -e \(options are long/, "train", shapes, "-e", "3");
    await usage(/give --from .* or --model .*, not both/, "train", shapes, "--out", model, "--from", model, "--model", "arch.json");
    await usage(/gpu-cnn evaluate: missing <dir>/, "evaluate", model);
    await usage(/gpu-cnn predict: missing <image\.\.\.>/, "predict", model);
    await usage(/--top must be at least 1, got 0/, "predict", model, "x.png", "--top", "0");
  });
});

describe("gpu-cnn on files", () => {
  it("trains, saves a whole model folder with its class names, evaluates, predicts (text and --json)", async () => {
    const r = await cli("train", shapes, "--image-size", "16", "--epochs", "2", "--batch-size", "8", "--validation-split", "0.25", "--seed", "5", "--top", "2", "--quiet", "--out", model);
    expect(r.code, r.err.join("\n")).toBe(0);
    const text = r.out.join("\n");
    expect(text).toContain("18 images of 3 classes (circle, square, triangle): 14 to train, 4 to validate; 16x16 rgb");
    expect(text).toMatch(/Validation: 4 images - loss: [\d.]+ - accuracy: [\d.]+% - top-2 accuracy: [\d.]+%/);
    expect(text).toMatch(/Confusion matrix \(rows: true class, columns: predicted class\):\ntrue \\ predicted\s+circle\s+square\s+triangle\ncircle\s+\d+\s+\d+\s+\d+/);
    expect(text).toContain(`Saved the model to ${model}`);
    expect(readdirSync(root).filter((f) => f.startsWith("model.saving"))).toEqual([]); // no temporary folder left
    const json = JSON.parse(readFileSync(join(model, "model.json"), "utf8"));
    expect(json.userDefinedMetadata.classNames).toEqual(["circle", "square", "triangle"]);

    const evaluated = await cli("evaluate", model, shapes, "--json", "--top", "2");
    expect(evaluated.code, evaluated.err.join("\n")).toBe(0);
    const metrics = JSON.parse(evaluated.out.join("\n"));
    expect(metrics.samples).toBe(18);
    expect(metrics.classNames).toEqual(["circle", "square", "triangle"]);
    expect(metrics.confusionMatrix.map((row: number[]) => row.reduce((a, b) => a + b))).toEqual([6, 6, 6]);
    expect(metrics.perClass).toHaveLength(3);
    expect(metrics.topKAccuracy[2]).toBeGreaterThanOrEqual(metrics.accuracy);

    // a folder with some of the model's classes is scored by name
    const partial = join(root, "partial");
    mkdirSync(join(partial, "square"), { recursive: true });
    for (const f of readdirSync(join(shapes, "square"))) copyFileSync(join(shapes, "square", f), join(partial, "square", f));
    const some = await cli("evaluate", model, partial, "--json");
    expect(some.code, some.err.join("\n")).toBe(0);
    expect(JSON.parse(some.out.join("\n")).confusionMatrix.map((row: number[]) => row.reduce((a, b) => a + b))).toEqual([0, 6, 0]);

    const image = join(shapes, "circle", readdirSync(join(shapes, "circle"))[0]);
    const predicted = await cli("predict", model, image, join(shapes, "square"), "--top", "2");
    expect(predicted.code).toBe(0);
    expect(predicted.out).toHaveLength(7); // the file, then the 6 images of the folder
    expect(predicted.out[0]).toMatch(new RegExp(`^${image.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: (circle|square|triangle) \\d+\\.\\d%, (circle|square|triangle) \\d+\\.\\d%$`));
    const asJson = await cli("predict", model, image, "--json");
    const parsed = JSON.parse(asJson.out.join("\n"));
    expect(parsed).toHaveLength(1);
    expect(parsed[0].image).toBe(image);
    expect(parsed[0].predictions.map((p: { className: string }) => p.className).sort()).toEqual(["circle", "square", "triangle"]);
    const total = parsed[0].predictions.reduce((s: number, p: { probability: number }) => s + p.probability, 0);
    expect(total).toBeCloseTo(1, 5);
    // --scale multiplies the pixels first (for models trained on [0, 1] without a Rescaling layer)
    const scaledJson = await cli("predict", model, image, "--json", "--scale", "0.00392156862745098");
    const scaled = JSON.parse(scaledJson.out.join("\n"));
    expect(scaled[0].predictions).not.toEqual(parsed[0].predictions);
    const badScale = await cli("predict", model, image, "--scale", "0");
    expect(badScale.code).not.toBe(0);
    expect(badScale.err.join("\n")).toMatch(/--scale/);
  });

  it("fine-tunes a saved model: --from, --freeze, --learning-rate; frozen weights are kept and saved as not trainable", async () => {
    const tuned = join(root, "tuned");
    const r = await cli("train", shapes, "--from", model, "--freeze", "2", "--learning-rate", "0.0001", "--epochs", "1", "--batch-size", "8", "--seed", "5", "--quiet", "--out", tuned);
    expect(r.code, r.err.join("\n")).toBe(0);
    expect(r.out.join("\n")).toContain("frozen: rescaling_1, conv2d_1");
    const before = await loadModel(model, { compile: false });
    const after = await loadModel(tuned, { compile: false });
    const values = async (m: typeof before) => Promise.all(m.getWeights().map(async (w) => ({ name: w.name, values: await w.data() })));
    const [b, a] = [await values(before), await values(after)];
    expect(a[0].values).toEqual(b[0].values); // conv kernel
    expect(a[1].values).toEqual(b[1].values); // conv bias
    expect(a[2].values).not.toEqual(b[2].values); // dense kernel trained
    expect(after.layers.slice(0, 2).map((l) => l.trainable)).toEqual([false, false]);
    expect(after.layers[2].trainable).toBe(true);
    before.dispose();
    after.dispose();
    await usage(/--freeze: the model has no layer "dense_9"; its layers: rescaling_1, conv2d_1/, "train", shapes, "--from", model, "--freeze", "dense_9", "--out", tuned);
    await usage(/--image-size 20 differs from the model's input 16x16/, "train", shapes, "--from", model, "--image-size", "20", "--out", tuned);
  });

  it("bad data: one clear line and exit 1; --skip-bad-images warns, counts and goes on", async () => {
    await failure(/image folder .*nowhere does not exist/, "train", join(root, "nowhere"), "--out", join(root, "m2"));
    const single = join(root, "single");
    mkdirSync(join(single, "only"), { recursive: true });
    copyFileSync(join(shapes, "circle", readdirSync(join(shapes, "circle"))[0]), join(single, "only", "a.png"));
    await failure(/has 1 class folder \(only\); a classifier needs at least 2/, "train", single, "--out", join(root, "m2"), "--validation-split", "0");
    const empty = join(root, "empty");
    mkdirSync(join(empty, "a"), { recursive: true });
    mkdirSync(join(empty, "b"), { recursive: true });
    copyFileSync(join(single, "only", "a.png"), join(empty, "a", "a.png"));
    await failure(/class folder .*empty\/b has no \.png\/\.jpg\/\.jpeg images/, "train", empty, "--out", join(root, "m2"));

    // a corrupt image in the training folder
    const broken = join(root, "broken");
    for (const c of ["circle", "square", "triangle"]) {
      mkdirSync(join(broken, c), { recursive: true });
      for (const f of readdirSync(join(shapes, c))) copyFileSync(join(shapes, c, f), join(broken, c, f));
    }
    const good = readFileSync(join(single, "only", "a.png"));
    writeFileSync(join(broken, "square", "truncated.png"), good.subarray(0, good.length >> 1));
    await failure(/cannot decode .*truncated\.png as PNG/, "train", broken, "--image-size", "16", "--epochs", "1", "--quiet", "--out", join(root, "m3"));
    expect(existsSync(join(root, "m3"))).toBe(false);
    const skipping = await cli("train", broken, "--image-size", "16", "--epochs", "1", "--quiet", "--skip-bad-images", "--seed", "1", "--out", join(root, "m3"));
    expect(skipping.code, skipping.err.join("\n")).toBe(0);
    expect(skipping.err.some((l) => /skipping bad image .*truncated\.png/.test(l))).toBe(true);
    expect(skipping.err[skipping.err.length - 1]).toBe("gpu-cnn: skipped 1 bad image (--skip-bad-images)");

    // predict: corrupt, unsupported, missing
    const gif = join(root, "picture.gif");
    writeFileSync(gif, Buffer.from("GIF89a\x01\x00\x01\x00\x00\x00\x00;", "latin1"));
    await failure(/cannot decode .*picture\.gif: it is a GIF image; gpu-cnn reads PNG and JPEG only/, "predict", model, gif);
    await failure(/cannot decode .*truncated\.png as PNG/, "predict", model, join(broken, "square", "truncated.png"));
    await failure(/cannot read .*missing\.png/, "predict", model, join(root, "missing.png"));
    const skipped = await cli("predict", model, gif, join(single, "only", "a.png"), "--skip-bad-images");
    expect(skipped.code).toBe(0);
    expect(skipped.out).toHaveLength(1);
    expect(skipped.err[skipped.err.length - 1]).toBe("gpu-cnn: skipped 1 bad image (--skip-bad-images)");

    // model folders: missing, without weights
    await failure(/gpu-cnn: loadModel/, "predict", join(root, "no-model"), gif);
    const noWeights = join(root, "no-weights");
    mkdirSync(noWeights);
    copyFileSync(join(model, "model.json"), join(noWeights, "model.json"));
    await failure(/weights/, "evaluate", noWeights, shapes);
  });

  it("--model: an architecture file (Keras layer list) with its initializers drawn fresh; --augment puts augmentation layers first", async () => {
    const file = join(root, "net.json");
    writeFileSync(
      file,
      JSON.stringify({
        layers: [
          { class_name: "Rescaling", config: { scale: 1 / 255 } },
          { class_name: "Conv2D", config: { filters: 4, kernel_size: [3, 3], activation: "relu", kernel_initializer: "he_normal", bias_initializer: { class_name: "Constant", config: { value: 0.5 } } } },
          { class_name: "MaxPooling2D", config: { pool_size: [2, 2] } },
          { class_name: "Flatten", config: {} },
          { class_name: "Dense", config: { activation: "softmax" } }, // units: one per class folder
        ],
      }),
    );
    const out = join(root, "from-file");
    const r = await cli("train", shapes, "--model", file, "--augment", "--image-size", "16", "--epochs", "1", "--seed", "3", "--out", out);
    expect(r.code, r.err.join("\n")).toBe(0);
    const text = r.out.join("\n");
    expect(text).toMatch(/random_flip_\d+ \(RandomFlip\)\s+\(None, 16, 16, 3\)[\s\S]*random_rotation[\s\S]*random_zoom[\s\S]*rescaling[\s\S]*conv2d_\d+ \(Conv2D\)\s+\(None, 14, 14, 4\)[\s\S]*dense_\d+ \(Dense\)\s+\(None, 3\)/);
    const saved = await loadModel(out, { compile: false });
    expect(saved.layers.map((l) => l.className)).toEqual(["RandomFlip", "RandomRotation", "RandomZoom", "Rescaling", "Conv2D", "MaxPooling2D", "Flatten", "Dense"]);
    const [kernel, bias] = await Promise.all(saved.getWeights().slice(0, 2).map((w) => w.data()));
    const std = Math.sqrt(kernel.reduce((a, v) => a + v * v, 0) / kernel.length);
    expect(std).toBeGreaterThan(0.2); // He normal for 27 inputs: ~0.27, one short epoch later; not zeros
    for (const b of bias) expect(b).toBeCloseTo(0.5, 1); // the Constant(0.5) the file names
    saved.dispose();

    const bad = (name: string, json: unknown): string => {
      const path = join(root, name);
      writeFileSync(path, typeof json === "string" ? json : JSON.stringify(json));
      return path;
    };
    await failure(/cannot read the architecture file .*none\.json: no such file/, "train", shapes, "--model", join(root, "none.json"), "--out", out);
    await failure(/cannot read the architecture file .*broken\.json/, "train", shapes, "--model", bad("broken.json", "{ layers: "), "--out", out);
    await failure(/expected a Sequential architecture/, "train", shapes, "--model", bad("empty.json", { model: 1 }), "--out", out);
    await failure(/layer 1 \(Conv2D\) declares input shape \[28,28,1\], but the images are \[16, 16, 3\]/, "train", shapes, "--image-size", "16", "--model",
      bad("shape.json", { layers: [{ class_name: "Conv2D", config: { filters: 2, kernel_size: 3, batch_input_shape: [null, 28, 28, 1] } }, { class_name: "Flatten", config: {} }, { class_name: "Dense", config: { activation: "softmax" } }] }), "--out", out);
    await failure(/the last layer must be Dense\(3, softmax\), one unit per class folder/, "train", shapes, "--image-size", "16", "--model",
      bad("last.json", { layers: [{ class_name: "Flatten", config: {} }, { class_name: "Dense", config: { units: 5, activation: "softmax" } }] }), "--out", out);
    await failure(/layer 1 \(LSTM\): gpu-cnn has no LSTM layer/, "train", shapes, "--image-size", "16", "--model", bad("lstm.json", { layers: [{ class_name: "LSTM", config: {} }] }), "--out", out);
  });

  it("a colour image for a grayscale model: one clear line, unless --color-mode grayscale converts it", async () => {
    const gray = join(root, "gray-model");
    const r = await cli("train", shapes, "--image-size", "16", "--color-mode", "grayscale", "--epochs", "1", "--quiet", "--seed", "2", "--out", gray);
    expect(r.code, r.err.join("\n")).toBe(0);
    const colour = join(shapes, "circle", readdirSync(join(shapes, "circle"))[0]);
    await failure(/circle_0000\.\w+ is a colour image \(RGB \(3 channels\)\), but .* takes grayscale \(1 channel\) images; .*--color-mode grayscale/, "predict", gray, colour);
    expect((await cli("predict", gray, colour, "--color-mode", "grayscale")).code).toBe(0);
    await failure(/colorMode "rgb" gives 3 channels, but .* takes grayscale \(1 channel\) images/, "predict", gray, colour, "--color-mode", "rgb");
    // a gray picture stored as RGB (as JPEG encoders write gray) is fine
    const pixels = new Uint8Array(16 * 16 * 4).map((_, i) => (i % 4 === 3 ? 255 : (i >> 4) & 255));
    const grayRgb = join(root, "gray-as-rgb.png");
    writeFileSync(grayRgb, encodeRgb(pixels, 16, 16, "png"));
    expect((await cli("predict", gray, grayRgb)).code).toBe(0);
  });
});
