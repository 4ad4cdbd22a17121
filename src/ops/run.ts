// What every op file shares: allocating outputs, packing Params, sizing dispatches, and
// splitting tensors larger than one storage binding into chunks.
import { gpu, type Binding } from "../device.js";
import type { KernelName } from "../kernels.js";
import { emptyTensor, shapeString, Tensor, type Shape } from "../tensor.js";

export const debug = {
  /** Fill every op output with NaN before the kernel runs, so unwritten elements show. */
  poison: false,
};

/** Enables test-only checks: NaN-poisoned outputs. */
export function setPoison(on: boolean): void {
  debug.poison = on;
}

/** A fresh output tensor of `shape` for `op` (NaN-filled when poisoning is on). */
export function output(shape: Shape, op: string): Tensor {
  const t = emptyTensor(shape, `output of ${op}`);
  if (debug.poison && t.size > 0) {
    for (const [offset, length] of chunks(t.size, 1)) {
      run("fill", [vec4Binding(t, offset, length)], params([length], [NaN]), blockGroups(length));
    }
  }
  return t;
}

/**
 * Packs a Params uniform: the u32 fields first, then the f32 fields, matching a WGSL struct that
 * declares them in that order. Negative integers are stored as their i32 bit pattern.
 */
export function params(u32s: number[], f32s: number[] = []): ArrayBuffer {
  const buffer = new ArrayBuffer(Math.max(16, Math.ceil((u32s.length + f32s.length) / 4) * 16));
  const u = new Uint32Array(buffer);
  const f = new Float32Array(buffer);
  u32s.forEach((v, i) => {
    if (!Number.isInteger(v)) throw new Error(`gpu-cnn: integer param ${i} is ${v}`);
    u[i] = v >>> 0;
  });
  f32s.forEach((v, i) => (f[u32s.length + i] = v));
  return buffer;
}

/** The most invocations one grid1d() dispatch of `size`-lane workgroups can hold. */
export const gridCapacity = (size = 256): number => gpu().maxWorkgroupsPerDimension ** 2 * size;

/**
 * Workgroups for `n` invocations of a 1-D kernel with `size` lanes, folded into 2-D when they
 * exceed the per-dimension limit. Kernels index with `gid.x + gid.y * nwg.x * WG`.
 */
export function grid1d(n: number, size = 256): [number, number] {
  const groups = Math.ceil(n / size);
  const max = gpu().maxWorkgroupsPerDimension;
  if (groups <= max) return [groups, 1];
  const y = Math.ceil(groups / max);
  return [Math.ceil(groups / y), y];
}

/**
 * Splits `rows` rows of `rowElems` float32 each into runs that fit one storage binding and start
 * at aligned offsets: [firstRow, rowCount] pairs, each count a multiple of `multipleOf` but the
 * last. One pair when the tensor fits.
 */
export function chunks(rows: number, rowElems: number, multipleOf = 1): [number, number][] {
  const g = gpu();
  const rowBytes = rowElems * 4;
  const limit = g.maxBindingBytes;
  if (rows * rowElems * 4 <= limit || rows <= 1) return [[0, rows]];
  let per = Math.floor(limit / rowBytes);
  // chunk starts must be aligned: per * rowElems * 4 must divide by the alignment
  const align = g.bindingAlignment;
  const alignStep = align / gcd(rowElems * 4, align);
  const step = (alignStep * multipleOf) / gcd(alignStep, multipleOf);
  per = Math.floor(per / step) * step;
  if (per < 1) {
    throw new Error(`gpu-cnn: one row of ${rowElems} floats is larger than this adapter's storage binding limit (${limit} bytes)`);
  }
  const out: [number, number][] = [];
  for (let r = 0; r < rows; r += per) out.push([r, Math.min(per, rows - r)]);
  return out;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** Records one dispatch; tensors bind whole, Bindings bind a range. */
export function run(kernel: KernelName, bindings: (Tensor | Binding)[], p: ArrayBuffer, workgroups: [number, number?, number?]): void {
  gpu().dispatch(
    kernel,
    bindings.map((b) => (b instanceof Tensor ? b.binding() : b)),
    p,
    workgroups,
  );
}

/** Throws the op's error for a shape it cannot take. */
export function shapeError(op: string, message: string): Error {
  return new Error(`gpu-cnn: ${op}: ${message}`);
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function describe(name: string, shape: Shape): string {
  return `${name} ${shapeString(shape)}`;
}

/** Workgroups a vec4 block kernel (elementwise, optimizers) spreads its array over, at most. */
export const MAX_BLOCK_GROUPS = 32;
/** vec4s each workgroup of a block kernel should have before another workgroup pays off. */
const MIN_VEC4_PER_GROUP = 2048;

/**
 * Workgroups for a block kernel over `n` floats: each walks one contiguous slice of the vec4s.
 * Few of them: on software Vulkan every workgroup costs about a microsecond of setup.
 */
export function blockGroups(n: number): [number] {
  const vec4s = Math.ceil(n / 4);
  if (vec4s === 0) return [0];
  const g = gpu();
  // a GPU wants thousands of lanes in flight: there, about one vec4 per lane
  const [perGroup, most] = g.info.software ? [MIN_VEC4_PER_GROUP, MAX_BLOCK_GROUPS] : [64, g.maxWorkgroupsPerDimension];
  return [Math.min(Math.ceil(vec4s / perGroup), most, g.maxWorkgroupsPerDimension)];
}

/**
 * A binding of floats [offset, offset + length) of `t` for a kernel that reads it as
 * array<vec4f>: the size rounds up to whole vec4s. Only a range that ends at the tensor's end may
 * round up (into its pooled buffer's padding, which kernels may overwrite); any other range
 * would reach into elements that another dispatch owns.
 */
export function vec4Binding(t: Tensor, offset = 0, length = t.size - offset): Binding {
  const padded = Math.ceil(length / 4) * 4;
  if (offset % 4 !== 0 || (padded !== length && offset + length !== t.size)) {
    throw new Error(`gpu-cnn: vec4 binding of floats [${offset}, ${offset + length}) of ${t.name} ${shapeString(t.shape)}: it must start on a vec4 and end on one or at the tensor's end`);
  }
  const binding = t.binding(offset, Math.max(padded, 4));
  if (binding.offset + binding.size > binding.buffer.size) {
    throw new Error(`gpu-cnn: ${t.name} ${shapeString(t.shape)}: its buffer (${binding.buffer.size} bytes) has no room to round up to whole vec4s`);
  }
  return binding;
}
