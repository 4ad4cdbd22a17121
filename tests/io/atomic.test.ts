// Saving is atomic: a failure at any point of a save (while writing the weights, after them,
// between moving the old folder aside and renaming the new one in) leaves the previous model
// folder byte for byte as it was, and no temporary folder behind.
import { spawn } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { saveHooks } from "../../src/io/files.node.js";
import { initGpu, loadModel, saveModel, type Sequential } from "../../src/index.node.js";
import { testSeed } from "../helpers.js";
import { batch, maxAbsDiff, predictValues, smallModel, tempFolder } from "./helpers.js";

const seed = testSeed("io atomic");
const root = tempFolder("atomic");

beforeAll(async () => {
  await initGpu();
});

afterEach(() => {
  delete saveHooks.afterWeights;
  delete saveHooks.afterMoveOld;
});

function snapshot(dir: string): Record<string, Buffer> {
  return Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f))]));
}

/** Everything in `parent` besides the model folders the test made: temporary or moved-aside folders. */
function leftovers(parent: string): string[] {
  return readdirSync(parent).filter((f) => f.includes(".saving-") || f.includes(".replaced-"));
}

async function expectOldModelIntact(dir: string, before: Record<string, Buffer>, old: Sequential): Promise<void> {
  const after = snapshot(dir);
  expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
  for (const [f, bytes] of Object.entries(before)) expect(after[f].equals(bytes), f).toBe(true);
  expect(leftovers(root)).toEqual([]);
  const loaded = await loadModel(dir);
  const probe = batch(seed + 9, 3);
  expect(maxAbsDiff(await predictValues(loaded, probe), await predictValues(old, probe))).toBe(0);
  loaded.dispose();
}

describe("atomic save", () => {
  it("a failure after the weights are written leaves the old model intact", async () => {
    const dir = join(root, "model-a");
    const v1 = smallModel(seed);
    await saveModel(v1, dir);
    const before = snapshot(dir);
    const v2 = smallModel(seed + 1);
    saveHooks.afterWeights = () => {
      throw new Error("disk full (injected)");
    };
    await expect(saveModel(v2, dir)).rejects.toThrow(/saveModel\(.*model-a\): disk full \(injected\); the previous model there, if any, is unchanged/);
    await expectOldModelIntact(dir, before, v1);

    // without the failure the new model replaces the old one, and nothing is left behind
    delete saveHooks.afterWeights;
    await saveModel(v2, dir);
    expect(leftovers(root)).toEqual([]);
    const loaded = await loadModel(dir);
    const probe = batch(seed + 10, 3);
    expect(maxAbsDiff(await predictValues(loaded, probe), await predictValues(v2, probe))).toBe(0);
    for (const m of [v1, v2, loaded]) m.dispose();
  });

  it("a failure between moving the old folder aside and renaming the new one in puts the old one back", async () => {
    const dir = join(root, "model-b");
    const v1 = smallModel(seed + 2);
    await saveModel(v1, dir);
    const before = snapshot(dir);
    saveHooks.afterMoveOld = () => {
      throw new Error("rename failed (injected)");
    };
    const v2 = smallModel(seed + 3);
    await expect(saveModel(v2, dir)).rejects.toThrow(/rename failed \(injected\)/);
    await expectOldModelIntact(dir, before, v1);
    v1.dispose();
    v2.dispose();
  });

  it("a weight that cannot be read mid-write fails the save and leaves the old model intact", async () => {
    const dir = join(root, "model-c");
    const v1 = smallModel(seed + 4);
    await saveModel(v1, dir);
    const before = snapshot(dir);
    const broken = smallModel(seed + 5);
    broken.layers[4].weights[1].tensor.dispose(); // the last weight: the others are written first
    await expect(saveModel(broken, dir)).rejects.toThrow(/was disposed/);
    await expectOldModelIntact(dir, before, v1);
    v1.dispose();
  });

  it("refuses to replace a folder that is not a saved model, or a file", async () => {
    const dir = join(root, "my-photos");
    mkdirSync(dir);
    writeFileSync(join(dir, "holiday.jpg"), "not a model");
    const model = smallModel(seed + 6);
    await expect(saveModel(model, dir)).rejects.toThrow(/holds files but no model\.json; refusing to replace/);
    expect(readdirSync(dir)).toEqual(["holiday.jpg"]);
    const file = join(root, "a-file");
    writeFileSync(file, "x");
    await expect(saveModel(model, file)).rejects.toThrow(/exists and is not a folder/);
    expect(leftovers(root)).toEqual([]);
    model.dispose();
  });

  /** Starts a save in another process and kills it (SIGKILL) once it reaches `point`. */
  async function crashSave(dir: string, point: string): Promise<void> {
    const child = spawn(process.execPath, ["--import", "tsx", "--import", resolve(__dirname, "../../scripts/wgsl.mjs"), resolve(__dirname, "crash-child.ts"), dir, point], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    await new Promise<void>((done, failed) => {
      child.stdout.on("data", (d) => String(d).includes("paused") && done());
      child.on("exit", (code) => failed(new Error(`the saving process exited (${code}) before the crash point: ${err}`)));
    });
    const exited = new Promise((done) => child.on("exit", done));
    child.kill("SIGKILL");
    await exited;
  }

  it("a process killed mid-save leaves the old model loadable", async () => {
    const parent = join(root, "crash-write");
    const dir = join(parent, "model");
    const v1 = smallModel(seed + 7);
    await saveModel(v1, dir);
    const before = snapshot(dir);
    await crashSave(dir, "afterWeights");
    const after = snapshot(dir);
    for (const [f, bytes] of Object.entries(before)) expect(after[f].equals(bytes), f).toBe(true);
    // a crash cannot clean up: its temporary folder stays beside the model, and harms nothing
    expect(readdirSync(parent).filter((f) => f !== "model")).toEqual([expect.stringMatching(/^model\.saving-/)]);
    const loaded = await loadModel(dir);
    const probe = batch(seed + 11, 2);
    expect(maxAbsDiff(await predictValues(loaded, probe), await predictValues(v1, probe))).toBe(0);
    await saveModel(v1, dir);
    loaded.dispose();
    v1.dispose();
  }, 60_000);

  it("a process killed between the two renames leaves the old model complete beside the path, and loadModel says where", async () => {
    const parent = join(root, "crash-swap");
    const dir = join(parent, "model");
    const v1 = smallModel(seed + 8);
    await saveModel(v1, dir);
    const before = snapshot(dir);
    await crashSave(dir, "afterMoveOld");
    const aside = readdirSync(parent).find((f) => f.startsWith("model.replaced-"));
    expect(aside).toBeDefined();
    const error = await loadModel(dir).catch((e: Error) => e);
    expect(String((error as Error).message)).toContain(`${join(parent, aside!)} holds the model an interrupted save moved aside: rename it back`);
    renameSync(join(parent, aside!), dir);
    const after = snapshot(dir);
    for (const [f, bytes] of Object.entries(before)) expect(after[f].equals(bytes), f).toBe(true);
    const loaded = await loadModel(dir);
    const probe = batch(seed + 12, 2);
    expect(maxAbsDiff(await predictValues(loaded, probe), await predictValues(v1, probe))).toBe(0);
    loaded.dispose();
    v1.dispose();
  }, 60_000);
});
