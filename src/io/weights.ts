// Weight specs and the bytes behind them: the manifest's weights lie back to back, in order, in
// the concatenation of its files (or of tfjs' weightData buffers), 4 bytes per value.
import { shapeSize, shapeString } from "../tensor.js";
import type { WeightSpec } from "./types.js";

/** Where the weights' bytes come from: memory, files, or a fetch. */
export interface ByteSource {
  readonly byteLength: number;
  /** Bytes [offset, offset + length), copied into a new, aligned buffer. */
  read(offset: number, length: number): Promise<Uint8Array>;
}

export function specBytes(spec: WeightSpec): number {
  return shapeSize(spec.shape) * 4;
}

/** The manifest's weights checked: names, non-negative integer shapes, float32 or int32, no quantization. */
export function checkSpecs(specs: unknown, fail: (message: string) => never): WeightSpec[] {
  if (!Array.isArray(specs)) fail(`the weight list must be an array, got ${typeof specs}`);
  return specs.map((s: unknown, i: number): WeightSpec => {
    const spec = s as Record<string, unknown> | null;
    if (!spec || typeof spec.name !== "string") fail(`weight ${i} of the manifest has no name`);
    const shape = spec.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      fail(`weight ${spec.name} has shape ${JSON.stringify(shape)}; expected a list of sizes`);
    }
    if (spec.quantization != null) fail(`weight ${spec.name} is quantized (${JSON.stringify(spec.quantization)}); gpu-cnn reads float32 weights only`);
    if (spec.dtype !== "float32" && spec.dtype !== "int32") fail(`weight ${spec.name} has dtype ${JSON.stringify(spec.dtype)}; gpu-cnn reads float32 (and int32) weights only`);
    const out: WeightSpec = { name: spec.name, shape: [...shape], dtype: spec.dtype };
    if (spec.group === "optimizer" || spec.group === "model") out.group = spec.group;
    return out;
  });
}

/** Bytes in memory: one buffer, a typed array, or tfjs' list of buffers (read as one). */
export function memorySource(data: ArrayBuffer | ArrayBuffer[] | ArrayBufferView): ByteSource {
  const parts: Uint8Array[] = Array.isArray(data)
    ? data.map((b) => new Uint8Array(b))
    : ArrayBuffer.isView(data)
      ? [new Uint8Array(data.buffer, data.byteOffset, data.byteLength)]
      : [new Uint8Array(data)];
  const byteLength = parts.reduce((n, p) => n + p.byteLength, 0);
  return {
    byteLength,
    async read(offset, length) {
      const out = new Uint8Array(length);
      let filled = 0;
      let start = 0;
      for (const part of parts) {
        const end = start + part.byteLength;
        if (end > offset + filled && filled < length) {
          const from = offset + filled - start;
          const take = Math.min(part.byteLength - from, length - filled);
          out.set(part.subarray(from, from + take), filled);
          filled += take;
        }
        start = end;
      }
      return out;
    },
  };
}

/** The values of one weight from its bytes (little-endian, as every platform tfjs runs on). */
export function decodeValues(spec: WeightSpec, bytes: Uint8Array): Float32Array | Int32Array {
  const buffer = bytes.byteOffset % 4 === 0 ? bytes.buffer : bytes.slice().buffer;
  const offset = bytes.byteOffset % 4 === 0 ? bytes.byteOffset : 0;
  const n = shapeSize(spec.shape);
  return spec.dtype === "int32" ? new Int32Array(buffer, offset, n) : new Float32Array(buffer, offset, n);
}

export function specString(spec: WeightSpec): string {
  return `${spec.name} ${shapeString(spec.shape)}`;
}
