// Model folders in Node: model.json + weights.bin, the layout tfjs-node's "file://" handler
// writes. A save writes a temporary sibling folder, syncs it, then renames it into place; an
// existing model folder is moved aside only once the new one is complete, and removed after the
// swap, so a failure (or a crash) mid-save leaves the previous model whole.
import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { lstat, mkdir, open, readdir, readFile, rename, rm, stat, type FileHandle } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import type { Sequential } from "../model.js";
import { failFor, readManifest, restoreModel } from "./load.js";
import { setFolderIO } from "./platform.js";
import { describeModel, modelJSON, saveResult } from "./save.js";
import type { LoadOptions, SaveOptions, SaveResult } from "./types.js";
import type { ByteSource } from "./weights.js";

export const MODEL_FILE = "model.json";
export const WEIGHTS_FILE = "weights.bin";

/** Failure injection for tests: each hook runs at its point of a save and may throw. */
export const saveHooks: { afterWeights?: () => void | Promise<void>; afterMoveOld?: () => void | Promise<void> } = {};

function folderPath(path: string): string {
  return resolve(path.replace(/^file:\/\//, ""));
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** Flushes a folder's entries (new names) to disk; not possible everywhere (Windows), then skipped. */
async function syncFolder(path: string): Promise<void> {
  let handle: FileHandle | null = null;
  try {
    handle = await open(path, constants.O_RDONLY);
    await handle.sync();
  } catch {
    // best effort
  } finally {
    await handle?.close();
  }
}

/** Refuses to replace anything but a model folder (or an empty one): a wrong path must not delete a user's files. */
async function checkTarget(target: string): Promise<boolean> {
  let info;
  try {
    info = await lstat(target);
  } catch {
    return false;
  }
  if (!info.isDirectory()) throw new Error(`gpu-cnn: saveModel(${target}): that path exists and is not a folder; give a folder path for model.json and weights.bin`);
  const entries = await readdir(target);
  if (entries.length > 0 && !entries.includes(MODEL_FILE)) {
    throw new Error(`gpu-cnn: saveModel(${target}): the folder holds files but no ${MODEL_FILE}; refusing to replace a folder that is not a saved model`);
  }
  return true;
}

/** Writes `model` into the folder `path` (created, or replaced when it holds a model). */
export async function saveToFolder(model: Sequential, path: string, options: SaveOptions = {}): Promise<SaveResult> {
  const target = folderPath(path);
  const { json, weights } = describeModel(model, options);
  const replacing = await checkTarget(target);
  await mkdir(dirname(target), { recursive: true });
  const suffix = `${process.pid}-${randomBytes(4).toString("hex")}`;
  const temp = `${target}.saving-${suffix}`;
  let weightBytes = 0;
  try {
    await mkdir(temp);
    const file = await open(join(temp, WEIGHTS_FILE), "wx");
    try {
      // one weight in memory at a time: models larger than memory would allow as one buffer still save
      for (const w of weights) {
        const v = await w.values();
        await file.write(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
        weightBytes += v.byteLength;
      }
      await file.sync();
    } finally {
      await file.close();
    }
    await saveHooks.afterWeights?.();
    const specs = weights.map((w) => w.spec);
    const text = JSON.stringify(modelJSON(json, [{ paths: [WEIGHTS_FILE], weights: specs }]));
    const jsonFile = await open(join(temp, MODEL_FILE), "wx");
    try {
      await jsonFile.writeFile(text);
      await jsonFile.sync();
    } finally {
      await jsonFile.close();
    }
    await syncFolder(temp);
    if (replacing) {
      const old = `${target}.replaced-${suffix}`;
      await rename(target, old);
      try {
        await saveHooks.afterMoveOld?.();
        await rename(temp, target);
      } catch (e) {
        await rename(old, target);
        throw e;
      }
      await syncFolder(dirname(target));
      await rm(old, { recursive: true, force: true });
    } else {
      await rename(temp, target);
      await syncFolder(dirname(target));
    }
    return saveResult(json, specs, weightBytes);
  } catch (e) {
    await rm(temp, { recursive: true, force: true });
    const message = String((e as Error).message);
    if (message.startsWith("gpu-cnn: saveModel(")) throw e;
    const reason = message.replace(/^gpu-cnn: /, "").split("\n")[0];
    throw new Error(`gpu-cnn: saveModel(${target}): ${reason}; the previous model there, if any, is unchanged`, { cause: e });
  }
}

/** The files in order as one run of bytes, read with positioned reads (no whole-file buffers). */
async function filesSource(paths: string[]): Promise<{ source: ByteSource; close(): Promise<void> }> {
  const handles: FileHandle[] = [];
  const sizes: number[] = [];
  try {
    for (const p of paths) {
      const h = await open(p, "r");
      handles.push(h);
      sizes.push((await h.stat()).size);
    }
  } catch (e) {
    await Promise.all(handles.map((h) => h.close()));
    throw e;
  }
  const source: ByteSource = {
    byteLength: sizes.reduce((a, b) => a + b, 0),
    async read(offset, length) {
      const out = new Uint8Array(length);
      let filled = 0;
      let start = 0;
      for (let i = 0; i < handles.length && filled < length; i++) {
        const end = start + sizes[i];
        if (end > offset + filled) {
          const from = offset + filled - start;
          const take = Math.min(sizes[i] - from, length - filled);
          let done = 0;
          while (done < take) {
            const { bytesRead } = await handles[i].read(out, filled + done, take - done, from + done);
            if (bytesRead === 0) throw new Error(`${paths[i]} ended early`);
            done += bytesRead;
          }
          filled += take;
        }
        start = end;
      }
      return out;
    },
  };
  return { source, close: async () => void (await Promise.all(handles.map((h) => h.close()))) };
}

/** Loads the model in folder `path` (or from the model.json file `path` names). */
export async function loadFromFolder(path: string, options: LoadOptions = {}): Promise<Sequential> {
  const given = folderPath(path);
  const fail = failFor(given);
  let info;
  try {
    info = await stat(given);
  } catch {
    // an interrupted swap leaves the previous model beside the path: say where it is
    const siblings = await readdir(dirname(given)).catch(() => [] as string[]);
    const aside = siblings.find((f) => f.startsWith(`${basename(given)}.replaced-`));
    return fail(aside ? `no model folder there, but ${join(dirname(given), aside)} holds the model an interrupted save moved aside: rename it back` : "no such folder");
  }
  const folder = info.isDirectory() ? given : dirname(given);
  const jsonPath = info.isDirectory() ? join(given, MODEL_FILE) : given;
  let text: string;
  try {
    text = await readFile(jsonPath, "utf8");
  } catch {
    return fail(`${MODEL_FILE} is missing from the folder`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return fail(`${jsonPath} is not valid JSON (${(e as Error).message})`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) return fail(`${jsonPath} does not hold a model.json object`);
  const manifest = readManifest((json as Record<string, unknown>).weightsManifest, fail);
  const files = manifest.paths.map((p) => resolve(folder, p));
  for (const [i, f] of files.entries()) {
    if (!(await exists(f))) fail(`${manifest.paths[i]} is missing from ${folder} (model.json's weightsManifest lists it)`);
  }
  const { source, close } = await filesSource(files);
  try {
    return await restoreModel({ where: given, json: json as Record<string, unknown>, specs: manifest.specs, bytes: source }, options);
  } finally {
    await close();
  }
}

/** Lets saveModel / loadModel take folder paths (called once by the Node entry). */
export function useNodeFiles(): void {
  setFolderIO({ save: saveToFolder, load: loadFromFolder });
}
