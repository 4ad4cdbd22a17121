// The `gpu-cnn` command: train a classifier on a folder of class sub-folders, evaluate a saved
// model on one, and name the classes of new images. `run(argv)` does the work and returns the
// exit code (0 done, 1 failed, 2 wrong arguments), so tests can call it in-process; run as a
// program (bin/gpu-cnn.js, or `node --import tsx --import ./scripts/wgsl.mjs src/cli/main.ts`)
// it sets the process's exit code.
import { readdir, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { predictPrepared, imageForModel, modelImageShape } from "../classify.js";
import { useNodeImageFiles } from "../classify.node.js";
import { IMAGE_EXTENSIONS, imageDatasetFromDirectory, type ImageDataset } from "../data/dataset.js";
import type { ColorMode } from "../data/decode.js";
import { disposeGpu } from "../device.js";
import { loadModel } from "../index.node.js";
import { saveModel } from "../io/save.js";
import { evaluateDetailed, formatMetrics, modelClassNames, type ClassificationMetrics } from "../metrics.js";
import type { Sequential } from "../model.js";
import { Adam } from "../optimizers.js";
import type { FloatImage } from "../data/resize.js";
import { helpText, parseArgs, UsageError, type CommandSpec, type Parsed } from "./args.js";
import { modelFromFile, seedModel } from "./architecture.js";

useNodeImageFiles();

/** Where the command writes: lines to standard output and to standard error. */
export interface CliIO {
  out(text: string): void;
  err(text: string): void;
}

const processIO: CliIO = {
  out: (text) => void process.stdout.write(text + "\n"),
  err: (text) => void process.stderr.write(text + "\n"),
};

const COLOR_MODES = ["rgb", "grayscale", "rgba"] as const;

const TRAIN: CommandSpec = {
  name: "train",
  summary:
    "Trains an image classifier on <dir>, a folder with one sub-folder of PNG/JPEG images per class (the folder names are the class names), " +
    "holds out a validation split, prints progress, then the validation metrics and the confusion matrix, and saves the model (TensorFlow.js format, with its class names) to --out.",
  usage: "<dir> --out <model-dir>",
  positionals: [{ name: "<dir> (the image folder)" }],
  options: {
    out: { kind: "string", value: "<model-dir>", help: "folder to save the trained model in (written under a temporary name, then renamed); required" },
    "image-size": { kind: "string", value: "<n|HxW>", help: "resize every image to n x n (or H x W) pixels", default: "64" },
    epochs: { kind: "int", value: "<n>", help: "passes over the training images", default: "10", min: 1 },
    "batch-size": { kind: "int", value: "<n>", help: "images per training step", default: "32", min: 1 },
    "validation-split": { kind: "number", value: "<f>", help: "fraction of the images held out for validation, 0 for none", default: "0.2", min: 0, below: 1 },
    "color-mode": { kind: "string", value: "<mode>", help: "channels the images are converted to", default: "rgb", choices: COLOR_MODES },
    augment: { kind: "flag", help: "add augmentation layers (random horizontal flips, rotations up to 36 degrees, zooms up to 10%), active in training only" },
    model: { kind: "string", value: "<file.json>", help: "architecture file (Keras layer list or a model.json) instead of the default conv-pool-dense network" },
    from: { kind: "string", value: "<model-dir>", help: "continue training (fine-tune) a saved model; its input size, colour mode and classes apply" },
    freeze: { kind: "string", value: "<n|names>", help: "freeze the first n layers, or the comma-separated named layers (their weights do not change)" },
    "learning-rate": { kind: "number", value: "<lr>", help: "Adam's learning rate", default: "0.001 (with --from: the saved one)", above: 0 },
    seed: { kind: "int", value: "<n>", help: "seed of the split, the shuffles and the initial weights (printed when left out)", min: 0, max: 2 ** 32 - 1 },
    top: { kind: "int", value: "<k>", help: "also report top-k accuracy at the end", min: 1 },
    "skip-bad-images": { kind: "flag", help: "warn about and skip corrupt or unreadable images instead of stopping" },
    quiet: { kind: "flag", help: "no progress output, only the final metrics" },
  },
  notes: [
    "examples:",
    "  gpu-cnn train data/shapes --image-size 64 --epochs 10 --batch-size 32 --validation-split 0.2 --augment --out models/shapes",
    "  gpu-cnn train data/shapes --from models/shapes --freeze 3 --learning-rate 0.0001 --epochs 3 --out models/shapes-tuned",
  ],
};

const EVALUATE: CommandSpec = {
  name: "evaluate",
  summary:
    "Scores a saved model on <dir> (one sub-folder per class, named as the model's classes; some classes may be missing): " +
    "loss, accuracy, per-class precision / recall / F1 and the confusion matrix.",
  usage: "<model-dir> <dir>",
  positionals: [{ name: "<model-dir>" }, { name: "<dir> (the image folder)" }],
  options: {
    "batch-size": { kind: "int", value: "<n>", help: "images per forward pass", default: "32", min: 1 },
    top: { kind: "int", value: "<k>", help: "also report top-k accuracy", min: 1 },
    "skip-bad-images": { kind: "flag", help: "warn about and skip corrupt or unreadable images instead of stopping" },
    json: { kind: "flag", help: "print the metrics as JSON" },
  },
  notes: ["example:", "  gpu-cnn evaluate models/shapes data/shapes-test --top 2"],
};

const PREDICT: CommandSpec = {
  name: "predict",
  summary: "Names the most probable classes of each image (PNG or JPEG files; a folder stands for the images in it) with a saved model.",
  usage: "<model-dir> <image...>",
  positionals: [{ name: "<model-dir>" }, { name: "<image...> (one or more image files)", many: true }],
  options: {
    top: { kind: "int", value: "<k>", help: "classes to show per image", default: "3", min: 1 },
    json: { kind: "flag", help: "print JSON: [{ image, predictions: [{ className, probability }] }]" },
    "color-mode": { kind: "string", value: "<mode>", help: "convert images to this colour mode (it must give the model's channels)", choices: COLOR_MODES },
    scale: { kind: "number", value: "<f>", help: "multiply pixel values (0-255) by this first: 0.00392156862745098 (1/255) for a model trained on [0, 1] without a Rescaling layer", default: "1", above: 0 },
    "skip-bad-images": { kind: "flag", help: "warn about and skip unreadable images instead of stopping" },
  },
  notes: ["example:", "  gpu-cnn predict models/shapes photo1.png photo2.jpg --top 2"],
};

const COMMANDS: Record<string, CommandSpec> = { train: TRAIN, evaluate: EVALUATE, predict: PREDICT };

const GENERAL_HELP = [
  "usage: gpu-cnn <command> [options]",
  "",
  "Image classification on gpu-cnn's WebGPU engine.",
  "",
  "commands:",
  `  train <dir> --out <model-dir>      ${"train a classifier on a folder of class sub-folders"}`,
  `  evaluate <model-dir> <dir>         ${"score a saved model on a folder of class sub-folders"}`,
  `  predict <model-dir> <image...>     ${"name the classes of images"}`,
  "",
  "gpu-cnn <command> --help shows a command's options.",
].join("\n");

function parseImageSize(raw: string): [number, number] {
  const m = /^(\d+)(?:[x,](\d+))?$/i.exec(raw.trim());
  const size: [number, number] | null = m ? [Number(m[1]), Number(m[2] ?? m[1])] : null;
  if (!size || size.some((d) => d < 1 || d > 4096)) throw new UsageError(`gpu-cnn train: --image-size must be n or HxW (whole numbers from 1 to 4096), got "${raw}"`);
  return size;
}

function percent(v: number): string {
  return `${(100 * v).toFixed(2)}%`;
}

/** Keras' summary lines, to the command's output. */
function printSummary(model: Sequential, io: CliIO): void {
  model.summary((line) => io.out(line));
}

/** Freezes the first n layers, or the named ones; returns the names frozen. */
function freezeLayers(model: Sequential, spec: string): string[] {
  const layers = model.layers;
  let chosen;
  if (/^\d+$/.test(spec.trim())) {
    const n = Number(spec);
    if (n < 1 || n >= layers.length) throw new UsageError(`gpu-cnn train: --freeze ${spec}: the model has ${layers.length} layers; freeze from 1 to ${layers.length - 1} of them (the last must train)`);
    chosen = layers.slice(0, n);
  } else {
    const names = spec.split(",").map((s) => s.trim()).filter(Boolean);
    chosen = names.map((name) => {
      const layer = layers.find((l) => l.name === name);
      if (!layer) throw new UsageError(`gpu-cnn train: --freeze: the model has no layer "${name}"; its layers: ${layers.map((l) => l.name).join(", ")}`);
      return layer;
    });
  }
  for (const layer of chosen) layer.trainable = false;
  return chosen.map((l) => l.name);
}

function reportSkipped(datasets: (ImageDataset | null)[], io: CliIO): void {
  const skipped = datasets.reduce((n, d) => n + (d?.skipped.length ?? 0), 0);
  if (skipped > 0) io.err(`gpu-cnn: skipped ${skipped} bad image${skipped === 1 ? "" : "s"} (--skip-bad-images)`);
}

async function train(args: Parsed, io: CliIO): Promise<number> {
  const o = args.options;
  const [dir] = args.positionals;
  const out = o.out as string | undefined;
  if (!out) throw new UsageError("gpu-cnn train: --out <model-dir> is required: the folder the trained model is saved in");
  if (o.freeze !== undefined && o.from === undefined) {
    // freezing a fresh model's random layers is allowed but almost always a mistake
    io.err("gpu-cnn: note: --freeze without --from freezes randomly initialised layers");
  }
  const split = (o["validation-split"] as number | undefined) ?? 0.2;
  const batchSize = (o["batch-size"] as number | undefined) ?? 32;
  const epochs = (o.epochs as number | undefined) ?? 10;
  let imageSize = parseImageSize((o["image-size"] as string | undefined) ?? "64");
  let colorMode = ((o["color-mode"] as string | undefined) ?? "rgb") as ColorMode;
  if (o.from !== undefined) {
    if (o.model !== undefined) throw new UsageError("gpu-cnn train: give --from (a saved model to continue) or --model (a new architecture), not both");
    if (o.augment) throw new UsageError("gpu-cnn train: --augment adds layers to a new model; a model given with --from keeps its own layers");
  }
  const seed = (o.seed as number | undefined) ?? Math.floor(Math.random() * 2 ** 31);

  // A model to continue from fixes the image size, colour mode and classes.
  let model: Sequential | null = null;
  let frozen: string[] = [];
  try {
    if (o.from !== undefined) {
      model = await loadModel(o.from as string);
      const shape = modelImageShape("train", model);
      if (o["image-size"] !== undefined && (imageSize[0] !== shape.height || imageSize[1] !== shape.width)) {
        throw new UsageError(`gpu-cnn train: --image-size ${o["image-size"]} differs from the model's input ${shape.height}x${shape.width} (--from ${o.from}); leave it out`);
      }
      if (o["color-mode"] !== undefined && colorMode !== shape.colorMode) {
        throw new UsageError(`gpu-cnn train: --color-mode ${colorMode} differs from the model's ${shape.colorMode} input (--from ${o.from}); leave it out`);
      }
      imageSize = [shape.height, shape.width];
      colorMode = shape.colorMode;
      if (o.freeze !== undefined) frozen = freezeLayers(model, o.freeze as string);
    }
    if (o.seed === undefined) io.out(`seed: ${seed} (pass --seed ${seed} to repeat this run)`);
    const common = {
      imageSize,
      colorMode,
      batchSize,
      seed,
      labelMode: "int" as const,
      skipBadImages: o["skip-bad-images"] === true,
      warn: (message: string) => io.err(message),
      classNames: model ? (modelClassNames(model) ?? undefined) : undefined,
    };
    let trainSet: ImageDataset;
    let validationSet: ImageDataset | null = null;
    if (split > 0) [trainSet, validationSet] = await imageDatasetFromDirectory(dir, { ...common, validationSplit: split, subset: "both" });
    else trainSet = await imageDatasetFromDirectory(dir, common);
    const classNames = [...trainSet.classNames];
    if (classNames.length < 2) {
      throw new Error(`gpu-cnn: ${dir} has ${classNames.length} class folder (${classNames.join(", ")}); a classifier needs at least 2. Fix: add one sub-folder of images per class.`);
    }
    if (o.top !== undefined && (o.top as number) > classNames.length) throw new UsageError(`gpu-cnn train: --top ${o.top} is more than the ${classNames.length} classes`);
    const [height, width] = imageSize;
    const channels = trainSet.channels;
    io.out(
      `${trainSet.size + (validationSet?.size ?? 0)} images of ${classNames.length} classes (${classNames.join(", ")}): ` +
        `${trainSet.size} to train, ${validationSet ? `${validationSet.size} to validate` : "none held out"}; ${height}x${width} ${colorMode}`,
    );

    if (!model) {
      const architecture = { inputShape: [height, width, channels] as [number, number, number], classes: classNames.length, seed, augment: o.augment === true };
      model = o.model !== undefined ? await modelFromFile(o.model as string, architecture) : seedModel(architecture);
    } else {
      const saved = modelClassNames(model);
      const classes = model.outputShape?.[0];
      if (classes !== classNames.length) {
        throw new Error(`gpu-cnn: the model from ${o.from} outputs ${classes} classes${saved ? ` (${saved.join(", ")})` : ""}, but ${dir} has ${classNames.length} (${classNames.join(", ")})`);
      }
    }
    model.classNames = classNames;
    if (o.freeze !== undefined && o.from === undefined) frozen = freezeLayers(model, o.freeze as string);
    if (frozen.length > 0) io.out(`frozen: ${frozen.join(", ")}`);
    // A loaded model keeps its optimizer (and state) unless the learning rate or the frozen layers change.
    const previous = model.optimizer;
    if (!previous || o["learning-rate"] !== undefined || frozen.length > 0) {
      const learningRate = (o["learning-rate"] as number | undefined) ?? (previous instanceof Adam ? previous.learningRate : 0.001);
      model.compile({ optimizer: new Adam({ learningRate }), loss: "categoricalCrossentropy", metrics: ["accuracy"] });
    }
    if (!o.quiet) printSummary(model, io);

    const verbose = o.quiet ? 0 : process.stdout.isTTY ? 1 : 2;
    await model.fit(trainSet, { epochs, validationData: validationSet ?? undefined, verbose });
    await saveModel(model, out);
    if (validationSet) {
      const metrics = await evaluateDetailed(model, validationSet, undefined, { topK: o.top as number | undefined });
      io.out("");
      io.out(`Validation: ${formatMetrics(metrics)}`);
    }
    reportSkipped([trainSet, validationSet], io);
    io.out(`\nSaved the model to ${resolve(out)}`);
    return 0;
  } finally {
    model?.dispose();
  }
}

async function evaluate(args: Parsed, io: CliIO): Promise<number> {
  const o = args.options;
  const [modelDir, dir] = args.positionals;
  const model = await loadModel(modelDir, { compile: false });
  try {
    const shape = modelImageShape("evaluate", model);
    const classes = model.outputShape?.[0] ?? 0;
    if (o.top !== undefined && (o.top as number) > classes) throw new UsageError(`gpu-cnn evaluate: --top ${o.top} is more than the model's ${classes} classes`);
    const dataset = await imageDatasetFromDirectory(dir, {
      imageSize: [shape.height, shape.width],
      colorMode: shape.colorMode,
      batchSize: (o["batch-size"] as number | undefined) ?? 32,
      shuffle: false,
      labelMode: "int",
      classNames: modelClassNames(model) ?? undefined,
      skipBadImages: o["skip-bad-images"] === true,
      warn: (message) => io.err(message),
    });
    const metrics: ClassificationMetrics = await evaluateDetailed(model, dataset, undefined, { topK: o.top as number | undefined });
    if (o.json) io.out(JSON.stringify(metrics, null, 2));
    else io.out(formatMetrics(metrics));
    reportSkipped([dataset], io);
    return 0;
  } finally {
    model.dispose();
  }
}

/** Image files under a folder (sorted, sub-folders included); a file stands for itself. */
async function expandImages(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.name.startsWith(".")) continue;
      const full = join(dir, e.name);
      if (e.isDirectory()) await walk(full);
      else if (IMAGE_EXTENSIONS.some((ext) => e.name.toLowerCase().endsWith(ext))) out.push(full);
    }
  };
  for (const p of paths) {
    let info;
    try {
      info = await stat(p);
    } catch {
      out.push(p); // reading it reports the missing file, naming it
      continue;
    }
    if (info.isDirectory()) {
      const before = out.length;
      await walk(p);
      if (out.length === before) throw new Error(`gpu-cnn: ${p} is a folder with no ${IMAGE_EXTENSIONS.join("/")} images`);
    } else out.push(p);
  }
  return out;
}

async function predict(args: Parsed, io: CliIO): Promise<number> {
  const o = args.options;
  const [modelDir, ...inputs] = args.positionals;
  const model = await loadModel(modelDir, { compile: false });
  try {
    const options = { topK: (o.top as number | undefined) ?? 3, colorMode: o["color-mode"] as ColorMode | undefined, scale: o.scale as number | undefined };
    const paths = await expandImages(inputs);
    const kept: string[] = [];
    const images: FloatImage[] = [];
    let skipped = 0;
    for (const [i, path] of paths.entries()) {
      try {
        images.push(await imageForModel(model, path, options, i));
        kept.push(path);
      } catch (e) {
        if (!o["skip-bad-images"]) throw e;
        skipped++;
        io.err(`gpu-cnn: skipping ${String((e as Error).message).replace(/^gpu-cnn: /, "")}`);
      }
    }
    const results = images.length > 0 ? await predictPrepared(model, images, options) : [];
    if (o.json) {
      io.out(JSON.stringify(kept.map((image, i) => ({ image, predictions: results[i].map(({ className, probability }) => ({ className, probability })) })), null, 2));
    } else {
      for (const [i, image] of kept.entries()) {
        io.out(`${image}: ${results[i].map((c) => `${c.className} ${(100 * c.probability).toFixed(1)}%`).join(", ")}`);
      }
    }
    if (skipped > 0) io.err(`gpu-cnn: skipped ${skipped} bad image${skipped === 1 ? "" : "s"} (--skip-bad-images)`);
    return kept.length > 0 ? 0 : 1;
  } finally {
    model.dispose();
  }
}

/**
 * Runs `gpu-cnn <argv...>` and returns the exit code: 0 done, 1 the work failed (the reason on
 * one line of standard error), 2 wrong arguments (one line saying what is wrong).
 */
export async function run(argv: readonly string[], io: CliIO = processIO): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined) {
      io.err(GENERAL_HELP);
      return 2;
    }
    if (command === "--help" || command === "-h" || command === "help") {
      io.out(GENERAL_HELP);
      return 0;
    }
    const spec = COMMANDS[command];
    if (!spec) throw new UsageError(`gpu-cnn: unknown command "${command}"; the commands are train, evaluate and predict (gpu-cnn --help)`);
    const args = parseArgs(spec, rest);
    if (args.help) {
      io.out(helpText(spec));
      return 0;
    }
    if (command === "train") return await train(args, io);
    if (command === "evaluate") return await evaluate(args, io);
    return await predict(args, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(e.message);
      return 2;
    }
    const message = e instanceof Error ? e.message : String(e);
    io.err(message.startsWith("gpu-cnn") ? message : `gpu-cnn: ${message}`);
    if (process.env.GPU_CNN_DEBUG && e instanceof Error && e.stack) io.err(e.stack);
    return 1;
  }
}

/** Runs the command line of this process, then releases the GPU so the process can end. */
export async function main(): Promise<void> {
  const code = await run(process.argv.slice(2));
  await disposeGpu();
  process.exitCode = code;
}

// Run directly (from source) when this file is the program; bin/gpu-cnn.js calls main() on the built file.
if (typeof process !== "undefined" && process.argv[1] && import.meta.url && pathToFileURL(resolve(process.argv[1])).href === import.meta.url) void main();
