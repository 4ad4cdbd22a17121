// Tensor: a shape and float32 storage on a GPU buffer. No math here (that is src/ops/).
// Made from CPU values, a tensor keeps them until an op first needs the GPU, so tensors can be
// created before the device is ready. Tensors made inside a scope are freed when it ends.
import { gpu, type Binding } from "./device.js";

/** Buffer and CPU copy shared by a tensor and its reshaped views. */
class Storage {
  buffer: GPUBuffer | null = null;
  refs = 1;
  constructor(
    public cpu: Float32Array | null,
    readonly bytes: number,
  ) {}

  release(): void {
    if (--this.refs > 0) return;
    if (this.buffer) gpu().pool.release(this.buffer);
    this.buffer = null;
    this.cpu = null;
  }
}

/** Autograd record of the op that made a tensor (see autograd.ts). */
export interface GradNode {
  op: string;
  inputs: Tensor[];
  /** One gradient per input (null where none), given the gradient of the output. */
  backward(dy: Tensor): (Tensor | null)[];
}

// Safety net for tensors dropped without dispose(): return their buffer to the pool when the
// garbage collector finds them. fit/evaluate/predict and scopes free deterministically anyway.
const dropped = new FinalizationRegistry<Storage>((storage) => {
  try {
    storage.release();
  } catch {
    // the device is already gone
  }
});

const scopes: Set<Tensor>[] = [];

export type Shape = readonly number[];

export function shapeSize(shape: Shape): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function shapeString(shape: Shape): string {
  return `[${shape.join(", ")}]`;
}

export class Tensor {
  readonly size: number;
  private storage: Storage;
  private disposed = false;
  /** Set on weights (and tests' inputs): backward() computes a gradient for them. */
  requiresGrad = false;
  /** The gradient from the last backward(), for tensors with requiresGrad. */
  grad: Tensor | null = null;
  /** The op that produced this tensor, when its inputs need gradients. */
  node: GradNode | null = null;
  /** Names the tensor in error messages, e.g. "dense_1/kernel". */
  name: string;

  constructor(
    readonly shape: Shape,
    storage: Storage | Float32Array | null,
    name = "tensor",
  ) {
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) throw new Error(`gpu-cnn: tensor shape ${shapeString(shape)} must hold non-negative integers`);
    }
    this.size = shapeSize(shape);
    this.name = name;
    if (storage instanceof Storage) {
      this.storage = storage;
      storage.refs++;
    } else {
      this.storage = new Storage(storage, this.size * 4);
      if (!storage) {
        this.storage.buffer = gpu().pool.acquire(this.size * 4, `${name} ${shapeString(shape)}`);
      }
    }
    dropped.register(this, this.storage, this);
    scopes[scopes.length - 1]?.add(this);
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** The GPU buffer, uploading CPU values on first use. */
  get buffer(): GPUBuffer {
    if (this.disposed) throw new Error(`gpu-cnn: ${this.name} ${shapeString(this.shape)} was disposed and cannot be used`);
    const s = this.storage;
    if (!s.buffer) {
      const g = gpu();
      s.buffer = g.pool.acquire(s.bytes, `${this.name} ${shapeString(this.shape)}`);
      if (s.cpu) g.upload(s.buffer, 0, s.cpu);
      s.cpu = null; // the GPU copy is the tensor now; do not hold the host memory twice
    }
    return s.buffer;
  }

  /** A binding of elements [offset, offset + length) of this tensor, for one dispatch. */
  binding(offset = 0, length = this.size - offset): Binding {
    // Zero-sized bindings are invalid in WebGPU; bind one element (the kernel writes nothing).
    return { buffer: this.buffer, offset: offset * 4, size: Math.max(length, 1) * 4 };
  }

  /** The values, flat, in row-major order. Waits for the GPU work that produces them. */
  async data(): Promise<Float32Array> {
    if (this.disposed) throw new Error(`gpu-cnn: ${this.name} ${shapeString(this.shape)} was disposed and cannot be read`);
    const s = this.storage;
    if (!s.buffer && s.cpu) return s.cpu.slice(0, this.size);
    if (this.size === 0) return new Float32Array(0);
    return new Float32Array(await gpu().read(this.buffer, 0, this.size * 4));
  }

  /** The values as nested arrays of this tensor's shape. */
  async array(): Promise<NestedArray> {
    const flat = await this.data();
    return nest(flat, this.shape);
  }

  /** A view with another shape over the same values (no copy). */
  reshape(shape: Shape): Tensor {
    const resolved = resolveShape(shape, this.size, this.shape);
    if (this.disposed) throw new Error(`gpu-cnn: ${this.name} ${shapeString(this.shape)} was disposed`);
    const view = new Tensor(resolved, this.storage, this.name);
    // autograd passes through: backward() reshapes the gradient back to this tensor's shape
    if (this.requiresGrad || this.node) view.node = { op: "reshape", inputs: [this], backward: (dy) => [dy] };
    return view;
  }

  /** Returns the buffer to the pool. Safe to call twice. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    dropped.unregister(this);
    this.node = null;
    this.storage.release();
  }
}

export type NestedArray = number | NestedArray[];

function nest(flat: Float32Array, shape: Shape): NestedArray {
  if (shape.length === 0) return flat[0];
  const build = (offset: number, dim: number): NestedArray[] => {
    const n = shape[dim];
    const stride = shapeSize(shape.slice(dim + 1));
    const out: NestedArray[] = [];
    for (let i = 0; i < n; i++) {
      out.push(dim === shape.length - 1 ? flat[offset + i] : build(offset + i * stride, dim + 1));
    }
    return out;
  };
  return build(0, 0);
}

function resolveShape(shape: Shape, size: number, from: Shape): number[] {
  const unknown = shape.indexOf(-1);
  const known = shapeSize(shape.filter((_, i) => i !== unknown));
  const out = [...shape];
  if (unknown >= 0) {
    if (known === 0 || size % known !== 0) throw new Error(`gpu-cnn: reshape cannot fit ${shapeString(from)} (${size} values) into ${shapeString(shape)}`);
    out[unknown] = size / known;
  }
  if (shapeSize(out) !== size) {
    throw new Error(`gpu-cnn: reshape cannot turn ${shapeString(from)} (${size} values) into ${shapeString(shape)} (${shapeSize(out)} values)`);
  }
  return out;
}

function flatten(values: NestedArray, shape: number[], depth: number, out: number[]): void {
  if (typeof values === "number") {
    if (depth !== shape.length) throw new Error("gpu-cnn: tensor(): nested arrays are ragged");
    out.push(values);
    return;
  }
  if (!Array.isArray(values)) throw new Error(`gpu-cnn: tensor(): expected numbers or arrays, got ${typeof values}`);
  if (depth === shape.length) shape.push(values.length);
  else if (shape[depth] !== values.length) throw new Error("gpu-cnn: tensor(): nested arrays are ragged");
  for (const v of values) flatten(v, shape, depth + 1, out);
}

/**
 * A float32 tensor from a typed array or flat/nested numbers, like `tf.tensor`. Images are NHWC.
 * `tensor([[1, 2], [3, 4]])` or `tensor(new Float32Array(6), [2, 3])`.
 */
export function tensor(values: ArrayLike<number> | NestedArray, shape?: Shape): Tensor {
  let flat: Float32Array;
  let inferred: number[];
  if (ArrayBuffer.isView(values) || (typeof values === "object" && values !== null && !Array.isArray(values))) {
    flat = Float32Array.from(values as ArrayLike<number>);
    inferred = [flat.length];
  } else {
    const out: number[] = [];
    inferred = [];
    flatten(values as NestedArray, inferred, 0, out);
    flat = Float32Array.from(out);
  }
  const final = shape ? [...shape] : inferred;
  if (!final.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new Error(`gpu-cnn: tensor(): shape ${shapeString(final)} must list sizes that are integers >= 0 (no -1 here: give every size, or reshape() afterwards)`);
  }
  if (shapeSize(final) !== flat.length) {
    throw new Error(`gpu-cnn: tensor(): ${flat.length} values do not fill shape ${shapeString(final)} (${shapeSize(final)} values)`);
  }
  return new Tensor(final, flat);
}

/** An uninitialised GPU tensor: op outputs. `what` names it if it cannot be allocated. */
export function emptyTensor(shape: Shape, what: string): Tensor {
  return new Tensor(shape, null, what);
}

/**
 * Runs `fn` and frees every tensor it made except those it returns (a tensor, or an array or
 * object of tensors) and those passed to keep(). fit/evaluate/predict use this for each step.
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } finally {
    scopes.pop();
  }
  const kept = new Set<Tensor>();
  collectTensors(result, kept);
  for (const t of scope) {
    if (kept.has(t)) scopes[scopes.length - 1]?.add(t);
    else t.dispose();
  }
  return result;
}

/** Keeps a tensor made inside tidy() alive after it ends (weights, optimizer state). */
export function keep<T extends Tensor>(t: T): T {
  for (const scope of scopes) scope.delete(t);
  return t;
}

function collectTensors(value: unknown, into: Set<Tensor>): void {
  if (value instanceof Tensor) into.add(value);
  else if (Array.isArray(value)) for (const v of value) collectTensors(v, into);
  else if (value && typeof value === "object" && !(value instanceof Promise)) {
    for (const v of Object.values(value)) collectTensors(v, into);
  }
}
