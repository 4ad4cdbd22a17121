// gpu-cnn as the benchmark sees it: the Node entry (Dawn), the device's sync, seeded inputs
// shared with tfjs, and ops looked up by name so rows for ops not written yet say so.
import * as lib from "./lib.js";
import { gpu } from "../src/device.js";
import { Random } from "../src/random.js";
import * as opsModule from "../src/ops/index.js";
import { missing, type Peer } from "./harness.js";

export { lib };
export type Tensor = lib.Tensor;

export const ours: Peer = {
  name: "gpu-cnn",
  // submits what was recorded, waits for the queue, throws what the GPU rejected
  finish: () => gpu().sync(),
};

/** Returns free buffers to the device between rows (big rows would otherwise keep theirs). */
export function trimPool(): void {
  gpu().trim();
}

/** An op exported by src/ops/index.ts, or a NoResult("n/a", "op missing: ...") to throw. */
export function op<F>(name: string): F {
  const f = (opsModule as unknown as Record<string, unknown>)[name];
  if (typeof f !== "function") throw missing(name);
  return f as F;
}

/** A public export of the library (Sequential, layers), or NoResult("n/a") when it cannot load yet. */
export async function api<T>(name: string): Promise<T> {
  let index: Record<string, unknown>;
  try {
    index = (await import("../src/index.node.js")) as Record<string, unknown>;
  } catch (e) {
    throw missing(`${name} (the library entry does not load: ${(e as Error).message.split("\n")[0]})`);
  }
  if (index[name] === undefined) throw missing(name);
  return index[name] as T;
}

/** The library's own seeded generator, so gpu-cnn and tfjs get the same inputs run after run. */
export function seeded(seed: number): () => number {
  const random = new Random(seed);
  return () => random.next();
}

/** Values uniform in [-scale, scale). */
export function randomValues(size: number, seed: number, scale = 1): Float32Array {
  const next = seeded(seed);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = (next() * 2 - 1) * scale;
  return out;
}

/** `size` distinct values spread over [-1, 1), shuffled: max pooling meets no ties. */
export function distinctValues(size: number, seed: number): Float32Array {
  const next = seeded(seed);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = -1 + (2 * i) / size;
  for (let i = size - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** One-hot rows of `classes` columns. */
export function oneHotValues(rows: number, classes: number, seed: number): Float32Array {
  const next = seeded(seed);
  const out = new Float32Array(rows * classes);
  for (let r = 0; r < rows; r++) out[r * classes + Math.floor(next() * classes)] = 1;
  return out;
}

export const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** A gpu-cnn tensor holding `values`, uploaded now (so the upload is not timed). */
export function upload(values: Float32Array, shape: readonly number[], requiresGrad = false): Tensor {
  const t = lib.tensor(values, shape);
  t.requiresGrad = requiresGrad;
  void t.buffer; // first use uploads
  return t;
}

/** Frees every tensor given (arrays, maps of gradients, nulls). */
export function free(...things: unknown[]): void {
  for (const thing of things) {
    if (thing instanceof lib.Tensor) thing.dispose();
    else if (thing instanceof Map) for (const v of thing.values()) free(v);
    else if (Array.isArray(thing)) for (const v of thing) free(v);
  }
}

/** A runner for a pure op: `make` records it; the last output is kept for the cross-check. */
export function oursRunner(make: () => Tensor | Tensor[] | Map<Tensor, Tensor>, inputs: unknown[] = []): import("./harness.js").Runner {
  let last: Tensor | Tensor[] | Map<Tensor, Tensor> | null = null;
  const first = (v: typeof last): Tensor => (v instanceof lib.Tensor ? v : Array.isArray(v) ? v[0] : [...v!.values()][0]);
  return {
    run() {
      free(last);
      last = make();
    },
    result: () => first(last).data(),
    dispose() {
      free(last, inputs);
      last = null;
    },
  };
}
