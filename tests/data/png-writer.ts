// A minimal PNG writer for decoder tests: every colour type and bit depth, palettes with tRNS,
// and Adam7 interlacing, which pngjs' encoder cannot write. Samples are given unpacked, one
// number per channel per pixel, at the file's bit depth (palette: one index per pixel).
import { deflateSync } from "node:zlib";

export interface PngSpec {
  width: number;
  height: number;
  /** 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA */
  colorType: 0 | 2 | 3 | 4 | 6;
  bitDepth: 1 | 2 | 4 | 8 | 16;
  samples: ArrayLike<number>;
  /** [r, g, b] per entry, for colour type 3 */
  palette?: [number, number, number][];
  /** tRNS: alpha per palette entry, or the one transparent gray / [r, g, b] value */
  transparency?: number[];
  interlace?: boolean;
}

const CHANNELS = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as const;

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** Rows of the given pixels (x, y lists), each with filter byte 0, samples packed big-endian. */
function packRows(spec: PngSpec, xs: number[], ys: number[]): number[] {
  const channels = CHANNELS[spec.colorType];
  const out: number[] = [];
  for (const y of ys) {
    out.push(0);
    let bits = 0;
    let nbits = 0;
    for (const x of xs) {
      for (let c = 0; c < channels; c++) {
        const v = spec.samples[(y * spec.width + x) * channels + c];
        if (spec.bitDepth === 16) out.push(v >> 8, v & 0xff);
        else if (spec.bitDepth === 8) out.push(v);
        else {
          bits = (bits << spec.bitDepth) | v;
          nbits += spec.bitDepth;
          if (nbits === 8) {
            out.push(bits);
            bits = 0;
            nbits = 0;
          }
        }
      }
    }
    if (nbits > 0) out.push(bits << (8 - nbits));
  }
  return out;
}

const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
]; // x0, y0, dx, dy

const range = (from: number, to: number, step: number) => {
  const out: number[] = [];
  for (let i = from; i < to; i += step) out.push(i);
  return out;
};

export function encodePng(spec: PngSpec): Uint8Array {
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, spec.width);
  view.setUint32(4, spec.height);
  header.set([spec.bitDepth, spec.colorType, 0, 0, spec.interlace ? 1 : 0], 8);
  let raw: number[] = [];
  if (spec.interlace) {
    for (const [x0, y0, dx, dy] of ADAM7) {
      const xs = range(x0, spec.width, dx);
      const ys = range(y0, spec.height, dy);
      if (xs.length > 0 && ys.length > 0) raw = raw.concat(packRows(spec, xs, ys));
    }
  } else {
    raw = packRows(spec, range(0, spec.width, 1), range(0, spec.height, 1));
  }
  const parts = [Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", header)];
  if (spec.palette) parts.push(chunk("PLTE", Uint8Array.from(spec.palette.flat())));
  if (spec.transparency) {
    const t = spec.transparency;
    // palette: one byte per entry; gray / RGB: 16-bit values
    const bytes = spec.colorType === 3 ? Uint8Array.from(t) : Uint8Array.from(t.flatMap((v) => [v >> 8, v & 0xff]));
    parts.push(chunk("tRNS", bytes));
  }
  parts.push(chunk("IDAT", deflateSync(Uint8Array.from(raw))), chunk("IEND", new Uint8Array(0)));
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
