// THE PROOF, as a user runs it: scripts/make-shapes.ts draws the circles / squares / triangles
// set, `gpu-cnn train` (a child process, from source) trains a small network from an
// architecture file on it and reports at least 95% validation accuracy; then `gpu-cnn predict`
// names the right class of images drawn with another seed (never seen in training), and
// `gpu-cnn evaluate` scores them the same way.
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { makeShapes, SHAPE_CLASSES, type ShapesOptions } from "../../scripts/make-shapes.js";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const root = mkdtempSync(join(tmpdir(), "gpu-cnn-shapes-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The generator's settings for the proof: 32-pixel images. */
const SHAPES: ShapesOptions = { size: 32 };
const PER_CLASS = 400;
const HELD_OUT_PER_CLASS = 10;

/**
 * examples/shapes-cnn.json: three conv/pool stages ending in a global max pool, then dense, for
 * 32x32 images. (The seed architecture's dense layer over every position learns these shapes
 * slowly: 55% after 10 epochs.)
 */
const ARCHITECTURE = join(repo, "examples", "shapes-cnn.json");

/** Runs `gpu-cnn <args>` from source as a child process. */
function gpuCnn(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "--import", "./scripts/wgsl.mjs", "src/cli/main.ts", ...args],
      { cwd: repo, env: { ...process.env, XDG_RUNTIME_DIR: "/tmp" }, maxBuffer: 64 * 2 ** 20 },
      (error, stdout, stderr) => done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe("gpu-cnn on the shapes set", () => {
  it("train reaches at least 95% validation accuracy; predict and evaluate name held-out images right", async () => {
    const data = join(root, "shapes");
    const heldOut = join(root, "held-out");
    makeShapes(data, { ...SHAPES, perClass: PER_CLASS, seed: 1 });
    makeShapes(heldOut, { ...SHAPES, perClass: HELD_OUT_PER_CLASS, seed: 2 });
    const model = join(root, "model");

    const trained = await gpuCnn(
      "train", data, "--image-size", "32", "--model", ARCHITECTURE, "--epochs", "10", "--batch-size", "16",
      "--learning-rate", "0.003", "--validation-split", "0.2", "--seed", "1", "--out", model,
    );
    expect(trained.code, trained.stderr).toBe(0);
    // one line per epoch when not in a terminal, then the validation report
    expect(trained.stdout).toMatch(/Epoch 10\/10 - .* val_accuracy: /);
    const report = /Validation: (\d+) images - loss: ([\d.]+) - accuracy: ([\d.]+)%/.exec(trained.stdout);
    expect(report, trained.stdout).not.toBeNull();
    const [validated, accuracy] = [Number(report![1]), Number(report![3])];
    console.log(`shapes: ${accuracy}% of ${validated} validation images`);
    expect(validated).toBe(Math.floor(0.2 * 3 * PER_CLASS));
    expect(accuracy).toBeGreaterThanOrEqual(95);
    expect(trained.stdout).toMatch(/Confusion matrix \(rows: true class, columns: predicted class\):\ntrue \\ predicted\s+circle\s+square\s+triangle/);

    // images drawn with another seed: the model never saw them
    const predicted = await gpuCnn("predict", model, heldOut, "--json", "--top", "1");
    expect(predicted.code, predicted.stderr).toBe(0);
    const answers: { image: string; predictions: { className: string; probability: number }[] }[] = JSON.parse(predicted.stdout);
    expect(answers).toHaveLength(3 * HELD_OUT_PER_CLASS);
    let right = 0;
    for (const a of answers) if (a.predictions[0].className === basename(dirname(a.image))) right++;
    console.log(`shapes: predict named ${right} of ${answers.length} held-out images right`);
    expect(right / answers.length).toBeGreaterThanOrEqual(0.9);
    for (const c of SHAPE_CLASSES) expect(readdirSync(join(heldOut, c))).toHaveLength(HELD_OUT_PER_CLASS);

    const evaluated = await gpuCnn("evaluate", model, heldOut, "--json");
    expect(evaluated.code, evaluated.stderr).toBe(0);
    const metrics = JSON.parse(evaluated.stdout);
    expect(metrics.samples).toBe(answers.length);
    expect(metrics.accuracy).toBeCloseTo(right / answers.length, 10);
  });
});
