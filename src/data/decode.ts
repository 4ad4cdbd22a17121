// PNG and JPEG bytes to pixels, and the channel conversions Keras applies when it loads images
// (tf.io.decode_image with channels=1, 3 or 4). Every image decodes to RGBA, 8 bits per channel;
// 16-bit PNGs keep their high byte, as TensorFlow's decoder does for uint8 output.
// pngjs and jpeg-js are imported on first use: pngjs needs Node's zlib, and the browser entry
// must load without it (browsers decode images themselves).
import type { PNGWithMetadata } from "pngjs";

export type ImageFormat = "png" | "jpeg";
export type ColorMode = "rgb" | "grayscale" | "rgba";

/** Pixels, row-major, channels interleaved (HWC). */
export interface RawImage {
  width: number;
  height: number;
  channels: number;
  data: Uint8Array | Uint8ClampedArray | Float32Array;
}

/** A decoded file: always RGBA8 in `data`; the rest describes the file. */
export interface DecodedImage extends RawImage {
  channels: 4;
  data: Uint8Array;
  format: ImageFormat;
  /** Channels stored in the file: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA (palette: 3, or 4 with transparency). */
  sourceChannels: 1 | 2 | 3 | 4;
  /** Bits per sample in the file (PNG 1, 2, 4, 8 or 16; JPEG 8). */
  bitDepth: number;
  palette: boolean;
  /** Progressive JPEG or Adam7-interlaced PNG. */
  progressive: boolean;
}

export const COLOR_MODE_CHANNELS: Record<ColorMode, number> = { grayscale: 1, rgb: 3, rgba: 4 };

/** The format from the first bytes; names the common ones we do not read, for the error. */
export function sniffFormat(bytes: Uint8Array): ImageFormat | "bmp" | "gif" | "webp" | "tiff" | "unknown" {
  const b = bytes;
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return "png";
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return "jpeg";
  if (b.length >= 2 && b[0] === 0x42 && b[1] === 0x4d) return "bmp";
  if (b.length >= 4 && b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x38) return "gif";
  if (b.length >= 12 && b[0] === 0x52 && b[1] === 0x49 && b[8] === 0x57 && b[9] === 0x45) return "webp";
  if (b.length >= 4 && ((b[0] === 0x49 && b[1] === 0x49) || (b[0] === 0x4d && b[1] === 0x4d)) && (b[2] === 42 || b[3] === 42)) return "tiff";
  return "unknown";
}

type PngModule = typeof import("pngjs");
type JpegModule = typeof import("jpeg-js");
let pngModule: Promise<PngModule> | null = null;
let jpegModule: Promise<JpegModule> | null = null;
// Both are CommonJS: under Node's ESM loader their exports sit on `default`.
const loadPng = (): Promise<PngModule> =>
  (pngModule ??= import("pngjs").then((m) => ((m as { default?: PngModule }).default ?? m) as PngModule));
const loadJpeg = (): Promise<JpegModule> =>
  (jpegModule ??= import("jpeg-js").then((m) => ((m as { default?: JpegModule }).default ?? m) as JpegModule));

/**
 * Decodes PNG (gray, gray+alpha, RGB, RGBA, palette; 1 to 16 bits; interlaced) or JPEG (baseline
 * and progressive, grayscale and colour). The format comes from the bytes, not the file name.
 * `name` (a path) is put in error messages. Throws on corrupt or truncated data.
 */
export async function decodeImage(bytes: Uint8Array, name = "image"): Promise<DecodedImage> {
  const format = sniffFormat(bytes);
  if (format !== "png" && format !== "jpeg") {
    if (bytes.length === 0) throw new Error(`gpu-cnn: cannot decode ${name}: the file is empty. Fix: replace or remove it.`);
    const what = format === "unknown" ? "not a PNG or JPEG image (unrecognised contents)" : `a ${format.toUpperCase()} image`;
    throw new Error(`gpu-cnn: cannot decode ${name}: it is ${what}; gpu-cnn reads PNG and JPEG only. Fix: convert it to PNG, or remove it.`);
  }
  try {
    return format === "png" ? decodePng(await loadPng(), bytes) : decodeJpeg(await loadJpeg(), bytes);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `gpu-cnn: cannot decode ${name} as ${format.toUpperCase()}: ${reason}. The file is corrupt or truncated. ` +
        `Fix: re-save or remove it (datasets can skip such files with skipBadImages: true).`,
    );
  }
}

function decodePng(png: PngModule, bytes: Uint8Array): DecodedImage {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // skipRescale: we do the depth conversion ourselves, to match TensorFlow (pngjs rounds 16->8).
  const image: PNGWithMetadata = png.PNG.sync.read(buffer, { skipRescale: true });
  const { width, height, depth } = image;
  const colorType: number = image.colorType; // @types/pngjs omits 3 (palette)
  const n = width * height * 4;
  let data: Uint8Array;
  if (depth === 16) {
    const wide = image.data as unknown as Uint16Array;
    data = new Uint8Array(n);
    for (let i = 0; i < n; i++) data[i] = wide[i] >> 8;
  } else if (depth < 8 && colorType !== 3) {
    // Gray at 1, 2 or 4 bits: scale to 0..255 exactly (1-bit 1 -> 255, 4-bit 15 -> 255), as libpng does.
    const scale = 255 / ((1 << depth) - 1);
    data = new Uint8Array(n);
    for (let i = 0; i < n; i++) data[i] = image.data[i] * scale;
  } else {
    data = new Uint8Array(image.data.buffer, image.data.byteOffset, n);
  }
  const hasTransparency = image.alpha; // palette with a tRNS chunk
  const sourceChannels = colorType === 0 ? 1 : colorType === 4 ? 2 : colorType === 2 ? 3 : colorType === 6 ? 4 : hasTransparency ? 4 : 3;
  return {
    width,
    height,
    channels: 4,
    data,
    format: "png",
    sourceChannels,
    bitDepth: depth,
    palette: colorType === 3,
    progressive: image.interlace,
  };
}

function decodeJpeg(jpeg: JpegModule, bytes: Uint8Array): DecodedImage {
  const info = jpegFrame(bytes);
  // tolerantDecoding off: a truncated file is an error, as in TensorFlow (try_recover_truncated=False).
  const image = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, tolerantDecoding: false });
  return {
    width: image.width,
    height: image.height,
    channels: 4,
    data: image.data,
    format: "jpeg",
    sourceChannels: info.components === 1 ? 1 : 3,
    bitDepth: info.precision,
    palette: false,
    progressive: info.progressive,
  };
}

/** Reads the frame header (SOFn) for the component count and whether the file is progressive. */
function jpegFrame(bytes: Uint8Array): { components: number; precision: number; progressive: boolean } {
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) throw new Error(`expected a marker at byte ${at}`);
    const marker = bytes[at + 1];
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    const length = (bytes[at + 2] << 8) | bytes[at + 3];
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC)
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (at + 10 > bytes.length) break;
      return { precision: bytes[at + 4], components: bytes[at + 9], progressive: (marker & 0x3) === 2 };
    }
    if (marker === 0xda || marker === 0xd9) break; // scan data or end before any frame header
    at += 2 + length;
  }
  throw new Error("no frame header (SOF marker) found");
}

/**
 * Keeps the channels of a colour mode, on 8-bit values, as tf.io.decode_image(channels=...) does:
 * "rgb" drops alpha (no compositing), "rgba" adds an opaque one, and "grayscale" takes luma:
 * for PNG libpng's truncating 0.299/0.587/0.114 in 1/32768ths, for JPEG the rounded Y of YCbCr.
 */
export function toColorMode(image: DecodedImage, colorMode: ColorMode): RawImage {
  const channels = COLOR_MODE_CHANNELS[colorMode];
  if (channels === undefined) throw new Error(`gpu-cnn: colorMode must be "rgb", "grayscale" or "rgba", got ${JSON.stringify(colorMode)}`);
  if (channels === 4) return image;
  const src = image.data;
  const pixels = image.width * image.height;
  const out = new Uint8Array(pixels * channels);
  if (channels === 3) {
    for (let p = 0; p < pixels; p++) {
      out[p * 3] = src[p * 4];
      out[p * 3 + 1] = src[p * 4 + 1];
      out[p * 3 + 2] = src[p * 4 + 2];
    }
  } else if (image.format === "png") {
    for (let p = 0; p < pixels; p++) out[p] = (9797 * src[p * 4] + 19234 * src[p * 4 + 1] + 3737 * src[p * 4 + 2]) >> 15;
  } else {
    for (let p = 0; p < pixels; p++) out[p] = Math.round(0.299 * src[p * 4] + 0.587 * src[p * 4 + 1] + 0.114 * src[p * 4 + 2]);
  }
  return { width: image.width, height: image.height, channels, data: out };
}
