// Checks that run inside the page (tests/helpers.ts imports vitest and the Node entry, so it
// cannot be bundled for a browser): seeded data, relative errors and central differences in
// float64. Each check returns what it measured; the vitest side asserts on it and names the case.
import { backward, tensor, type Tensor } from "../../../src/index.js";
import { Random } from "../../../src/random.js";

/** One comparison: its relative error and the tolerance it must stay under. */
export interface Measured {
  what: string;
  err: number;
  tol: number;
}

/** Seeded test data (mulberry32, as tests/helpers.ts). */
export class Data {
  private readonly random: Random;
  constructor(seed: number) {
    this.random = new Random(seed);
  }
  uniform(lo = 0, hi = 1): number {
    return this.random.uniform(lo, hi);
  }
  int(lo: number, hi: number): number {
    return lo + this.random.int(hi - lo + 1);
  }
  array(n: number, lo = -1, hi = 1): Float64Array {
    return Float64Array.from({ length: n }, () => this.random.uniform(lo, hi));
  }
  /** Distinct values in [-1, 1] away from 0 (no max-pool ties, no relu kink), shuffled. */
  distinct(n: number, gap = 1e-3): Float64Array {
    const out = Float64Array.from({ length: n }, (_, i) => {
      const v = -1 + (2 * (i + 0.5)) / n;
      return Math.abs(v) < gap ? v + Math.sign(v) * gap : v;
    });
    return this.random.shuffle(out);
  }
  oneHot(rows: number, classes: number): Float64Array {
    const out = new Float64Array(rows * classes);
    for (let r = 0; r < rows; r++) out[r * classes + this.random.int(classes)] = 1;
    return out;
  }
}

/** ‖out − ref‖ / ‖ref‖ (absolute when ref is all zeros); Infinity on NaN or a length mismatch. */
export function relErr(out: ArrayLike<number>, ref: ArrayLike<number>): number {
  if (out.length !== ref.length) return Infinity;
  let num = 0;
  let den = 0;
  for (let i = 0; i < ref.length; i++) {
    if (!Number.isFinite(out[i])) return Infinity;
    num += (out[i] - ref[i]) ** 2;
    den += ref[i] ** 2;
  }
  return Math.sqrt(num) / (den > 0 ? Math.sqrt(den) : 1);
}

/** d/dx of sum(f(x) * dy), by central differences in float64. */
export function numericGrad(f: (x: Float64Array) => Float64Array, x: Float64Array, dy: Float64Array, h = 1e-5): Float64Array {
  const xp = Float64Array.from(x);
  const dot = (y: Float64Array): number => y.reduce((s, v, i) => s + v * dy[i], 0);
  return x.map((v, i) => {
    xp[i] = v + h;
    const plus = dot(f(xp));
    xp[i] = v - h;
    const minus = dot(f(xp));
    xp[i] = v;
    return (plus - minus) / (2 * h);
  });
}

/** Values as float32 then back: what the GPU sees, for the reference to see the same. */
export const asF32 = (v: ArrayLike<number>): Float64Array => Float64Array.from(Float32Array.from(v));

export interface OpCase {
  what: string;
  inputs: { values: Float64Array; shape: number[]; grad?: boolean }[];
  reference: (inputs: Float64Array[]) => Float64Array;
  op: (inputs: Tensor[]) => Tensor;
  /** Reference gradients given dy (null where none); central differences of `reference` when left out. */
  referenceBackward?: (inputs: Float64Array[], dy: Float64Array) => (Float64Array | null)[];
  tol?: number;
}

/** The op's forward on the GPU against the reference, then each marked input's gradient. */
export async function checkOp(c: OpCase, data: Data): Promise<Measured[]> {
  const tol = c.tol ?? 1e-4;
  const values = c.inputs.map((i) => asF32(i.values));
  const tensors = c.inputs.map((input, k) => {
    const t = tensor(Float32Array.from(values[k]), input.shape);
    t.requiresGrad = !!input.grad;
    return t;
  });
  const out: Measured[] = [];
  const y = c.op(tensors);
  const ref = c.reference(values);
  out.push({ what: `${c.what} forward`, err: relErr(await y.data(), ref), tol });
  if (c.inputs.some((i) => i.grad)) {
    const dy = asF32(data.array(ref.length));
    backward(y, tensor(Float32Array.from(dy), y.shape));
    const refGrads = c.referenceBackward?.(values, dy);
    for (let i = 0; i < c.inputs.length; i++) {
      if (!c.inputs[i].grad) continue;
      const expected = refGrads?.[i] ?? numericGrad((x) => c.reference(values.map((v, j) => (j === i ? x : v))), values[i], dy);
      const grad = tensors[i].grad;
      const how = refGrads ? "reference backward" : "finite differences";
      out.push({ what: `${c.what} gradient of input ${i} (${how})`, err: grad ? relErr(await grad.data(), expected) : Infinity, tol });
    }
  }
  for (const t of tensors) t.dispose();
  y.dispose();
  return out;
}

export const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Bytes as base64 in the page (binary data crosses page.evaluate as JSON text). */
export function toBase64(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

export function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}
