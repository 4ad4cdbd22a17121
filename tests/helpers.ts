// Shared by the kernel tests: seeded random inputs (the seed is printed; replay a failure with
// SEED=<n> npm test), relative-error checks, and finite-difference gradients in float64.
import { beforeAll, expect } from "vitest";
import { backward, initGpu, tensor, type Tensor } from "../src/index.node.js";
import { gpu } from "../src/device.js";
import { setPoison } from "../src/ops/run.js";
import { Random as LibraryRandom } from "../src/random.js";

/** The library's seeded generator (mulberry32) as a function: small, fast, good enough for test data. */
export function rng(seed: number): () => number {
  const random = new LibraryRandom(seed);
  return () => random.next();
}

/** A fresh seed per run unless SEED is set; printed so a failure can be replayed. */
export function testSeed(file: string): number {
  const seed = process.env.SEED ? Number(process.env.SEED) : Math.floor(Math.random() * 2 ** 31);
  console.log(`${file}: SEED=${seed}`);
  return seed;
}

export class Random {
  private next: () => number;
  constructor(seed: number) {
    this.next = rng(seed);
  }
  uniform(lo = 0, hi = 1): number {
    return lo + (hi - lo) * this.next();
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }
  array(n: number, lo = -1, hi = 1): Float64Array {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = this.uniform(lo, hi);
    return out;
  }
  /**
   * Distinct values in [-1, 1], evenly spaced then shuffled, none within `gap` of 0: no ties for
   * max pooling and nothing near relu's kink, so finite differences stay valid.
   */
  distinct(n: number, gap = 1e-3): Float64Array {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const v = -1 + (2 * (i + 0.5)) / n;
      out[i] = Math.abs(v) < gap ? v + (v < 0 ? -gap : gap) : v;
    }
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  }
  oneHot(rows: number, classes: number): Float64Array {
    const out = new Float64Array(rows * classes);
    for (let r = 0; r < rows; r++) out[r * classes + this.int(0, classes - 1)] = 1;
    return out;
  }
}

/** Runs fn with the profiler on and returns the names of the kernels it dispatched. */
export async function kernelsUsed(fn: () => Promise<void>): Promise<string[]> {
  gpu().startProfile();
  let failure: unknown = null;
  await fn().catch((e: unknown) => (failure = e ?? new Error("rejected")));
  // stopped even when fn failed, so later tests do not run profiled
  const times = await gpu().stopProfile();
  if (failure) throw failure;
  return times.map((t) => t.kernel);
}

/** Starts the device once per test file and poisons op outputs with NaN. */
export function useGpu(): void {
  beforeAll(async () => {
    await initGpu();
    setPoison(true);
  });
}

/** ‖out − ref‖ / ‖ref‖ (absolute when ref is all zeros); Infinity if anything is NaN. */
export function relErr(out: ArrayLike<number>, ref: ArrayLike<number>): number {
  if (out.length !== ref.length) return Infinity;
  let num = 0;
  let den = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = out[i] - ref[i];
    if (!Number.isFinite(out[i])) return Infinity;
    num += d * d;
    den += ref[i] * ref[i];
  }
  return Math.sqrt(num) / (den > 0 ? Math.sqrt(den) : 1);
}

export function expectClose(out: ArrayLike<number>, ref: ArrayLike<number>, what: string, tol = 1e-4): void {
  const err = relErr(out, ref);
  expect(err, `${what}: relative error ${err} (n=${ref.length})`).toBeLessThan(tol);
}

/** d/dx of sum(f(x) * dy), by central differences in float64. */
export function numericGrad(f: (x: Float64Array) => Float64Array, x: Float64Array, dy: Float64Array, h = 1e-5): Float64Array {
  const g = new Float64Array(x.length);
  const xp = Float64Array.from(x);
  const dot = (y: Float64Array) => y.reduce((s, v, i) => s + v * dy[i], 0);
  for (let i = 0; i < x.length; i++) {
    xp[i] = x[i] + h;
    const plus = dot(f(xp));
    xp[i] = x[i] - h;
    const minus = dot(f(xp));
    xp[i] = x[i];
    g[i] = (plus - minus) / (2 * h);
  }
  return g;
}

export interface OpCase {
  what: string;
  /** Inputs in float64 with their shapes. */
  inputs: { values: Float64Array; shape: number[]; grad?: boolean }[];
  /** The float64 reference forward. */
  reference: (inputs: Float64Array[]) => Float64Array;
  /** The GPU op. */
  op: (inputs: Tensor[]) => Tensor;
  /** Reference gradients given dy (one per input; null where none); else finite differences. */
  referenceBackward?: (inputs: Float64Array[], dy: Float64Array) => (Float64Array | null)[];
  tol?: number;
  random: Random;
}

/**
 * Runs the op on the GPU and checks its output against the reference, then (for inputs marked
 * grad) its gradients against the reference backward, or central differences when none is given.
 */
export async function checkOp(c: OpCase): Promise<void> {
  const tensors = c.inputs.map((input) => {
    const t = tensor(Float32Array.from(input.values), input.shape);
    t.requiresGrad = !!input.grad;
    return t;
  });
  // the reference sees exactly the float32 values the GPU sees
  const values = c.inputs.map((input) => Float64Array.from(Float32Array.from(input.values)));
  const y = c.op(tensors);
  const ref = c.reference(values);
  expectClose(await y.data(), ref, `${c.what} forward`, c.tol);
  if (!c.inputs.some((i) => i.grad)) return;
  const dy = c.random.array(ref.length);
  backward(y, tensor(Float32Array.from(dy), y.shape));
  const dy64 = Float64Array.from(Float32Array.from(dy));
  const refGrads = c.referenceBackward?.(values, dy64);
  for (let i = 0; i < c.inputs.length; i++) {
    if (!c.inputs[i].grad) continue;
    const expected =
      refGrads?.[i] ??
      numericGrad((x) => c.reference(values.map((v, j) => (j === i ? x : v))), values[i], dy64);
    const grad = tensors[i].grad;
    expect(grad, `${c.what}: no gradient for input ${i}`).toBeTruthy();
    expectClose(await grad!.data(), expected, `${c.what} gradient of input ${i}`, c.tol);
  }
  for (const t of tensors) t.dispose();
}

/** Product of a shape. */
export const numel = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);
